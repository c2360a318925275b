//! The hand-off at the end of the sign-in detour (SPEC 8): the user's claims, the agency
//! identity, the audit event, the signed Response, and the page that posts a SAML message to
//! an SP endpoint (also used by logout).

use actix_web::{HttpRequest, HttpResponse};

use super::flow::{block, page_context};
use super::i18n::Locale;
use super::session;
use super::sso::PENDING_COOKIE;
use super::{pages, AppState, WebError};
use crate::idp::pending::PendingRequest;
use crate::registry::ServiceProvider;
use crate::sessions::AuditEvent;

/// The end of the sign-in detour (SPEC 8): the agency identity, the audit event, the signed
/// (and maybe encrypted) Response, and the page that posts it to the registered ACS. A
/// NoPassive response goes the same way, without an assertion.
pub async fn hand_off(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    pending: &PendingRequest,
    sp: &std::sync::Arc<ServiceProvider>,
    session: Option<crate::sessions::SessionRecord>,
    released: Option<Vec<&'static str>>,
) -> Result<HttpResponse, WebError> {
    let year = crate::saml::SamlYear::new(pending.year).ok_or(WebError::NotFound)?;
    if state.keys.get(year).is_none() {
        return Err(WebError::Internal(format!("year {year} is no longer live")));
    }
    let worker = state.clone();
    let (p, sp_for_block) = (pending.clone(), sp.clone());
    let xml = block(move || {
        respond(
            &worker,
            &p,
            &sp_for_block,
            session.as_ref(),
            released.as_deref(),
            year,
        )
    })
    .await?;
    let mut response = post_message(
        state,
        req,
        locale,
        "handoff",
        &pending.acs_url,
        &xml,
        pending.relay_state.as_deref(),
    )
    .await?;
    response
        .add_removal_cookie(&session::removal(state, PENDING_COOKIE))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}

/// The page that posts a SAML message to an SP endpoint (HTTP-POST binding, SAML bindings
/// §3.5): one form, `SAMLResponse` base64 without line breaks, `RelayState` only if one was
/// sent and verbatim, auto-submitted by a same-origin script with a button for the rest;
/// the CSP allows posting to that one origin. `{prefix}.title`/`.body` are its texts.
pub async fn post_message(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    prefix: &str,
    action: &str,
    xml: &[u8],
    relay_state: Option<&str>,
) -> Result<HttpResponse, WebError> {
    let mut fields = vec![("SAMLResponse", crate::saml::codec::encode_post(xml))];
    if let Some(relay_state) = relay_state {
        fields.push(("RelayState", relay_state.to_string()));
    }
    let mut context = page_context(state, req, locale, &format!("{prefix}.title")).await?;
    context.insert("body", locale.t(&format!("{prefix}.body")));
    context.insert("button", locale.t("bounce.button"));
    context.insert("action", action);
    context.insert("fields", &fields);
    let html = pages::render("post_form.html", &context)?;
    let origin = url::Url::parse(action)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", csp))
        .body(html))
}

/// Blocking part of the hand-off: claims, identity, audit, the Response XML.
fn respond(
    state: &AppState,
    pending: &PendingRequest,
    sp: &ServiceProvider,
    session: Option<&crate::sessions::SessionRecord>,
    released: Option<&[&'static str]>,
    year: crate::saml::SamlYear,
) -> Result<Vec<u8>, String> {
    let key = state.keys.get(year).ok_or("no key for the year")?;
    let (now, entity_id) = (state.clock.now(), state.config.entity_id());
    let user_id = session.and_then(|s| s.user_id);
    let success = released.zip(user_id);
    let event = AuditEvent {
        event: "SAML Auth".into(),
        issuer: Some(sp.issuer.clone()),
        user_public_id: None,
        success: success.is_some(),
        detail: Some(
            if success.is_some() {
                "handoff"
            } else {
                "no_passive"
            }
            .into(),
        ),
    };
    state.audit.record(&event, now).map_err(|e| e.to_string())?;
    let Some((released, user_id)) = success else {
        let xml = crate::idp::response::build_no_passive(
            pending,
            sp,
            &entity_id,
            now,
            key,
            state.ids.as_ref(),
        );
        return xml.map_err(|e| e.to_string());
    };
    let claims = claims(state, sp, user_id, now)?;
    state
        .identities
        .record_authentication(user_id, &sp.issuer, now)
        .map_err(|e| e.to_string())?;
    let authn_instant = session
        .and_then(|s| s.mfa_at.or(s.password_at))
        .unwrap_or(now);
    let success = crate::idp::response::Success {
        pending,
        sp,
        released,
        claims: &claims,
        authn_instant,
        key,
        entity_id: &entity_id,
        now,
    };
    crate::idp::response::build(&success, state.ids.as_ref()).map_err(|e| e.to_string())
}

/// The user's attributes, unsealed, and their persistent UUID for this SP's agency.
fn claims(
    state: &AppState,
    sp: &ServiceProvider,
    user_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::idp::response::Claims, String> {
    let user = state
        .accounts
        .get(user_id)
        .map_err(|e| e.to_string())?
        .ok_or("the user no longer exists")?;
    let emails = state.accounts.emails(user_id).map_err(|e| e.to_string())?;
    let crypto = &state.account_crypto;
    let open = |e: &crate::accounts::EmailRecord| crypto.open_email(&e.sealed, &e.lookup);
    let new_uuid = uuid::Uuid::new_v4().to_string();
    Ok(crate::idp::response::Claims {
        agency_uuid: state
            .identities
            .agency_uuid(user_id, &sp.agency_key(), &new_uuid, now)
            .map_err(|e| e.to_string())?,
        email: emails.iter().find(|e| e.for_sign_in).and_then(open),
        all_emails: emails.iter().filter_map(open).collect(),
        locale: user.locale.clone(),
        profile: user
            .verified_profile_sealed
            .as_deref()
            .and_then(|s| crypto.open_profile(&user.public_id, s)),
        verified_at: user.verified_at,
    })
}
