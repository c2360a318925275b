//! `SessionStore` on Diesel (browser sessions and remembered browsers), and the one
//! `DieselSessionStore` that also implements `IdentityStore` (`identities`), `AuditLog`
//! (`audit`), `RateLimiter` and `ReplayCache` (`limits`) over the same pool. Writes that may
//! race between processes let the database's unique keys decide.

mod audit;
mod history;
mod identities;
mod limits;
mod rows;
mod signed_in;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl;
use diesel::prelude::*;

pub use self::history::{events, EventFilter};
use self::rows::SessionRow;
use super::errors::session_err;
use super::schema::{browser_sessions, remembered_browsers};
use super::time::db_time;
use super::{Database, DbConnection};
use crate::sessions::{MfaMethod, SessionError, SessionRecord, SessionStore};
use crate::store::errors::retry_once_if_raced;
use crate::store::per_backend;

/// The Diesel-backed sessions, identities, consent, audit log and rate limiter.
pub struct DieselSessionStore {
    db: Database,
    /// When this process last dropped old replay-cache entries (Unix seconds).
    replay_forgotten_at: std::sync::atomic::AtomicI64,
    /// (user, SP) → when this process last wrote their connected-service time (Unix
    /// seconds): a signed-in browser's next Response within the precision writes nothing.
    authenticated: std::sync::Mutex<std::collections::HashMap<(i64, String), i64>>,
}

impl DieselSessionStore {
    pub fn new(db: Database) -> Self {
        DieselSessionStore {
            db,
            replay_forgotten_at: std::sync::atomic::AtomicI64::new(i64::MIN),
            authenticated: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn conn(&self) -> Result<super::Conn, SessionError> {
        self.db.conn().map_err(session_err)
    }

    fn authenticated(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(i64, String), i64>> {
        self.authenticated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs one statement that changes rows and returns how many.
    fn execute(
        &self,
        statement: impl FnOnce(&mut DbConnection) -> QueryResult<usize>,
    ) -> Result<usize, SessionError> {
        let mut conn = self.conn()?;
        statement(&mut conn).map_err(session_err)
    }
}

impl SessionStore for DieselSessionStore {
    fn create(&self, session: &SessionRecord) -> Result<(), SessionError> {
        let row = SessionRow::new(session);
        self.execute(|c| {
            diesel::insert_into(browser_sessions::table)
                .values(&row)
                .execute(c)
        })
        .map(|_| ())
    }

    fn get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, SessionError> {
        let mut conn = self.conn()?;
        let row: Option<SessionRow> = browser_sessions::table
            .find(token_hash)
            .filter(browser_sessions::expires_at.gt(db_time(now)))
            .filter(browser_sessions::last_seen_at.gt(db_time(idle_cutoff)))
            .select(SessionRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(session_err)?;
        row.map(SessionRow::into_domain).transpose()
    }

    fn touch(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), SessionError> {
        self.execute(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set(browser_sessions::last_seen_at.eq(db_time(now)))
                .execute(c)
        })
        .map(|_| ())
    }

    fn set_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.execute(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set((
                    browser_sessions::user_id.eq(Some(user_id)),
                    browser_sessions::password_at.eq(Some(db_time(at))),
                    browser_sessions::mfa_at.eq(None::<NaiveDateTime>),
                    browser_sessions::mfa_method.eq(None::<&str>),
                ))
                .execute(c)
        })
        .map(|_| ())
    }

    fn set_mfa(
        &self,
        token_hash: &str,
        method: MfaMethod,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.execute(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set((
                    browser_sessions::mfa_at.eq(Some(db_time(at))),
                    browser_sessions::mfa_method.eq(Some(method.as_str())),
                ))
                .execute(c)
        })
        .map(|_| ())
    }

    fn delete(&self, token_hash: &str) -> Result<(), SessionError> {
        self.execute(|c| diesel::delete(browser_sessions::table.find(token_hash)).execute(c))
            .map(|_| ())
    }

    fn refresh_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let n = self.execute(|c| {
            diesel::update(
                browser_sessions::table
                    .find(token_hash)
                    .filter(browser_sessions::user_id.eq(user_id)),
            )
            .set(browser_sessions::password_at.eq(Some(db_time(at))))
            .execute(c)
        })?;
        Ok(n == 1)
    }

    fn delete_others_for_user(&self, user_id: i64, keep: &str) -> Result<usize, SessionError> {
        self.execute(|c| {
            diesel::delete(
                browser_sessions::table
                    .filter(browser_sessions::user_id.eq(user_id))
                    .filter(browser_sessions::token_hash.ne(keep)),
            )
            .execute(c)
        })
    }

    /// Update first, then read: the row is locked before the count is read (as in
    /// `count_hit`), so concurrent failures each see their own increment.
    fn record_failure(&self, token_hash: &str) -> Result<i32, SessionError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set(browser_sessions::failed_attempts.eq(browser_sessions::failed_attempts + 1))
                .execute(c)?;
            browser_sessions::table
                .find(token_hash)
                .select(browser_sessions::failed_attempts)
                .first::<i32>(c)
                .optional()
        })
        .map(|n| n.unwrap_or(0))
        .map_err(session_err)
    }

    fn delete_unfinished_for_user(&self, user_id: i64) -> Result<usize, SessionError> {
        self.execute(|c| {
            diesel::delete(
                browser_sessions::table
                    .filter(browser_sessions::user_id.eq(user_id))
                    .filter(browser_sessions::mfa_at.is_null()),
            )
            .execute(c)
        })
    }

    fn delete_for_user(&self, user_id: i64) -> Result<usize, SessionError> {
        self.execute(|c| {
            per_backend!(c, |c| {
                diesel::delete(
                    browser_sessions::table.filter(browser_sessions::user_id.eq(user_id)),
                )
                .execute(c)
            })
        })
    }

    fn forget_browsers(&self, user_id: i64) -> Result<usize, SessionError> {
        self.execute(|c| {
            diesel::delete(
                remembered_browsers::table.filter(remembered_browsers::user_id.eq(user_id)),
            )
            .execute(c)
        })
    }

    fn remember_browser(
        &self,
        token_hash: &str,
        user_id: i64,
        until: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        let mut conn = self.conn()?;
        retry_once_if_raced(|| {
            conn.transaction(|c| {
                diesel::delete(remembered_browsers::table.find(token_hash)).execute(c)?;
                diesel::insert_into(remembered_browsers::table)
                    .values((
                        remembered_browsers::token_hash.eq(token_hash),
                        remembered_browsers::user_id.eq(user_id),
                        remembered_browsers::expires_at.eq(db_time(until)),
                    ))
                    .execute(c)
            })
        })
        .map(|_| ())
        .map_err(session_err)
    }

    fn is_remembered(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let mut conn = self.conn()?;
        let n: i64 = remembered_browsers::table
            .find(token_hash)
            .filter(remembered_browsers::user_id.eq(user_id))
            .filter(remembered_browsers::expires_at.gt(db_time(now)))
            .select(dsl::count_star())
            .first(&mut *conn)
            .map_err(session_err)?;
        Ok(n > 0)
    }
}
