//! The browser-session row and what the session stores' writes share: telling an insert
//! that lost a race to another process, and running it once more.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::sessions::{MfaMethod, SessionError, SessionRecord};
use crate::store::schema::browser_sessions;
use crate::store::time::{db_time, utc};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = browser_sessions, treat_none_as_default_value = false)]
pub(super) struct SessionRow {
    token_hash: String,
    user_id: Option<i64>,
    csrf_token: String,
    password_at: Option<NaiveDateTime>,
    mfa_at: Option<NaiveDateTime>,
    mfa_method: Option<String>,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    failed_attempts: i32,
}

impl SessionRow {
    pub(super) fn new(s: &SessionRecord) -> Self {
        SessionRow {
            token_hash: s.token_hash.clone(),
            user_id: s.user_id,
            csrf_token: s.csrf_token.clone(),
            password_at: s.password_at.map(db_time),
            mfa_at: s.mfa_at.map(db_time),
            mfa_method: s.mfa_method.map(|m| m.as_str().to_string()),
            created_at: db_time(s.created_at),
            last_seen_at: db_time(s.last_seen_at),
            expires_at: db_time(s.expires_at),
            failed_attempts: s.failed_attempts,
        }
    }

    /// A second-factor method this code does not know is reported, not guessed.
    pub(super) fn into_domain(self) -> Result<SessionRecord, SessionError> {
        let mfa_method =
            match self.mfa_method.as_deref() {
                None => None,
                Some(m) => Some(MfaMethod::parse(m).ok_or_else(|| {
                    SessionError(format!("session has an unknown mfa_method {m:?}"))
                })?),
            };
        Ok(SessionRecord {
            token_hash: self.token_hash,
            user_id: self.user_id,
            csrf_token: self.csrf_token,
            password_at: self.password_at.map(utc),
            mfa_at: self.mfa_at.map(utc),
            mfa_method,
            created_at: utc(self.created_at),
            last_seen_at: utc(self.last_seen_at),
            expires_at: utc(self.expires_at),
            failed_attempts: self.failed_attempts,
        })
    }
}
