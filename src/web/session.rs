//! Browser sessions over HTTP (SPEC 7): created only when a password is verified (showing a
//! page stores nothing), the cookie holds a random 256-bit token (the database only its
//! SHA-256), idle timeout 15 minutes, absolute 12 hours, a CSRF token per session compared
//! in constant time, and a new token at every sign-in (no session fixation). Before there
//! is a session, forms carry a double-submit CSRF token bound to a cookie.

use actix_web::cookie::Cookie;
use actix_web::HttpRequest;
use chrono::Duration;

use super::i18n::Locale;
use super::{blocking, cookies, AppState, WebError};
use crate::idp::pending::token_hash;
use crate::sessions::{SessionRecord, ABSOLUTE_HOURS, IDLE_MINUTES};

/// The idle timer is written back at most this often: a request within this many seconds
/// of the last write costs no database write.
const TOUCH_EVERY_SECONDS: i64 = 30;

/// The hash of this browser's session token, if it sent one.
pub fn token_hash_of(req: &HttpRequest) -> Option<String> {
    req.cookie(cookies::SESSION).map(|c| token_hash(c.value()))
}

/// Blocking: the live session with this token hash, its idle timer restarted.
pub fn load(state: &AppState, hash: &str) -> Result<Option<SessionRecord>, crate::idp::Error> {
    let now = state.clock.now();
    let session = state
        .sessions
        .get(hash, now, now - Duration::minutes(IDLE_MINUTES))?;
    if let Some(s) = &session {
        if now - s.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECONDS) {
            state.sessions.touch(hash, now)?;
        }
    }
    Ok(session)
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
    let worker = state.clone();
    blocking::run(locale, move || load(&worker, &hash)).await
}

/// Blocking: a new session for a user whose password was just verified, replacing the
/// browser's old one (`replace`, a token hash). Returns the cookie to set.
pub fn start_signed_in(
    state: &AppState,
    user_id: i64,
    replace: Option<&str>,
) -> Result<Cookie<'static>, crate::idp::Error> {
    let ids = &state.ids;
    let token = ids
        .secret_token()
        .ok_or(crate::idp::Error::Random("session token"))?;
    let csrf = ids
        .secret_token()
        .ok_or(crate::idp::Error::Random("csrf token"))?;
    let now = state.clock.now();
    let record = SessionRecord {
        token_hash: token_hash(&token),
        user_id: Some(user_id),
        csrf_token: csrf,
        password_at: Some(now),
        mfa_at: None,
        mfa_method: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(ABSOLUTE_HOURS),
        failed_attempts: 0,
    };
    if let Some(old) = replace {
        state.sessions.delete(old)?;
    }
    state.sessions.create(&record)?;
    Ok(cookies::build(
        state,
        cookies::SESSION,
        token,
        Duration::hours(ABSOLUTE_HOURS),
    ))
}

/// Blocking: a new session for a user who just proved a password and a second factor in
/// one go (the end of sign-up). Returns the cookie to set.
pub fn start_fully_signed_in(
    state: &AppState,
    user_id: i64,
    method: crate::sessions::MfaMethod,
    replace: Option<&str>,
) -> Result<Cookie<'static>, crate::idp::Error> {
    let cookie = start_signed_in(state, user_id, replace)?;
    state
        .sessions
        .set_mfa(&token_hash(cookie.value()), method, state.clock.now())?;
    Ok(cookie)
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

/// The anonymous CSRF token of this browser, and the cookie to set when it had none.
pub fn anonymous_csrf(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(String, Option<Cookie<'static>>), WebError> {
    if let Some(c) = req.cookie(cookies::CSRF).filter(|c| !c.value().is_empty()) {
        return Ok((c.value().to_string(), None));
    }
    let token = state
        .ids
        .secret_token()
        .ok_or_else(|| WebError::Internal("random generator failed".into()))?;
    let cookie = cookies::build(
        state,
        cookies::CSRF,
        token.clone(),
        Duration::hours(ABSOLUTE_HOURS),
    );
    Ok((token, Some(cookie)))
}

/// The submitted token matches this browser's anonymous CSRF cookie.
pub fn anonymous_csrf_ok(req: &HttpRequest, submitted: &str) -> bool {
    req.cookie(cookies::CSRF)
        .is_some_and(|c| csrf_equal(c.value(), submitted))
}

/// The token of the remember-this-browser cookie, hashed, if the browser has one.
pub fn remembered_hash(req: &HttpRequest) -> Option<String> {
    req.cookie(cookies::REMEMBER).map(|c| token_hash(c.value()))
}

/// The hash of this browser's pending-request token, if it sent one.
pub fn pending_hash(req: &HttpRequest) -> Option<String> {
    req.cookie(cookies::PENDING).map(|c| token_hash(c.value()))
}

/// A change on the account pages needs a password entered at most this long ago (SPEC 17).
pub const RECENT_PASSWORD_MINUTES: i64 = 15;

/// Past the password and the second factor.
pub fn fully_signed_in(session: &SessionRecord) -> bool {
    session.user_id.is_some() && session.password_at.is_some() && session.mfa_at.is_some()
}

/// The password of this session was entered within [`RECENT_PASSWORD_MINUTES`].
pub fn recent_password(state: &AppState, session: &SessionRecord) -> bool {
    let now = state.clock.now();
    session
        .password_at
        .is_some_and(|at| now - at <= Duration::minutes(RECENT_PASSWORD_MINUTES))
}

/// Where a browser goes to enter its password again (the sign-in page says why).
pub fn reauthenticate_url(locale: Locale) -> String {
    format!("/sign-in?locale={}&notice=reauthenticate", locale.code())
}
