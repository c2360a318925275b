//! Browser sessions (SPEC 7): created only when a password is verified, the cookie holds a
//! random 256-bit [`Token`] (the database only its [`TokenHash`]), idle timeout 15 minutes,
//! absolute 12 hours, a CSRF token per session, and a new token at every sign-in (no session
//! fixation). One re-authentication window for changes ([`REAUTH_MINUTES`]).

use chrono::{DateTime, Duration, Utc};

use super::token::{Token, TokenHash};
use super::Error;
use crate::ids::IdSource;
use crate::sessions::{MfaMethod, SessionRecord, SessionStore, ABSOLUTE_HOURS, IDLE_MINUTES};

/// The idle timer is written back at most this often: a request within this many seconds
/// of the last write costs no database write.
const TOUCH_EVERY_SECONDS: i64 = 30;

/// A change (the account page, the console) needs the password typed within this many
/// minutes (SPEC 17).
pub const REAUTH_MINUTES: i64 = 15;

/// What the user proved when the session starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The password alone (the second factor comes next).
    Password,
    /// The password and a second factor in one go (the end of sign-up).
    PasswordAndFactor(MfaMethod),
}

/// The live session with this token hash, its idle timer restarted.
pub fn load(
    sessions: &dyn SessionStore,
    hash: &TokenHash,
    now: DateTime<Utc>,
) -> Result<Option<SessionRecord>, Error> {
    let session = sessions.get(hash, now, idle_cutoff(now))?;
    if let Some(s) = &session {
        touch_if_due(sessions, hash, s, now)?;
    }
    Ok(session)
}

/// Sessions last seen before this are idle.
pub fn idle_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::minutes(IDLE_MINUTES)
}

/// Restarts the idle timer of a session just read, when its last write is old enough.
pub fn touch_if_due(
    sessions: &dyn SessionStore,
    hash: &TokenHash,
    session: &SessionRecord,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if now - session.last_seen_at >= Duration::seconds(TOUCH_EVERY_SECONDS) {
        sessions.touch(hash, now)?;
    }
    Ok(())
}

/// A new session for `user_id`, replacing the browser's old one (`replace`). Returns the
/// token for the cookie.
pub fn start(
    sessions: &dyn SessionStore,
    ids: &dyn IdSource,
    user_id: i64,
    proof: Proof,
    replace: Option<&TokenHash>,
    now: DateTime<Utc>,
) -> Result<Token, Error> {
    let token = Token::generate(ids, "session token")?;
    let csrf = Token::generate(ids, "csrf token")?;
    let record = SessionRecord {
        token_hash: token.hash().into(),
        user_id: Some(user_id),
        csrf_token: csrf.into_string(),
        password_at: Some(now),
        mfa_at: None,
        mfa_method: None,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(ABSOLUTE_HOURS),
        failed_attempts: 0,
    };
    if let Some(old) = replace {
        sessions.delete(old)?;
    }
    sessions.create(&record)?;
    if let Proof::PasswordAndFactor(method) = proof {
        sessions.set_mfa(&token.hash(), method, now)?;
    }
    Ok(token)
}

/// The same session under a new token (SPEC 7: a new token at every authentication step,
/// so a token seen before a step is worth nothing after it): a copy of `session` under a
/// fresh token, then the old row deleted. Returns the token for the cookie.
pub fn rotate(
    sessions: &dyn SessionStore,
    ids: &dyn IdSource,
    session: &SessionRecord,
) -> Result<Token, Error> {
    let token = Token::generate(ids, "session token")?;
    let record = SessionRecord {
        token_hash: token.hash().into(),
        ..session.clone()
    };
    sessions.create(&record)?;
    sessions.delete(&session.token_hash)?;
    Ok(token)
}

/// Past the password and the second factor.
pub fn is_fully_signed_in(session: &SessionRecord) -> bool {
    session.user_id.is_some() && session.password_at.is_some() && session.mfa_at.is_some()
}

/// The session's password was typed within [`REAUTH_MINUTES`] of `now`.
pub fn password_is_fresh(session: &SessionRecord, now: DateTime<Utc>) -> bool {
    session
        .password_at
        .is_some_and(|at| now - at <= Duration::minutes(REAUTH_MINUTES))
}

/// How long the session cookie may live.
pub fn cookie_lifetime() -> Duration {
    Duration::hours(ABSOLUTE_HOURS)
}

/// Ends one browser's session (signing out).
pub fn end(sessions: &dyn SessionStore, hash: &TokenHash) -> Result<(), Error> {
    Ok(sessions.delete(hash)?)
}
