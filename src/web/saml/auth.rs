//! `/api/saml/auth{YEAR}` (GET/HEAD Redirect binding; POST answered with a same-origin
//! bounce form) and `/api/saml/authpost{YEAR}` (the real POST-binding handler), SPEC 1.
//! Extract the parameters and the browser's cookies, call `idp::sso::authn` once in a
//! blocking task, render its reply.

use actix_web::{web, HttpRequest, HttpResponse};

use super::reply::{self, Refusal};
use crate::idp::audit;
use crate::idp::intake::authn::Settings;
use crate::idp::intake::{Inbound, IntakeCode, IntakeError};
use crate::idp::saml_params::SamlParams;
use crate::idp::sso::{self, Browser};
use crate::saml::SamlYear;
use crate::web::{blocking, extract, pages, render, session, AppState, WebError};

fn refusal(state: &AppState, req: &HttpRequest, params: Option<&SamlParams>) -> Refusal {
    Refusal {
        locale: extract::locale(req, params.and_then(SamlParams::locale).as_deref()),
        json: extract::wants_json(req),
        help_base: state.config.base_url.clone(),
    }
}

fn year(state: &AppState, suffix: &str) -> Result<SamlYear, WebError> {
    state.live_year(suffix).ok_or(WebError::NotFound)
}

/// GET/HEAD: the Redirect binding.
pub async fn auth_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    suffix: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let year = year(&state, &suffix)?;
    let params = match SamlParams::parse(req.query_string()) {
        Ok(params) => params,
        Err(e) => return Err(early(&state, &req, refusal(&state, &req, None), vec![e]).await),
    };
    handle(state, &req, year, params).await
}

/// POST to the public endpoint: cross-site POSTs carry no `SameSite=Lax` cookie, so bounce
/// the fields to `authpost` on our own origin (which then has the cookies). No cookie here.
pub async fn auth_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    suffix: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (year, params) = posted(&state, &req, &suffix, body).await?;
    let locale = refusal(&state, &req, Some(&params)).locale;
    let mut context = render::layout_context(locale);
    context.insert("title", locale.t("bounce.title"));
    context.insert("body", locale.t("bounce.body"));
    context.insert("button", locale.t("bounce.button"));
    context.insert("action", &format!("/api/saml/authpost{year}"));
    context.insert("fields", &params.decoded_fields());
    let html = pages::render("post_form.html", &context)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// POST from our own bounce form: the POST binding proper.
pub async fn authpost(
    state: web::Data<AppState>,
    req: HttpRequest,
    suffix: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, WebError> {
    let (year, params) = posted(&state, &req, &suffix, body).await?;
    handle(state, &req, year, params).await
}

/// The live year and the parameters of a POST (a refusal is audited first).
async fn posted(
    state: &AppState,
    req: &HttpRequest,
    suffix: &str,
    body: web::Payload,
) -> Result<(SamlYear, SamlParams), WebError> {
    let year = year(state, suffix)?;
    match body_params(state, req, body).await {
        Ok(params) => Ok((year, params)),
        Err((refused, errors)) => Err(early(state, req, refused, errors).await),
    }
}

/// A request refused before intake (its parameters or body): audited like the others, then
/// the refusal.
async fn early(
    state: &AppState,
    req: &HttpRequest,
    refused: Refusal,
    errors: Vec<IntakeError>,
) -> WebError {
    let (worker, logged) = (state.clone(), errors.clone());
    let client = extract::client_address(state, req);
    let binding = super::binding_of(req);
    let recorded = blocking::run(refused.locale, move || {
        let outcome = audit::Outcome::Refused(&logged);
        audit::record(
            &worker.deps_for(&client),
            crate::sessions::AuditKind::SamlAuthRequest,
            None,
            binding,
            outcome,
        )
    })
    .await;
    match recorded {
        Ok(reference) => WebError::Rejected {
            errors,
            note: Box::new(crate::web::intake_errors::RejectionNote {
                reference,
                ..Default::default()
            }),
            locale: refused.locale,
            json: refused.json,
            help_base: refused.help_base,
        },
        Err(e) => e,
    }
}

/// The form body, or the query string when the body has no SAMLRequest (partners do both).
async fn body_params(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<SamlParams, (Refusal, Vec<IntakeError>)> {
    let limit = state.config.limits.body;
    let refused = |e| (refusal(state, req, None), vec![e]);
    let Ok(bytes) = extract::read_body(body, limit).await else {
        let detail = format!("the request body is larger than {limit} bytes");
        let code = IntakeCode::RequestTooLarge;
        return Err(refused(IntakeError::with_detail(code, detail)));
    };
    let params = SamlParams::parse(&String::from_utf8_lossy(&bytes)).map_err(refused)?;
    if params.has_saml_request() {
        return Ok(params);
    }
    SamlParams::parse(req.query_string()).map_err(refused)
}

/// Intake and single sign-on in one blocking task, then the page.
async fn handle(
    state: web::Data<AppState>,
    req: &HttpRequest,
    year: SamlYear,
    params: SamlParams,
) -> Result<HttpResponse, WebError> {
    let refused = refusal(&state, req, Some(&params));
    let Some(saml_request) = params.saml_request() else {
        let detail = "no SAMLRequest parameter";
        let missing = IntakeError::with_detail(IntakeCode::NoAuthOrLogoutRequest, detail);
        return Err(early(&state, req, refused, vec![missing]).await);
    };
    let browser = Browser {
        session: session::token_hash_of(req),
        remembered: session::remembered_hash(req),
    };
    let worker = state.clone();
    let client = extract::client_address(&state, req);
    let binding = super::binding_of(req);
    let reply = blocking::quick(&state, refused.locale, move || {
        let config = &worker.config;
        let deps = worker.deps_for(&client);
        let settings = Settings {
            limits: &config.limits,
            entity_id: &worker.entity_id,
            year,
            now: deps.now,
            facial_match_enabled: config.facial_match_enabled,
        };
        let relay_state = params.relay_state();
        let input = Inbound {
            saml_request: &saml_request,
            relay_state: relay_state.as_deref(),
            query: params.signed_query(),
            binding,
        };
        sso::authn(&deps, &settings, &input, &browser)
    })
    .await?;
    reply::render(&state, reply, refused, Vec::new())
}
