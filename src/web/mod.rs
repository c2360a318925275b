//! HTTP: actix-web handlers, routes and the error-to-response mapping. Handlers stay short:
//! extract, call `idp`, render.

// Leaves: shared by the handlers, importing no handler.
mod blocking;
pub mod console_view;
pub mod cookies;
pub mod decode_view;
pub mod error;
pub mod extract;
pub mod i18n;
mod intake_errors;
pub mod page_frame;
pub mod pages;
mod password_page;
mod post_page;
mod qr;
mod render;
pub mod request_guard;
mod session;
mod state;

// Handlers, one module per route group; none imports another.
mod account;
pub mod console;
mod demo_sp;
mod health;
mod help;
mod home;
pub mod observe;
mod recovery;
mod saml;
mod security_keys;
mod sign_in;
mod sign_up;
mod tools;

pub mod server;

use actix_web::error::UrlencodedError;
use actix_web::middleware::DefaultHeaders;
use actix_web::{guard, web, HttpResponse, Resource};

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

/// SAML endpoints are never cached (SPEC 1), errors included; nor is any page (SPEC 7:
/// pages show secrets or belong to a session). Only what sets its own `Cache-Control` (the
/// static assets) may be.
fn no_store() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Cache-Control", "no-store"))
        .add(("Pragma", "no-cache"))
}

/// GET, and HEAD wherever GET works (SPEC 1; actix sends HEAD answers without a body).
fn get_or_head() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// A resource whose other methods get 405 with `Allow: {allow}`.
fn resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move || async move {
        Err::<HttpResponse, _>(WebError::MethodNotAllowed(allow))
    }))
}

/// A year-suffixed SAML resource: a year that is not live is 404 for every method; a live
/// one answers other methods with 405 and `Allow: {allow}`.
fn year_resource(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(
        move |state: web::Data<AppState>, suffix: web::Path<String>| async move {
            state.live_year(&suffix).ok_or(WebError::NotFound)?;
            Err::<HttpResponse, _>(WebError::MethodNotAllowed(allow))
        },
    ))
}

/// A form body that does not parse is 400; one that is not a form at all is 415.
fn form_error(e: UrlencodedError) -> actix_web::Error {
    match e {
        UrlencodedError::ContentType | UrlencodedError::Encoding => {
            WebError::UnsupportedMediaType.into()
        }
        other => WebError::InvalidForm(other.to_string()).into(),
    }
}

/// Mounts every route; `main` and the tests build the same application from this.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) {
    let state_has_demo = state.demo_sp.is_some();
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .app_data(
                web::FormConfig::default()
                    .limit(16 * 1024)
                    .error_handler(|e, _| form_error(e)),
            )
            .service(routes(state_has_demo));
    }
}

