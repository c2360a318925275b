//! `/api/saml/logout{YEAR}` (GET, POST, DELETE: front-channel) and
//! `/api/saml/remotelogout{YEAR}` (POST: back-channel), SPEC 9.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::idp::audit;
use crate::idp::intake::{IntakeCode, IntakeError};
use crate::idp::logout::front_channel::{front_channel, FrontChannel, Reply};
use crate::idp::logout::remote::{remote, RemoteAnswer};
use crate::idp::saml_params::SamlParams;
use crate::idp::token::TokenHash;
use crate::saml::SamlYear;
use crate::web::extract::BrowserSession;
use crate::web::i18n::Locale;
use crate::web::render::{self, Outgoing};
use crate::web::{blocking, cookies, extract, session, AppState, WebError};

fn live_year(state: &AppState, suffix: &str) -> Result<SamlYear, WebError> {
    state.live_year(suffix).ok_or(WebError::NotFound)
}

/// Query string or form body (partners do both); at most `limit` bytes of body.
async fn params(
    state: &AppState,
    req: &HttpRequest,
    body: web::Payload,
) -> Result<SamlParams, IntakeError> {
    let limit = state.config.limits.body;
    let bytes = extract::read_body(body, limit).await.map_err(|_| {
        let detail = format!("the request body is larger than {limit} bytes");
        IntakeError::with_detail(IntakeCode::RequestTooLarge, detail)
    })?;
    let from_body = SamlParams::parse(&String::from_utf8_lossy(&bytes))?;
    if from_body.has_saml_request() {
        return Ok(from_body);
    }
    SamlParams::parse(req.query_string())
}

/// Front-channel logout. Without a SAMLRequest: a "Sign out?" page whose button POSTs to
/// `/sign-out` with the session's CSRF token (SPEC 7: a link from any site must not end a
/// session), or home when there is no session. With one: verify it, end this browser's IdP
/// session, post the LogoutResponse to the SP's registered logout URL. A refused request
/// leaves the user signed in.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    suffix: web::Path<String>,
    body: web::Payload,
    BrowserSession(browser): BrowserSession,
) -> Result<HttpResponse, WebError> {
    let year = live_year(&state, &suffix)?;
    let locale = extract::locale(&req, None);
    let client = extract::client_address(&state, &req);
    let binding = super::binding_of(&req);
    let reject = |errors, reference| WebError::Rejected {
        errors,
        note: Box::new(crate::web::intake_errors::RejectionNote {
            reference,
            ..Default::default()
        }),
        locale,
        json: false,
        help_base: state.config.base_url.clone(),
    };
    let params = match params(&state, &req, body).await {
        Ok(params) => params,
        Err(e) => {
            let (worker, errors) = (state.clone(), vec![e]);
            let logged = errors.clone();
            let reference = blocking::run(locale, move || {
                let outcome = audit::Outcome::Refused(&logged);
                audit::record(
                    &worker.deps_for(&client),
                    crate::sessions::AuditKind::LogoutInitiated,
                    None,
                    binding,
                    outcome,
                )
            })
            .await?;
            return Err(reject(errors, reference));
        }
    };
    let current = session::token_hash_of(&req);
    let Some(saml_request) = params.saml_request() else {
        return match browser {
            Some(session) => confirm_sign_out(locale, &session.csrf_token),
            None => Ok(render::redirect("/")),
        };
    };
    let worker = state.clone();
    let relay_state = params.relay_state();
    let reply = blocking::quick(&state, locale, move || {
        let limits = &worker.config.limits;
        let query = params.signed_query();
        front_channel(
            &worker.deps_for(&client),
            year,
            &saml_request,
            query.as_ref(),
            binding,
            limits,
        )
    })
    .await?;
    let FrontChannel { xml, logout_url } = match reply {
        Reply::Answer(answer) => answer,
        Reply::Refused(errors, reference) => return Err(reject(errors, reference)),
    };
    end_session(&state, current, locale).await?;
    let out = Outgoing {
        prefix: "logout",
        action: &logout_url,
        xml: &xml,
        relay_state: relay_state.as_deref(),
    };
    let mut response = render::post_message(locale, None, &out)?;
    response
        .add_removal_cookie(&cookies::removal(&state, cookies::SESSION))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}

/// The "Sign out?" page: its button POSTs to `/sign-out` with the session's CSRF token.
fn confirm_sign_out(locale: Locale, csrf: &str) -> Result<HttpResponse, WebError> {
    let mut context = render::page_context(locale, "signout.title", None);
    context.insert("csrf", csrf);
    render::page("sign_out.html", &context, Vec::new(), 200)
}

async fn end_session(
    state: &AppState,
    token_hash: Option<TokenHash>,
    locale: Locale,
) -> Result<(), WebError> {
    let Some(hash) = token_hash else {
        return Ok(());
    };
    let worker = state.clone();
    blocking::run(locale, move || {
        crate::idp::session::end(worker.deps().sessions, &hash)
    })
    .await
}

/// Back-channel logout: every refusal is 400 with an empty body, and the user lookup runs
/// whether or not the earlier checks passed, so the timing does not tell whether a UUID
/// exists. A database that cannot be reached is 503 (the SP may retry), never a refusal.
pub async fn remote_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    suffix: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, WebError> {
    let year = live_year(&state, &suffix)?;
    let refused = || HttpResponse::BadRequest().finish();
    let Ok(params) = params(&state, &req, body).await else {
        return Ok(refused());
    };
    let Some(saml_request) = params.saml_request() else {
        return Ok(refused());
    };
    let (worker, locale) = (state.clone(), extract::locale(&req, None));
    let client = extract::client_address(&state, &req);
    let answer = blocking::quick(&state, locale, move || {
        remote(
            &worker.deps_for(&client),
            year,
            &saml_request,
            &worker.config.limits,
        )
    })
    .await?;
    match answer {
        RemoteAnswer::Accepted(xml) => Ok(HttpResponse::Ok()
            .content_type("text/xml; charset=utf-8")
            .body(xml)),
        RemoteAnswer::Refused(_) => Ok(refused()),
        RemoteAnswer::Unavailable => Err(WebError::DatabaseUnavailable(
            "remote logout: the session store cannot be reached".into(),
        )),
    }
}
