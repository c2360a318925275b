//! `/api/saml/auth{YEAR}` (GET/HEAD Redirect binding; POST answered with a same-origin
//! bounce form) and `/api/saml/authpost{YEAR}` (the real POST-binding handler), SPEC 1.
//! Extract, then in one blocking task intake and single sign-on: a browser whose session
//! satisfies the request gets the Response in this same HTTP request; otherwise the request
//! is stored and the browser sent to the missing step.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};

use super::i18n::Locale;
use super::saml_params::SamlParams;
use super::{blocking, cookies, extract, outcome, pages, render, session, AppState, WebError};
use crate::idp::advance::{advance, Browser, Outcome};
use crate::idp::audit;
use crate::idp::complete::Step;
use crate::idp::intake_error::{IntakeCode, IntakeError};
use crate::idp::pending::{token_hash, PendingRequest, PENDING_LIFETIME_MINUTES};
use crate::idp::sso::{intake, SsoOutcome, SsoRequest, SsoSettings};
use crate::registry::ServiceProvider;
use crate::saml::SamlYear;

/// Everything a refusal page needs to know about the request.
struct Reply {
    locale: Locale,
    json: bool,
    help_base: String,
    /// The browser's session and remember-this-browser token hashes, if it sent them.
    session: Option<String>,
    remembered: Option<String>,
}

