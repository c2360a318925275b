//! `SessionStore` in memory: browser sessions and remembered browsers, keyed by token hash,
//! times cut to microseconds as stored. `MemorySessionStore` also implements the identity,
//! audit, rate-limit and replay traits (one file each), as the SQL session store does.

use chrono::{DateTime, Utc};

use super::rows::{delete_where, micros, no_such_user, taken, Remembered};
use super::tables::{Shared, Tables};
use crate::sessions::{MfaMethod, SessionError, SessionRecord, SessionStore};

/// The session record as stored: every time cut to microseconds.
fn stored(s: &SessionRecord) -> SessionRecord {
    SessionRecord {
        password_at: s.password_at.map(micros),
        mfa_at: s.mfa_at.map(micros),
        created_at: micros(s.created_at),
        last_seen_at: micros(s.last_seen_at),
        expires_at: micros(s.expires_at),
        ..s.clone()
    }
}

/// Sessions, remembered browsers, identities, consent, the audit log, rate limits and the
/// replay cache, in memory.
pub struct MemorySessionStore {
    pub(super) db: Shared,
}

impl MemorySessionStore {
    pub(super) fn new(db: Shared) -> Self {
        MemorySessionStore { db }
    }

    /// Runs `change` on the tables.
    pub(super) fn change<T>(
        &self,
        change: impl FnOnce(&mut Tables) -> Result<T, SessionError>,
    ) -> Result<T, SessionError> {
        change(&mut self.db.lock())
    }

    /// Runs `change` on the session of `token_hash`, if there is one (an UPDATE of no row).
    fn update(
        &self,
        token_hash: &str,
        change: impl FnOnce(&mut SessionRecord),
    ) -> Result<(), SessionError> {
        if let Some(s) = self.db.lock().sessions.sessions.get_mut(token_hash) {
            change(s);
        }
        Ok(())
    }
}

impl SessionStore for MemorySessionStore {
    fn create(&self, session: &SessionRecord) -> Result<(), SessionError> {
        self.change(|t| {
            if let Some(user_id) = session.user_id.filter(|id| !t.user_exists(*id)) {
                return Err(SessionError(no_such_user("browser_sessions", user_id)));
            }
            let sessions = &mut t.sessions.sessions;
            if sessions.contains_key(&session.token_hash) {
                return Err(SessionError(taken("browser_sessions.token_hash")));
            }
            sessions.insert(session.token_hash.clone(), stored(session));
            Ok(())
        })
    }

    fn get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, SessionError> {
        let (now, idle_cutoff) = (micros(now), micros(idle_cutoff));
        let tables = self.db.lock();
        let session = tables.sessions.sessions.get(token_hash);
        let live = session.filter(|s| s.expires_at > now && s.last_seen_at > idle_cutoff);
        Ok(live.cloned())
    }

    fn touch(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), SessionError> {
        self.update(token_hash, |s| s.last_seen_at = micros(now))
    }

    fn set_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.change(|t| {
            let exists = t.user_exists(user_id);
            let Some(s) = t.sessions.sessions.get_mut(token_hash) else {
                return Ok(());
            };
            if !exists {
                return Err(SessionError(no_such_user("browser_sessions", user_id)));
            }
            s.user_id = Some(user_id);
            s.password_at = Some(micros(at));
            s.mfa_at = None;
            s.mfa_method = None;
            Ok(())
        })
    }

    fn set_mfa(
        &self,
        token_hash: &str,
        method: MfaMethod,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.update(token_hash, |s| {
            s.mfa_at = Some(micros(at));
            s.mfa_method = Some(method);
        })
    }

    fn delete(&self, token_hash: &str) -> Result<(), SessionError> {
        self.db.lock().sessions.sessions.remove(token_hash);
        Ok(())
    }

    fn refresh_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let mut tables = self.db.lock();
        let session = tables.sessions.sessions.get_mut(token_hash);
        let own = session.filter(|s| s.user_id == Some(user_id));
        Ok(own.map(|s| s.password_at = Some(micros(at))).is_some())
    }

    fn delete_others_for_user(&self, user_id: i64, keep: &str) -> Result<usize, SessionError> {
        let mut tables = self.db.lock();
        let doomed = |s: &SessionRecord| s.user_id == Some(user_id) && s.token_hash != keep;
        Ok(delete_where(&mut tables.sessions.sessions, doomed))
    }

    fn record_failure(&self, token_hash: &str) -> Result<i32, SessionError> {
        let mut tables = self.db.lock();
        let session = tables.sessions.sessions.get_mut(token_hash);
        Ok(session.map_or(0, |s| {
            s.failed_attempts += 1;
            s.failed_attempts
        }))
    }

    fn delete_unfinished_for_user(&self, user_id: i64) -> Result<usize, SessionError> {
        let mut tables = self.db.lock();
        let doomed = |s: &SessionRecord| s.user_id == Some(user_id) && s.mfa_at.is_none();
        Ok(delete_where(&mut tables.sessions.sessions, doomed))
    }

    fn delete_for_user(&self, user_id: i64) -> Result<usize, SessionError> {
        let mut tables = self.db.lock();
        Ok(delete_where(&mut tables.sessions.sessions, |s| {
            s.user_id == Some(user_id)
        }))
    }

    fn forget_browsers(&self, user_id: i64) -> Result<usize, SessionError> {
        let mut tables = self.db.lock();
        let remembered = &mut tables.sessions.remembered;
        Ok(delete_where(remembered, |r| r.user_id == user_id))
    }

    /// Replaces any earlier row of the browser (another user, another expiry).
    fn remember_browser(
        &self,
        token_hash: &str,
        user_id: i64,
        until: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.change(|t| {
            if !t.user_exists(user_id) {
                return Err(SessionError(no_such_user("remembered_browsers", user_id)));
            }
            let row = Remembered {
                user_id,
                expires_at: micros(until),
            };
            t.sessions.remembered.insert(token_hash.to_string(), row);
            Ok(())
        })
    }

    fn is_remembered(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let tables = self.db.lock();
        let row = tables.sessions.remembered.get(token_hash);
        Ok(row.is_some_and(|r| r.user_id == user_id && r.expires_at > micros(now)))
    }
}
