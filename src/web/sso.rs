//! `/api/saml/auth{YEAR}` (GET/HEAD Redirect binding; POST answered with a same-origin
//! bounce form) and `/api/saml/authpost{YEAR}` (the real POST-binding handler), SPEC 1.
//! Extract, run intake in one blocking task, store the pending request, render.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use tera::Context;

use super::i18n::Locale;
use super::saml_params::SamlParams;
use super::{pages, AppState, WebError};
use crate::idp::intake_error::{IntakeCode, IntakeError};
use crate::idp::pending::{token_hash, PendingRequest, PENDING_LIFETIME_MINUTES};
use crate::idp::sso::{intake, SsoOutcome, SsoRequest, SsoSettings};
use crate::saml::SamlYear;

pub const PENDING_COOKIE: &str = "saml_idp_pending";

/// Everything a refusal page needs to know about the request.
struct Reply {
    locale: Locale,
    json: bool,
    help_base: String,
}

impl Reply {
    fn new(state: &AppState, req: &HttpRequest, params: Option<&SamlParams>) -> Reply {
        let locale = super::flow::locale(req, params.and_then(SamlParams::locale).as_deref());
        let json = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json"));
        Reply {
            locale,
            json,
            help_base: state.config.base_url.clone(),
        }
    }

    fn reject(self, errors: Vec<IntakeError>) -> WebError {
        WebError::Rejected {
            errors,
            locale: self.locale,
            json: self.json,
            help_base: self.help_base,
        }
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
    let params = SamlParams::parse(req.query_string())
        .map_err(|e| Reply::new(&state, &req, None).reject(vec![e]))?;
    let reply = Reply::new(&state, &req, Some(&params));
    handle(state, year, params, reply).await
}

/// POST to the public endpoint: cross-site POSTs carry no `SameSite=Lax` cookie, so bounce
/// the fields to `authpost` on our own origin (which then has the cookies). No cookie here.
pub async fn auth_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    suffix: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, WebError> {
    let year = year(&state, &suffix)?;
    let (params, reply) = body_params(&state, &req, body).await?;
    let mut context = Context::new();
    context.insert("lang", reply.locale.code());
    context.insert("title", reply.locale.t("bounce.title"));
    context.insert("body", reply.locale.t("bounce.body"));
    context.insert("button", reply.locale.t("bounce.button"));
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
    let year = year(&state, &suffix)?;
    let (params, reply) = body_params(&state, &req, body).await?;
    handle(state, year, params, reply).await
}

/// The form body, or the query string when the body has no SAMLRequest (partners do both).
async fn body_params(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<(SamlParams, Reply), WebError> {
    let limit = state.config.limits.body;
    let too_large = || {
        let detail = format!("the request body is larger than {limit} bytes");
        Reply::new(state, req, None).reject(vec![IntakeError::with_detail(
            IntakeCode::RequestTooLarge,
            detail,
        )])
    };
    let bytes = read_body(body, limit).await.map_err(|_| too_large())?;
    let text = String::from_utf8_lossy(&bytes);
    let malformed = |e| Reply::new(state, req, None).reject(vec![e]);
    let mut params = SamlParams::parse(&text).map_err(malformed)?;
    if !params.has_saml_request() {
        params = SamlParams::parse(req.query_string()).map_err(malformed)?;
    }
    let reply = Reply::new(state, req, Some(&params));
    Ok((params, reply))
}

/// Reads at most `limit` bytes; more is an error, and the rest is never buffered.
async fn read_body(mut body: web::Payload, limit: usize) -> Result<web::BytesMut, ()> {
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| ())?;
        if bytes.len() + chunk.len() > limit {
            return Err(());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

async fn handle(
    state: web::Data<AppState>,
    year: SamlYear,
    params: SamlParams,
    reply: Reply,
) -> Result<HttpResponse, WebError> {
    let Some(saml_request) = params.saml_request() else {
        return Err(reply.reject(vec![IntakeError::with_detail(
            IntakeCode::NoAuthOrLogoutRequest,
            "no SAMLRequest parameter",
        )]));
    };
    let token = state
        .ids
        .secret_token()
        .ok_or(WebError::Internal("random generator failed".into()))?;
    let worker = state.clone();
    let token_for_store = token.clone();
    let outcome = web::block(move || {
        let config = &worker.config;
        let entity_id = config.entity_id();
        let live_years = worker.live_years();
        let settings = SsoSettings {
            limits: &config.limits,
            entity_id: &entity_id,
            live_years: &live_years,
            facial_match_enabled: config.facial_match_enabled,
        };
        let relay_state = params.relay_state();
        let input = SsoRequest {
            saml_request: &saml_request,
            relay_state: relay_state.as_deref(),
            query: params.signed_query(),
        };
        let outcome = intake(&input, &settings, &worker.sp_cache);
        if let SsoOutcome::Accepted(verified) = &outcome {
            let pending = PendingRequest::from_verified(verified, year, worker.clock.now());
            worker
                .pending
                .put(&token_hash(&token_for_store), &pending)
                .map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(outcome)
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(WebError::DatabaseUnavailable)?;
    match outcome {
        SsoOutcome::Accepted(_) => Ok(to_sign_in(&state, &token, reply.locale)),
        SsoOutcome::Rejected(errors) => Err(reply.reject(errors)),
        SsoOutcome::Inactive(_) => Err(WebError::InactiveSp {
            locale: reply.locale,
        }),
    }
}

/// 303 to the sign-in page, with the pending request's cookie.
fn to_sign_in(state: &AppState, token: &str, locale: Locale) -> HttpResponse {
    let cookie = super::session::cookie(
        state,
        PENDING_COOKIE,
        token.to_string(),
        chrono::Duration::minutes(PENDING_LIFETIME_MINUTES),
    );
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/sign-in?locale={}", locale.code()),
        ))
        .cookie(cookie)
        .finish()
}

/// Any other method on an SSO path: 404 unless the year is live, then 405.
pub async fn other_method(
    state: web::Data<AppState>,
    suffix: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    year(&state, &suffix)?;
    Err(WebError::MethodNotAllowed)
}