/// Every route, behind the check that a POST body is a UTF-8 form (SPEC 1: 415 otherwise,
/// before any extractor reads it).
fn routes(
    demo: bool,
) -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("")
        .wrap(actix_web::middleware::from_fn(require_form_posts))
        .wrap(actix_web::middleware::from_fn(guard_requests))
        .wrap(no_store())
        .wrap(actix_web::middleware::from_fn(localize_errors))
        .wrap(actix_web::middleware::from_fn(frame_pages))
        .wrap(actix_web::middleware::from_fn(observe::observe))
        .default_service(web::to(not_found))
        .service(saml_scope())
        .service(console_api_scope())
        .service(console_scope())
        .service(
            resource("/sign-in", "GET, HEAD, POST")
                .route(get_or_head().to(sign_in::form))
                .route(web::post().to(sign_in::submit)),
        )
        .service(
            resource("/sign-in/mfa", "GET, HEAD, POST")
                .route(get_or_head().to(sign_in::mfa_form))
                .route(web::post().to(sign_in::mfa_submit)),
        )
        .service(
            resource("/sign-in/security-key/options", "POST")
                .route(web::post().to(sign_in::key_options)),
        )
        .service(
            resource("/sign-in/security-key", "POST").route(web::post().to(sign_in::key_submit)),
        )
        .service(
            resource("/account/security-keys", "GET, HEAD, POST")
                .route(get_or_head().to(security_keys::page))
                .route(web::post().to(security_keys::add)),
        )
        .service(
            resource("/account/security-keys/options", "POST")
                .route(web::post().to(security_keys::options)),
        )
        .service(
            resource("/account/security-keys/{id}/remove", "POST")
                .route(web::post().to(security_keys::remove)),
        )
        .service(
            resource("/consent", "GET, HEAD, POST")
                .route(get_or_head().to(saml::complete::consent_form))
                .route(web::post().to(saml::complete::consent_submit)),
        )
        .service(
            resource("/sign-up", "GET, HEAD, POST")
                .route(get_or_head().to(sign_up::email_form))
                .route(web::post().to(sign_up::email_submit)),
        )
        .service(
            resource("/sign-up/confirm", "GET, HEAD, POST")
                .route(get_or_head().to(sign_up::confirm_form))
                .route(web::post().to(sign_up::confirm_submit)),
        )
        .service(
            resource("/sign-up/second-factor", "GET, HEAD")
                .route(get_or_head().to(sign_up::second_factor_form)),
        )
        .service(resource("/sign-up/totp", "POST").route(web::post().to(sign_up::totp_submit)))
        .service(
            resource("/sign-up/security-key", "GET, HEAD, POST")
                .route(get_or_head().to(sign_up::key_form))
                .route(web::post().to(sign_up::key_submit)),
        )
        .service(
            resource("/sign-up/security-key/options", "POST")
                .route(web::post().to(sign_up::key_options)),
        )
        .service(
            resource("/forgot-password", "GET, HEAD, POST")
                .route(get_or_head().to(recovery::email_form))
                .route(web::post().to(recovery::email_submit)),
        )
        .service(
            resource("/reset-password", "GET, HEAD, POST")
                .route(get_or_head().to(recovery::reset_form))
                .route(web::post().to(recovery::reset_submit)),
        )
        .configure(account_routes)
        .service(resource("/cancel", "GET, HEAD").route(get_or_head().to(saml::complete::cancel)))
        .service(
            resource("/tools/saml-request", "GET, HEAD, POST")
                .route(get_or_head().to(tools::form))
                .route(web::post().to(tools::submit)),
        )
        .service(resource("/sign-out", "POST").route(web::post().to(home::sign_out)))
        .service(resource("/help/errors", "GET, HEAD").route(get_or_head().to(help::errors)))
        .service(
            resource("/static/auto-submit.js", "GET, HEAD")
                .route(get_or_head().to(home::auto_submit_js)),
        )
        .service(
            resource("/static/webauthn.js", "GET, HEAD").route(get_or_head().to(home::webauthn_js)),
        )
        .service(
            resource("/static/site.css", "GET, HEAD").route(get_or_head().to(home::stylesheet)),
        )
        .service(
            resource("/static/show-password.js", "GET, HEAD")
                .route(get_or_head().to(home::show_password_js)),
        )
        .service(
            resource("/static/console.js", "GET, HEAD").route(get_or_head().to(home::console_js)),
        )
        .service(resource("/healthz", "GET, HEAD").route(get_or_head().to(health::healthz)))
        .service(resource("/readyz", "GET, HEAD").route(get_or_head().to(health::readyz)))
        .service(resource("/metrics", "GET, HEAD").route(get_or_head().to(health::metrics)))
        .service(resource("/", "GET, HEAD").route(get_or_head().to(home::index)))
        .configure(move |cfg| {
            if demo {
                demo_sp_routes(cfg);
            }
        })
}

/// The demo SP (SPEC 20), mounted only when there is one: otherwise every `/demo-sp` path is
/// the plain 404 of an unknown path.
fn demo_sp_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/demo-sp", "GET, HEAD").route(get_or_head().to(demo_sp::slash)))
        .service(resource("/demo-sp/", "GET, HEAD").route(get_or_head().to(demo_sp::home)))
        .service(resource("/demo-sp/login", "GET, HEAD").route(get_or_head().to(demo_sp::login)))
        .service(resource("/demo-sp/acs", "POST").route(web::post().to(demo_sp::acs)))
        .service(resource("/demo-sp/logout", "POST").route(web::post().to(demo_sp::logout)))
        .service(resource("/demo-sp/slo", "POST").route(web::post().to(demo_sp::slo)));
}

