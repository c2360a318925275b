//! `Purger` on Diesel: deletes expired pending requests, sessions, remembered browsers,
//! replay-cache entries, rate-limit windows, one-time tokens and audit events past their
//! retention, in short batches.
//!
//! Several nodes may purge at the same moment, and while the flow runs: every statement is a
//! plain conditional DELETE of rows that no reader accepts any more, so running it twice, or
//! on two nodes at once, deletes each row once and changes nothing else (idempotent). There
//! is no transaction around the batches on purpose: each DELETE commits by itself and holds
//! its locks only for one batch, so a large backlog never blocks sign-ins for long.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::errors::session_err;
use super::schema::{
    audit_events, browser_sessions, one_time_tokens, pending_requests, rate_limits,
    remembered_browsers, seen_requests,
};
use super::time::db_time;
use super::{Database, DbConnection};
use crate::sessions::purge::{PurgeCutoffs, PurgeReport, Purger};
use crate::sessions::SessionError;

/// Rows deleted per statement: small enough that one DELETE is over in milliseconds.
const PURGE_BATCH_SIZE: i64 = 5000;

/// The Diesel-backed purge of expired rows.
pub struct DieselPurger {
    db: Database,
    batch_size: i64,
}

impl DieselPurger {
    pub fn new(db: Database) -> Self {
        Self::with_batch_size(db, PURGE_BATCH_SIZE)
    }

    /// As `new`, deleting at most `batch_size` rows (at least 1) per statement.
    pub fn with_batch_size(db: Database, batch_size: i64) -> Self {
        DieselPurger {
            db,
            batch_size: batch_size.max(1),
        }
    }
}

impl Purger for DieselPurger {
    fn purge(&self, cutoffs: &PurgeCutoffs) -> Result<PurgeReport, SessionError> {
        let mut conn = self.db.conn().map_err(session_err)?;
        purge_all(&mut conn, cutoffs, self.batch_size).map_err(session_err)
    }
}

/// Every table in turn, in one connection; the first error stops the purge.
fn purge_all(c: &mut DbConnection, cutoffs: &PurgeCutoffs, n: i64) -> QueryResult<PurgeReport> {
    let session_cutoffs = (
        db_time(cutoffs.session_expired_at),
        db_time(cutoffs.session_idle_since),
    );
    Ok(PurgeReport {
        pending_requests: purge_pending(c, db_time(cutoffs.pending_expired_at), n)?,
        browser_sessions: purge_sessions(c, session_cutoffs, n)?,
        remembered_browsers: purge_remembered(c, db_time(cutoffs.remembered_expired_at), n)?,
        seen_requests: purge_seen(c, db_time(cutoffs.replay_seen_before))?,
        rate_limits: purge_rate_limits(c, db_time(cutoffs.rate_window_before), n)?,
        one_time_tokens: purge_tokens(c, db_time(cutoffs.token_expired_at), n)?,
        audit_events: match cutoffs.audit_before {
            Some(before) => purge_audit(c, db_time(before), n)?,
            None => 0,
        },
    })
}

/// Runs `delete_batch` until it deletes fewer than `size` rows; the total deleted.
/// A short batch means the backlog is gone (or another node is deleting the rest).
fn in_batches(
    size: i64,
    mut delete_batch: impl FnMut() -> QueryResult<usize>,
) -> QueryResult<usize> {
    let full = usize::try_from(size).unwrap_or(usize::MAX);
    let mut total = 0;
    loop {
        let deleted = delete_batch()?;
        total += deleted;
        if deleted < full {
            return Ok(total);
        }
    }
}

/// `fn $name(c, $cutoff, n)`: deletes the rows of `$table` (keyed by `$key`) that `$expired`
/// selects, in batches of `n` (`in_batches`); `$e` names the table's alias in `$expired`.
/// Each batch is `DELETE FROM t WHERE key IN (SELECT e.key FROM t AS e WHERE <expired> LIMIT
/// n)`: SQLite and PostgreSQL both take it (neither DELETE … LIMIT nor DELETE … USING is
/// shared). The inner table is an alias because Diesel refuses a subselect over the table it
/// filters.
macro_rules! batched_purge {
    ($(#[$doc:meta])*
     fn $name:ident($cutoff:ident: $ty:ty)
        from $table:ident as $alias:ident by $key:ident where |$e:ident| $expired:expr;
    ) => {
        $(#[$doc])*
        fn $name(c: &mut DbConnection, $cutoff: $ty, n: i64) -> QueryResult<usize> {
            let $e = diesel::alias!($table as $alias);
            in_batches(n, || {
                let batch = $e.filter($expired).select($e.field($table::$key)).limit(n);
                diesel::delete($table::table.filter($table::$key.eq_any(batch))).execute(c)
            })
        }
    };
}

batched_purge! {
    fn purge_pending(expired_at: NaiveDateTime)
        from pending_requests as expired_pending by token_hash
        where |e| e.field(pending_requests::expires_at).le(expired_at);
}

batched_purge! {
    /// Expired, or idle since the cutoff: exactly what `SessionStore::get` no longer returns.
    fn purge_sessions(cutoffs: (NaiveDateTime, NaiveDateTime))
        from browser_sessions as expired_sessions by token_hash
        where |e| e.field(browser_sessions::expires_at).le(cutoffs.0)
            .or(e.field(browser_sessions::last_seen_at).le(cutoffs.1));
}

batched_purge! {
    fn purge_remembered(expired_at: NaiveDateTime)
        from remembered_browsers as expired_remembered by token_hash
        where |e| e.field(remembered_browsers::expires_at).le(expired_at);
}

batched_purge! {
    fn purge_rate_limits(before: NaiveDateTime)
        from rate_limits as old_windows by bucket
        where |e| e.field(rate_limits::window_start).lt(before);
}

batched_purge! {
    fn purge_tokens(expired_at: NaiveDateTime)
        from one_time_tokens as expired_tokens by token_hash
        where |e| e.field(one_time_tokens::expires_at).le(expired_at);
}

batched_purge! {
    /// Audit events past their retention (`audit_retention_days`), oldest first.
    fn purge_audit(before: NaiveDateTime)
        from audit_events as old_events by id
        where |e| e.field(audit_events::created_at).lt(before);
}

/// One statement, no batches: the key is (issuer, request_id), and a two-column
/// `IN (SELECT …)` is not something Diesel builds for both backends. Nor is it needed: the
/// table never holds much, because `ReplayCache::first_use` already deletes forgotten IDs on
/// every remote logout, so what is left here is at most one forgetting window (14 minutes)
/// of remote-logout requests, and `seen_at` is indexed.
fn purge_seen(c: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(seen_requests::table.filter(seen_requests::seen_at.lt(before))).execute(c)
}
