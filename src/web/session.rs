//! Browser sessions over HTTP (SPEC 7): the cookie holds a random 256-bit token (the
//! database only its SHA-256), `HttpOnly`, `SameSite=Lax`, `Secure` on https; idle timeout
//! 15 minutes, absolute 12 hours; a CSRF token per session, compared in constant time; a new
//! token after each sign-in (no session fixation).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest};
use chrono::Duration;

use super::{AppState, WebError};
use crate::idp::pending::token_hash;
use crate::sessions::SessionRecord;

pub const SESSION_COOKIE: &str = "saml_idp_session";
pub const REMEMBER_COOKIE: &str = "saml_idp_remember";
/// The purge deletes sessions idle this long, so both read the same constant.
pub const IDLE_MINUTES: i64 = crate::sessions::purge::SESSION_IDLE_MINUTES;
pub const ABSOLUTE_HOURS: i64 = 12;
pub const REMEMBER_DAYS: i64 = 30;

pub fn cookie(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: Duration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age.num_seconds()))
        .finish()
}

/// A cookie that deletes `name`.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = cookie(state, name, String::new(), Duration::zero());
    c.make_removal();
    c
}

fn blocking_err(e: impl std::fmt::Display) -> WebError {
    WebError::Internal(e.to_string())
}

fn db_err(e: impl std::fmt::Display) -> WebError {
    WebError::DatabaseUnavailable(e.to_string())
}

/// The live session of this browser, if any; its idle timer restarts.
pub async fn current(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<SessionRecord>, WebError> {
    let Some(token) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let (store, now) = (state.sessions.clone(), state.clock.now());
    let hash = token_hash(&token);
    web::block(move || {
        let session = store.get(&hash, now, now - Duration::minutes(IDLE_MINUTES))?;
        if session.is_some() {
            store.touch(&hash, now)?;
        }
        Ok::<_, crate::sessions::SessionError>(session)
    })
    .await
    .map_err(blocking_err)?
    .map_err(db_err)
}

/// Starts a fresh anonymous session; returns it with the cookie to set. `replace` (the old
/// session's token hash) is deleted: a sign-in always gets a new token.
pub async fn start(
    state: &AppState,
    replace: Option<String>,
) -> Result<(SessionRecord, Cookie<'static>), WebError> {
    let token = state
        .ids
        .secret_token()
        .ok_or_else(|| WebError::Internal("random generator failed".into()))?;
    let csrf = state
        .ids
        .secret_token()
        .ok_or_else(|| WebError::Internal("random generator failed".into()))?;
    let now = state.clock.now();
    let record = SessionRecord {
        token_hash: token_hash(&token),
        user_id: None,
        csrf_token: csrf,
        password_at: None,
        mfa_at: None,
        mfa_method: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(ABSOLUTE_HOURS),
    };
    let (store, stored) = (state.sessions.clone(), record.clone());
    web::block(move || {
        if let Some(old) = replace {
            store.delete(&old)?;
        }
        store.create(&stored)
    })
    .await
    .map_err(blocking_err)?
    .map_err(db_err)?;
    Ok((
        record,
        cookie(
            state,
            SESSION_COOKIE,
            token,
            Duration::hours(ABSOLUTE_HOURS),
        ),
    ))
}

/// The session, creating one when there is none (pages with forms need a CSRF token).
pub async fn current_or_start(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(SessionRecord, Option<Cookie<'static>>), WebError> {
    match current(state, req).await? {
        Some(session) => Ok((session, None)),
        None => start(state, None).await.map(|(s, c)| (s, Some(c))),
    }
}

/// The form's CSRF token equals the session's (constant time).
pub fn csrf_ok(session: &SessionRecord, submitted: &str) -> bool {
    let expected = session.csrf_token.as_bytes();
    expected.len() == submitted.len() && openssl::memcmp::eq(expected, submitted.as_bytes())
}

/// The token of the remember-this-browser cookie, hashed, if the browser has one.
pub fn remembered_hash(req: &HttpRequest) -> Option<String> {
    req.cookie(REMEMBER_COOKIE).map(|c| token_hash(c.value()))
}