/// The account page (SPEC 17): the page, re-authentication, and one route per form.
fn account_routes(cfg: &mut web::ServiceConfig) {
    let post = |path: &str, handler| resource(path, "POST").route(handler);
    cfg.service(resource("/account", "GET, HEAD").route(get_or_head().to(account::page)))
        .service(
            resource("/account/reauthenticate", "GET, HEAD, POST")
                .route(get_or_head().to(account::reauth_form))
                .route(web::post().to(account::reauth_submit)),
        )
        .service(post(
            "/account/emails",
            web::post().to(account::emails::add),
        ))
        .service(
            resource("/account/emails/confirm", "GET, HEAD, POST")
                .route(get_or_head().to(account::emails::confirm_form))
                .route(web::post().to(account::emails::confirm_submit)),
        )
        .service(post(
            "/account/emails/{id}/remove",
            web::post().to(account::emails::remove),
        ))
        .service(post(
            "/account/emails/{id}/for-sp",
            web::post().to(account::emails::choose_for_sps),
        ))
        .service(post(
            "/account/password",
            web::post().to(account::security::password),
        ))
        .service(post(
            "/account/totp",
            web::post().to(account::security::totp_start),
        ))
        .service(post(
            "/account/totp/confirm",
            web::post().to(account::security::totp_confirm),
        ))
        .service(post(
            "/account/totp/remove",
            web::post().to(account::security::totp_remove),
        ))
        .service(post(
            "/account/backup-codes",
            web::post().to(account::security::backup_codes),
        ))
        .service(post(
            "/account/connected/revoke",
            web::post().to(account::leave::revoke),
        ))
        .service(post(
            "/account/sign-out-everywhere",
            web::post().to(account::leave::everywhere),
        ))
        .service(post(
            "/account/delete",
            web::post().to(account::leave::delete),
        ));
}

/// Every page of the request gets its frame (the organization's name, the language links);
/// a valid `locale` parameter is remembered in a cookie, so the choice holds on the next
/// page without one (SPEC 15).
async fn frame_pages(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let query = req.query_string();
    let chosen = page_frame::chosen_locale(query);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let frame = page_frame::Frame {
        brand: state
            .as_ref()
            .map(|s| s.config.organization.display_name.clone())
            .unwrap_or_default(),
        query: page_frame::without_locale(query),
    };
    let mut response = page_frame::scope(frame, next.call(req)).await?;
    if let (Some(locale), Some(state)) = (chosen, state) {
        let year = chrono::Duration::days(365);
        let cookie = cookies::build(&state, cookies::LOCALE, locale.code().to_string(), year);
        response
            .response_mut()
            .add_cookie(&cookie)
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    Ok(response)
}

/// Error pages that carry no language of their own (404, 405, 415, 503, …) are shown in the
/// request's (`locale` parameter, else `Accept-Language`, SPEC 14).
async fn localize_errors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let locale = extract::Lang::of(req.request());
    let response = next.call(req).await?;
    let localized = response
        .response()
        .error()
        .and_then(|e| e.as_error::<WebError>())
        .and_then(|e| e.localize(locale));
    Ok(match localized {
        Some(mut page) => {
            // Keep what inner layers set (e.g. `Cache-Control: no-store` on SAML endpoints).
            for (name, value) in response.headers() {
                let body_header = name == actix_web::http::header::CONTENT_TYPE
                    || name == actix_web::http::header::CONTENT_LENGTH;
                if !body_header && !page.headers().contains_key(name) {
                    page.headers_mut().insert(name.clone(), value.clone());
                }
            }
            response.into_response(page).map_into_right_body()
        }
        None => response.map_into_left_body(),
    })
}

/// The console API's prefix: JSON bodies and bearer tokens.
const CONSOLE_API: &str = "/console/api/";

