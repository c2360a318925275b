//! HTTP: actix-web handlers, routes and the error-to-response mapping. Handlers stay short:
//! extract, call `idp`, render.

pub mod error;
mod health;
mod home;
mod metadata;
pub mod pages;
pub mod server;
mod state;

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
            "default-src 'self'; frame-ancestors 'none'; base-uri 'none'",
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
            .service(
                web::scope("/api/saml")
                    .wrap(no_store())
                    .route("/metadata{year}", web::get().to(metadata::metadata))
                    .default_service(web::to(not_found)),
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
