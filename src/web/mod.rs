//! HTTP: actix-web handlers, routes and the error-to-response mapping. Handlers stay short:
//! extract, call `idp`, render.

// Leaves: shared by the handlers, importing no handler.
mod blocking;
pub mod cookies;
pub mod error;
pub mod extract;
pub mod i18n;
mod intake_errors;
mod outcome;
pub mod pages;
mod pending;
mod render;
pub(crate) mod saml_params;
mod session;
mod state;

// Handlers, one module per route group; none imports another.
mod flow;
mod health;
mod home;
mod logout;
mod metadata;
mod sign_in;
mod sso;

pub mod server;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use error::WebError;
pub use state::AppState;

/// Headers on every response: no sniffing, no framing, assets from our own origin only.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add((
            "Content-Security-Policy",
            "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
}

/// SAML endpoints are never cached (SPEC 1), errors included.
fn no_store() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Cache-Control", "no-store"))
        .add(("Pragma", "no-cache"))
}

/// Mounts every route; `main` and the tests build the same application from this.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .app_data(
                web::FormConfig::default()
                    .limit(16 * 1024)
                    .error_handler(|e, _| WebError::InvalidForm(e.to_string()).into()),
            )
            .service(
                web::scope("/api/saml")
                    .wrap(no_store())
                    .route("/metadata{year}", web::get().to(metadata::metadata))
                    .route("/complete", web::get().to(flow::complete))
                    .service(
                        web::resource("/logout{year}")
                            .route(web::get().to(logout::logout))
                            .route(web::post().to(logout::logout))
                            .route(web::delete().to(logout::logout))
                            .default_service(web::to(logout::remote_other)),
                    )
                    .service(
                        web::resource("/remotelogout{year}")
                            .route(web::post().to(logout::remote_logout))
                            .default_service(web::to(logout::remote_other)),
                    )
                    // Before `auth{year}`, which would otherwise take `authpost2026` as a year.
                    .service(
                        web::resource("/authpost{year}")
                            .route(web::post().to(sso::authpost))
                            .default_service(web::to(sso::other_method)),
                    )
                    .service(
                        web::resource("/auth{year}")
                            .route(web::get().to(sso::auth_get))
                            .route(web::head().to(sso::auth_get))
                            .route(web::post().to(sso::auth_post))
                            .default_service(web::to(sso::other_method)),
                    )
                    .default_service(web::to(not_found)),
            )
            .service(
                web::resource("/sign-in")
                    .route(web::get().to(sign_in::form))
                    .route(web::post().to(sign_in::submit)),
            )
            .service(
                web::resource("/sign-in/mfa")
                    .route(web::get().to(sign_in::mfa_form))
                    .route(web::post().to(sign_in::mfa_submit)),
            )
            .service(
                web::resource("/consent")
                    .route(web::get().to(flow::consent_form))
                    .route(web::post().to(flow::consent_submit)),
            )
            .route("/cancel", web::get().to(flow::cancel))
            .route("/sign-out", web::post().to(home::sign_out))
            .route("/help/errors", web::get().to(flow::help_errors))
            .route(
                "/static/auto-submit.js",
                web::get().to(home::auto_submit_js),
            )
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .route("/metrics", web::get().to(health::metrics))
            .route("/static/site.css", web::get().to(home::stylesheet))
            .route("/", web::get().to(home::index));
    }
}

/// Wraps an application with the headers every response carries.
pub fn default_headers() -> DefaultHeaders {
    security_headers()
}

pub async fn not_found() -> Result<actix_web::HttpResponse, WebError> {
    Err(WebError::NotFound)
}
