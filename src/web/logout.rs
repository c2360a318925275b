//! `/api/saml/logout{YEAR}` (GET, POST, DELETE: front-channel) and
//! `/api/saml/remotelogout{YEAR}` (POST: back-channel), SPEC 9.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use super::flow;
use super::saml_params::SamlParams;
use super::session::{self, SESSION_COOKIE};
use super::{AppState, WebError};
use crate::crypto::KeyRing;
use crate::idp::intake_error::{IntakeCode, IntakeError};
use crate::idp::logout::{check_remote, intake, VerifiedLogoutRequest};
use crate::idp::response::{wrap, Envelope};
use crate::saml::SamlYear;
use crate::sessions::AuditEvent;

fn live_year(state: &AppState, suffix: &str) -> Result<SamlYear, WebError> {
    state.live_year(suffix).ok_or(WebError::NotFound)
}

/// Query string or form body (partners do both); at most `limit` bytes of body.
async fn params(
    state: &AppState,
    req: &HttpRequest,
    mut body: web::Payload,
) -> Result<SamlParams, IntakeError> {
    let limit = state.config.limits.body;
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk
            .map_err(|e| IntakeError::with_detail(IntakeCode::MalformedRequest, e.to_string()))?;
        if bytes.len() + chunk.len() > limit {
            let detail = format!("the request body is larger than {limit} bytes");
            return Err(IntakeError::with_detail(
                IntakeCode::RequestTooLarge,
                detail,
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    let from_body = SamlParams::parse(&String::from_utf8_lossy(&bytes))?;
    if from_body.has_saml_request() {
        return Ok(from_body);
    }
    SamlParams::parse(req.query_string())
}

/// The LogoutResponse (Success) to a verified request, signed when the SP asks.
fn logout_response(
    state: &AppState,
    keys: &KeyRing,
    year: SamlYear,
    v: &VerifiedLogoutRequest,
) -> Result<Vec<u8>, String> {
    let key = keys.get(year).ok_or("no key for the year")?;
    let entity_id = state.config.entity_id();
    let envelope = Envelope {
        element: "samlp:LogoutResponse",
        destination: &v.logout_url,
        in_response_to: &v.request.id,
        issuer: &entity_id,
        now: state.clock.now(),
        sign: v.sp.signed_response_message_requested,
    };
    wrap(&envelope, None, None, key, state.ids.as_ref()).map_err(|e| e.to_string())
}

/// Front-channel logout. Without a SAMLRequest: sign out and go home. With one: verify it,
/// end this browser's IdP session, post the LogoutResponse to the SP's registered logout URL.
/// A refused request leaves the user signed in.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    suffix: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, WebError> {
    let year = live_year(&state, &suffix)?;
    let locale = flow::locale(&req, None);
    let reject = |errors| WebError::Rejected {
        errors,
        locale,
        json: false,
        help_base: state.config.base_url.clone(),
    };
    let params = params(&state, &req, body)
        .await
        .map_err(|e| reject(vec![e]))?;
    let current = session::current(&state, &req).await?;
    let Some(saml_request) = params.saml_request() else {
        end_session(&state, current.map(|s| s.token_hash)).await?;
        return sign_out_response(&state, "/");
    };
    let worker = state.clone();
    let relay_state = params.relay_state();
    let outcome = flow::block(move || {
        let verified = intake(
            &saml_request,
            params.signed_query().as_ref(),
            &worker.config.limits,
            &worker.sp_cache,
        );
        let audit = AuditEvent {
            event: "Logout Initiated".into(),
            issuer: verified.as_ref().ok().map(|v| v.sp.issuer.clone()),
            user_public_id: None,
            success: verified.is_ok(),
            detail: verified.as_ref().err().map(|e| {
                e.iter()
                    .map(|i| i.code.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        };
        worker
            .audit
            .record(&audit, worker.clock.now())
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(match verified {
            Ok(v) => Ok((
                logout_response(&worker, &worker.keys, year, &v)?,
                v.logout_url,
            )),
            Err(errors) => Err(errors),
        })
    })
    .await?;
    let (xml, logout_url) = outcome.map_err(reject)?;
    end_session(&state, current.map(|s| s.token_hash)).await?;
    let mut response = super::handoff::post_message(
        &state,
        &req,
        locale,
        "logout",
        &logout_url,
        &xml,
        relay_state.as_deref(),
    )
    .await?;
    response
        .add_removal_cookie(&session::removal(&state, SESSION_COOKIE))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}

async fn end_session(state: &AppState, token_hash: Option<String>) -> Result<(), WebError> {
    let Some(hash) = token_hash else {
        return Ok(());
    };
    let store = state.sessions.clone();
    flow::block(move || store.delete(&hash)).await
}

fn sign_out_response(state: &AppState, location: &str) -> Result<HttpResponse, WebError> {
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish();
    response
        .add_removal_cookie(&session::removal(state, SESSION_COOKIE))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}

/// Back-channel logout: every failure is 400 with an empty body, and the user lookup runs
/// whether or not the earlier checks passed, so the timing does not tell whether a UUID
/// exists.
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
    let worker = state.clone();
    let answer = flow::block(move || Ok::<_, String>(remote(&worker, year, &saml_request))).await?;
    Ok(match answer {
        Some(xml) => HttpResponse::Ok()
            .content_type("text/xml; charset=utf-8")
            .body(xml),
        None => refused(),
    })
}

/// The LogoutResponse when every check passes and the user's sessions ended; None otherwise.
fn remote(state: &AppState, year: SamlYear, saml_request: &str) -> Option<Vec<u8>> {
    let now = state.clock.now();
    // Embedded signatures only: the body is posted server to server.
    let verified = intake(saml_request, None, &state.config.limits, &state.sp_cache).ok();
    let checked = verified
        .as_ref()
        .map(|v| check_remote(&v.request, &v.sp.issuer, now, state.replay_cache.as_ref()));
    let (agency, index) = match (&verified, &checked) {
        (Some(v), Some(Ok(index))) => (v.sp.agency_key(), index.clone()),
        _ => ("agency:-".to_string(), "-".to_string()),
    };
    let user = state
        .identities
        .user_for_agency_uuid(&agency, &index)
        .ok()
        .flatten();
    let issuer = verified.as_ref().map(|v| v.sp.issuer.clone());
    let event = |name: &str, success: bool| AuditEvent {
        event: name.into(),
        issuer: issuer.clone(),
        user_public_id: None,
        success,
        detail: None,
    };
    let _ = state
        .audit
        .record(&event("Remote Logout initiated", verified.is_some()), now);
    let (verified, user) = (verified?, user?);
    checked?.ok()?;
    state.sessions.delete_for_user(user).ok()?;
    let _ = state
        .audit
        .record(&event("Remote Logout completed", true), now);
    logout_response(state, &state.keys, year, &verified).ok()
}

/// Other methods on the remote logout path: 405 (404 for a year that is not live).
pub async fn remote_other(
    state: web::Data<AppState>,
    suffix: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    live_year(&state, &suffix)?;
    Err(WebError::MethodNotAllowed)
}
