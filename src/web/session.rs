//! Browser sessions over HTTP (SPEC 7): created only when a password is verified (showing a
//! page stores nothing), the cookie holds a random 256-bit token (the database only its
//! SHA-256), idle timeout 15 minutes, absolute 12 hours, a CSRF token per session compared
//! in constant time, and a new token at every sign-in (no session fixation). Before there
//! is a session, forms carry a double-submit CSRF token bound to a cookie.

use actix_web::cookie::Cookie;
use actix_web::HttpRequest;
use chrono::Duration;

use super::i18n::Locale;
use super::{cookies, render, AppState, WebError};
use crate::idp::session;
use crate::idp::token::{Token, TokenHash};
use crate::sessions::{SessionRecord, ABSOLUTE_HOURS};

/// The hash of this browser's session token, if it sent one.
pub fn token_hash_of(req: &HttpRequest) -> Option<TokenHash> {
    cookies::read(req, cookies::SESSION).map(|c| TokenHash::of(c.value()))
}

/// The live session of this browser, if any.
pub async fn current(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
) -> Result<Option<SessionRecord>, WebError> {
    let Some(hash) = token_hash_of(req) else {
        return Ok(None);
    };
    state
        .run(locale, move |deps| {
            session::load(deps.sessions, &hash, deps.now)
        })
        .await
}

/// The session cookie carrying `token` (a session `idp` just started).
pub fn cookie(state: &AppState, token: Token) -> Cookie<'static> {
    let lifetime = session::cookie_lifetime();
    cookies::build(state, cookies::SESSION, token.into_string(), lifetime)
}

/// The form's CSRF token equals the expected one (constant time).
pub fn csrf_equal(expected: &str, submitted: &str) -> bool {
    let expected = expected.as_bytes();
    !expected.is_empty()
        && expected.len() == submitted.len()
        && openssl::memcmp::eq(expected, submitted.as_bytes())
}

pub fn csrf_ok(session: &SessionRecord, submitted: &str) -> bool {
    csrf_equal(&session.csrf_token, submitted)
}

/// The pre-session CSRF token of this browser (an HMAC of its pre-session id under the
/// server key), and the cookie to set when it had no id yet.
pub fn anonymous_csrf(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(String, Option<Cookie<'static>>), WebError> {
    let failed = || WebError::Internal("CSRF token could not be computed".into());
    if let Some(c) = cookies::read(req, cookies::CSRF).filter(|c| !c.value().is_empty()) {
        let token = state
            .account_crypto
            .pre_session_csrf(c.value())
            .ok_or_else(failed)?;
        return Ok((token, None));
    }
    let id = state
        .ids
        .secret_token()
        .ok_or_else(|| WebError::Internal("random generator failed".into()))?;
    let token = state
        .account_crypto
        .pre_session_csrf(&id)
        .ok_or_else(failed)?;
    let cookie = cookies::build(state, cookies::CSRF, id, Duration::hours(ABSOLUTE_HOURS));
    Ok((token, Some(cookie)))
}

/// The submitted token is the HMAC of this browser's pre-session id (constant time).
pub fn anonymous_csrf_ok(state: &AppState, req: &HttpRequest, submitted: &str) -> bool {
    cookies::read(req, cookies::CSRF)
        .and_then(|c| state.account_crypto.pre_session_csrf(c.value()))
        .is_some_and(|expected| csrf_equal(&expected, submitted))
}

/// The token of the remember-this-browser cookie, hashed, if the browser has one.
pub fn remembered_hash(req: &HttpRequest) -> Option<TokenHash> {
    cookies::read(req, cookies::REMEMBER).map(|c| TokenHash::of(c.value()))
}

/// The hash of this browser's pending-request token, if it sent one.
pub fn pending_hash(req: &HttpRequest) -> Option<TokenHash> {
    cookies::read(req, cookies::PENDING).map(|c| TokenHash::of(c.value()))
}

/// Where a browser goes once a sign-in or sign-up step is done: the flow of its pending
/// request, else home.
pub fn onward(req: &HttpRequest, locale: Locale) -> String {
    match pending_hash(req) {
        Some(_) => format!("/api/saml/complete?locale={}", locale.code()),
        None => format!("/?locale={}", locale.code()),
    }
}

/// Past the password and the second factor.
pub fn fully_signed_in(session: &SessionRecord) -> bool {
    session::is_fully_signed_in(session)
}

/// The password of this session was entered within the re-authentication window.
pub fn recent_password(state: &AppState, session: &SessionRecord) -> bool {
    session::password_is_fresh(session, state.clock.now())
}

/// Where a browser goes to enter its password again (the sign-in page says why).
pub fn reauthenticate_url(locale: Locale) -> String {
    format!("/sign-in?locale={}&notice=reauthenticate", locale.code())
}

/// The SP of this browser's stored request (as registered now), for page headers.
pub async fn pending_sp(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
) -> Result<Option<std::sync::Arc<crate::registry::ServiceProvider>>, WebError> {
    let Some(stored) = pending_hash(req) else {
        return Ok(None);
    };
    let found = state
        .run(locale, move |deps| {
            crate::idp::sso::pending_request(deps, &stored)
        })
        .await?;
    Ok(found.map(|(_, sp)| sp))
}

/// A page whose form is posted before there is a session (sign-in, sign-up, recovery): its
/// CSRF token is the browser's anonymous double-submit token (set as a cookie when it had
/// none), and `error` (a catalogue key) is shown above the form.
pub fn anonymous_form(
    state: &super::AppState,
    req: &actix_web::HttpRequest,
    locale: Locale,
    template: &str,
    mut context: tera::Context,
    error: Option<&str>,
    status: u16,
) -> Result<actix_web::HttpResponse, WebError> {
    let (csrf, cookie) = anonymous_csrf(state, req)?;
    context.insert("csrf", &csrf);
    if let Some(key) = error {
        context.insert("error", locale.t(key));
    }
    render::page(template, &context, cookie.into_iter().collect(), status)
}