/// The middleware: the limiter first (nothing else runs over it), then the cross-site check.
async fn guard_requests(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let class = request_guard::class_of(req.method(), req.path());
    if let Some(class) = class {
        let client = extract::client_address(&state, req.request());
        if !state.guard.allow(class, &client) {
            crate::metrics::METRICS.refused(match class {
                request_guard::Class::Saml => "client_limit_saml",
                request_guard::Class::Post => "client_limit_form",
            });
            return Ok(req
                .error_response(WebError::TooManyRequests)
                .map_into_right_body());
        }
    }
    // SAML endpoints take cross-site posts by design; the console API is authenticated by
    // bearer tokens, never cookies, so another site's page cannot act with them.
    let exempt = req.path().starts_with("/api/saml/") || req.path().starts_with(CONSOLE_API);
    if req.method() == actix_web::http::Method::POST && !exempt {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        if state
            .guard
            .is_cross_site(header("sec-fetch-site"), header("origin"))
        {
            crate::metrics::METRICS.refused("cross_site_post");
            return Ok(req
                .error_response(WebError::CrossSite)
                .map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

async fn require_form_posts(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    if req.path().starts_with(CONSOLE_API) {
        // JSON, checked by the API's own extractor (415 with a JSON body).
        return Ok(next.call(req).await?.map_into_left_body());
    }
    if let Err(refused) = extract::check_form_body(req.request()) {
        return Ok(req.error_response(refused).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// `/console/…`: the SP administrators' pages (SPEC 19); forms up to 256 KiB (metadata and
/// certificates are pasted).
fn console_scope() -> actix_web::Scope {
    use console::{new_sp, pages, reports};
    let forms = web::FormConfig::default()
        .limit(256 * 1024)
        .error_handler(|e, _| form_error(e));
    web::scope("/console")
        .app_data(forms)
        .service(resource("", "GET, HEAD").route(get_or_head().to(pages::list)))
        .service(resource("/metadata", "GET, HEAD").route(get_or_head().to(reports::idp_metadata)))
        .service(
            resource("/new", "GET, HEAD, POST")
                .route(get_or_head().to(new_sp::new_form))
                .route(web::post().to(new_sp::create)),
        )
        .service(resource("/new/metadata", "POST").route(web::post().to(new_sp::from_metadata)))
        .service(
            resource("/sps/{id}", "GET, HEAD, POST")
                .route(get_or_head().to(pages::show))
                .route(web::post().to(pages::save)),
        )
        .service(
            resource("/sps/{id}/certificates", "POST")
                .route(web::post().to(pages::add_certificates)),
        )
        .service(
            resource("/sps/{id}/certificates/{sha256}/remove", "GET, HEAD, POST")
                .route(get_or_head().to(pages::confirm_removal))
                .route(web::post().to(pages::remove_certificate)),
        )
        .service(resource("/sps/{id}/events", "GET, HEAD").route(get_or_head().to(reports::events)))
}

/// `/console/api/v1/…`: JSON in and out, bearer tokens (SPEC 19).
fn console_api_scope() -> actix_web::Scope {
    use console::api;
    let json = web::JsonConfig::default()
        .limit(api::MAX_BODY)
        .error_handler(|e, _| api::json_error(e).into());
    // A query that does not parse (`?limit=abc`) is a JSON 400 like every other refusal.
    let query = web::QueryConfig::default().error_handler(|e, _| {
        WebError::api(
            actix_web::http::StatusCode::BAD_REQUEST,
            "invalid_query",
            e.to_string(),
        )
        .into()
    });
    web::scope("/console/api/v1")
        .app_data(json)
        .app_data(query)
        .service(
            resource("/openapi.json", "GET, HEAD")
                .route(get_or_head().to(console::openapi::openapi_json)),
        )
        .service(
            resource("/sps", "GET, HEAD, POST")
                .route(get_or_head().to(api::list))
                .route(web::post().to(api::create)),
        )
        .service(
            resource("/sps/{id}", "GET, HEAD, PATCH, DELETE")
                .route(get_or_head().to(api::show))
                .route(web::patch().to(api::patch))
                .route(web::delete().to(api::deactivate)),
        )
        .service(
            resource("/sps/{id}/certificates", "POST").route(web::post().to(api::add_certificate)),
        )
        .service(
            resource("/sps/{id}/certificates/{sha256}", "DELETE")
                .route(web::delete().to(api::remove_certificate)),
        )
        .service(resource("/sps/{id}/events", "GET, HEAD").route(get_or_head().to(api::events)))
}

/// `/api/saml/…`: never cached.
fn saml_scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/api/saml")
        .wrap(no_store())
        .service(
            year_resource("/metadata{year}", "GET, HEAD")
                .route(get_or_head().to(saml::metadata::metadata)),
        )
        .service(
            resource("/metadata", "GET, HEAD")
                .route(get_or_head().to(saml::metadata::without_year)),
        )
        .service(
            resource("/complete", "GET, HEAD").route(get_or_head().to(saml::complete::complete)),
        )
        .service(
            year_resource("/logout{year}", "GET, HEAD, POST, DELETE")
                .route(get_or_head().to(saml::logout::logout))
                .route(web::post().to(saml::logout::logout))
                .route(web::delete().to(saml::logout::logout)),
        )
        .service(
            year_resource("/remotelogout{year}", "POST")
                .route(web::post().to(saml::logout::remote_logout)),
        )
        // Before `auth{year}`, which would otherwise take `authpost2026` as a year.
        .service(
            year_resource("/authpost{year}", "POST").route(web::post().to(saml::auth::authpost)),
        )
        .service(
            year_resource("/auth{year}", "GET, HEAD, POST")
                .route(get_or_head().to(saml::auth::auth_get))
                .route(web::post().to(saml::auth::auth_post)),
        )
        .default_service(web::to(not_found))
}

/// Wraps an application with the headers every response carries.
pub fn default_headers() -> DefaultHeaders {
    security_headers()
}

pub async fn not_found() -> Result<HttpResponse, WebError> {
    Err(WebError::NotFound)
}