impl Reply {
    fn new(state: &AppState, req: &HttpRequest, params: Option<&SamlParams>) -> Reply {
        Reply {
            locale: extract::locale(req, params.and_then(SamlParams::locale).as_deref()),
            json: extract::wants_json(req),
            help_base: state.config.base_url.clone(),
            session: session::token_hash_of(req),
            remembered: session::remembered_hash(req),
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
    let params = match SamlParams::parse(req.query_string()) {
        Ok(params) => params,
        Err(e) => return Err(early(&state, Reply::new(&state, &req, None), vec![e]).await),
    };
    let reply = Reply::new(&state, &req, Some(&params));
    handle(state, year, params, reply).await
}

/// A request refused before intake (its parameters or body): audited like the others, then
/// the refusal.
async fn early(state: &AppState, reply: Reply, errors: Vec<IntakeError>) -> WebError {
    let (worker, logged) = (state.clone(), errors.clone());
    let recorded = blocking::run(reply.locale, move || {
        let outcome = audit::Outcome::Refused(&logged);
        audit::record(&worker.deps(), audit::SAML_AUTH_REQUEST, None, outcome)
    })
    .await;
    match recorded {
        Ok(()) => reply.reject(errors),
        Err(e) => e,
    }
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
    let (params, reply) = match body_params(&state, &req, body).await {
        Ok(parsed) => parsed,
        Err((reply, errors)) => return Err(early(&state, reply, errors).await),
    };
    let mut context = render::layout_context(reply.locale);
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
    let (params, reply) = match body_params(&state, &req, body).await {
        Ok(parsed) => parsed,
        Err((reply, errors)) => return Err(early(&state, reply, errors).await),
    };
    handle(state, year, params, reply).await
}

/// The form body, or the query string when the body has no SAMLRequest (partners do both).
async fn body_params(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<(SamlParams, Reply), (Reply, Vec<IntakeError>)> {
    let limit = state.config.limits.body;
    let refused = |e| (Reply::new(state, req, None), vec![e]);
    let Ok(bytes) = extract::read_body(body, limit).await else {
        let detail = format!("the request body is larger than {limit} bytes");
        return Err(refused(IntakeError::with_detail(
            IntakeCode::RequestTooLarge,
            detail,
        )));
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut params = SamlParams::parse(&text).map_err(refused)?;
    if !params.has_saml_request() {
        params = SamlParams::parse(req.query_string()).map_err(refused)?;
    }
    let reply = Reply::new(state, req, Some(&params));
    Ok((params, reply))
}

/// What intake and the single-sign-on decision came to, inside the blocking task.
enum Handled {
    Rejected(Vec<IntakeError>),
    Inactive,
    /// Answered at once: the session satisfied the request (or IsPassive without one).
    Answered(Box<PendingRequest>, Arc<ServiceProvider>, Vec<u8>),
    /// A step is missing; `token` is the pending request's cookie when it was stored.
    Ask(Step, Arc<ServiceProvider>, Option<String>),
}

async fn handle(
    state: web::Data<AppState>,
    year: SamlYear,
    params: SamlParams,
    reply: Reply,
) -> Result<HttpResponse, WebError> {
    let Some(saml_request) = params.saml_request() else {
        let missing = IntakeError::with_detail(
            IntakeCode::NoAuthOrLogoutRequest,
            "no SAMLRequest parameter",
        );
        return Err(early(&state, reply, vec![missing]).await);
    };
    let browser = (reply.session.clone(), reply.remembered.clone());
    let worker = state.clone();
    let handled = blocking::run(reply.locale, move || {
        let relay_state = params.relay_state();
        let input = SsoRequest {
            saml_request: &saml_request,
            relay_state: relay_state.as_deref(),
            query: params.signed_query(),
        };
        decide(&worker, year, &input, browser)
    })
    .await?;
    match handled {
        Handled::Rejected(errors) => Err(reply.reject(errors)),
        Handled::Inactive => Err(WebError::InactiveSp {
            locale: reply.locale,
        }),
        Handled::Answered(pending, sp, xml) => {
            outcome::respond(reply.locale, &sp, &pending, &xml, Vec::new())
        }
        Handled::Ask(step, sp, token) => {
            let mut response = outcome::step(reply.locale, &sp, &step)?;
            if let Some(token) = token {
                let cookie = cookies::build(
                    &state,
                    cookies::PENDING,
                    token,
                    chrono::Duration::minutes(PENDING_LIFETIME_MINUTES),
                );
                response
                    .add_cookie(&cookie)
                    .map_err(|e| WebError::Internal(e.to_string()))?;
            }
            Ok(response)
        }
    }
}

/// Blocking: intake, then single sign-on. A request the browser's session satisfies is
/// answered here, without storing anything; otherwise it is stored for the steps to come
/// (only when the user can complete them).
fn decide(
    state: &AppState,
    year: SamlYear,
    input: &SsoRequest<'_>,
    (session_hash, remembered): (Option<String>, Option<String>),
) -> Result<Handled, crate::idp::Error> {
    let config = &state.config;
    let settings = SsoSettings {
        limits: &config.limits,
        entity_id: &state.entity_id,
        year,
        now: state.clock.now(),
        facial_match_enabled: config.facial_match_enabled,
    };
    let deps = state.deps();
    let event = audit::SAML_AUTH_REQUEST;
    let verified = match intake(input, &settings, &state.sp_cache) {
        SsoOutcome::Accepted(verified) => verified,
        SsoOutcome::Rejected(errors) => {
            audit::record(&deps, event, None, audit::Outcome::Refused(&errors))?;
            return Ok(Handled::Rejected(errors));
        }
        SsoOutcome::Inactive(sp) => {
            audit::record(&deps, event, Some(&sp.issuer), audit::Outcome::Inactive)?;
            return Ok(Handled::Inactive);
        }
    };
    audit::record(
        &deps,
        event,
        Some(&verified.sp.issuer),
        audit::Outcome::Accepted,
    )?;
    let pending = PendingRequest::from_verified(&verified, year, state.clock.now());
    let session = match &session_hash {
        Some(hash) => session::load(state, hash)?,
        None => None,
    };
    let browser = Browser {
        session: session.as_ref(),
        remembered: remembered.as_deref(),
    };
    let (sp, outcome) = advance(&deps, &pending, None, browser)?;
    Ok(match outcome {
        Outcome::Respond(xml) => Handled::Answered(Box::new(pending), sp, xml),
        Outcome::Ask(step) if outcome::is_interactive(&step) => {
            let token = state
                .ids
                .secret_token()
                .ok_or(crate::idp::Error::Random("pending token"))?;
            state.pending.put(&token_hash(&token), &pending)?;
            Handled::Ask(step, sp, Some(token))
        }
        Outcome::Ask(step) => Handled::Ask(step, sp, None),
        // Only a stored request can have been used already; this one was not stored.
        Outcome::AlreadyUsed => Handled::Ask(Step::SignIn, sp, None),
    })
}
