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

use super::schema::{
    audit_events, browser_sessions, one_time_tokens, pending_requests, rate_limits,
    remembered_browsers, seen_requests,
};
use super::session_store::{db_time, err};
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
        let mut conn = self.db.conn().map_err(err)?;
        let c: &mut DbConnection = &mut conn;
        let n = self.batch_size;
        Ok(PurgeReport {
            pending_requests: purge_pending(c, db_time(cutoffs.pending_expired_at), n)
                .map_err(err)?,
            browser_sessions: purge_sessions(
                c,
                db_time(cutoffs.session_expired_at),
                db_time(cutoffs.session_idle_since),
                n,
            )
            .map_err(err)?,
            remembered_browsers: purge_remembered(c, db_time(cutoffs.remembered_expired_at), n)
                .map_err(err)?,
            seen_requests: purge_seen(c, db_time(cutoffs.replay_seen_before)).map_err(err)?,
            rate_limits: purge_rate_limits(c, db_time(cutoffs.rate_window_before), n)
                .map_err(err)?,
            one_time_tokens: purge_tokens(c, db_time(cutoffs.token_expired_at), n).map_err(err)?,
            audit_events: match cutoffs.audit_before {
                Some(before) => purge_audit(c, db_time(before), n).map_err(err)?,
                None => 0,
            },
        })
    }
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

// Each batch is `DELETE FROM t WHERE pk IN (SELECT e.pk FROM t AS e WHERE <expired> LIMIT n)`:
// SQLite and PostgreSQL both take it (neither DELETE … LIMIT nor DELETE … USING is shared).
// The inner `t` is an alias because Diesel refuses a subselect over the table it filters.

fn purge_pending(c: &mut DbConnection, expired_at: NaiveDateTime, n: i64) -> QueryResult<usize> {
    use pending_requests as t;
    let e = diesel::alias!(pending_requests as expired_pending);
    in_batches(n, || {
        let batch = e
            .filter(e.field(t::expires_at).le(expired_at))
            .select(e.field(t::token_hash))
            .limit(n);
        diesel::delete(t::table.filter(t::token_hash.eq_any(batch))).execute(c)
    })
}

/// Expired, or idle since the cutoff: exactly what `SessionStore::get` no longer returns.
fn purge_tokens(c: &mut DbConnection, expired_at: NaiveDateTime, n: i64) -> QueryResult<usize> {
    use one_time_tokens as t;
    let e = diesel::alias!(one_time_tokens as expired_tokens);
    in_batches(n, || {
        let batch = e
            .filter(e.field(t::expires_at).le(expired_at))
            .select(e.field(t::token_hash))
            .limit(n);
        diesel::delete(t::table.filter(t::token_hash.eq_any(batch))).execute(c)
    })
}

/// Audit events past their retention (`audit_retention_days`), oldest first.
fn purge_audit(c: &mut DbConnection, before: NaiveDateTime, n: i64) -> QueryResult<usize> {
    use audit_events as t;
    let e = diesel::alias!(audit_events as old_events);
    in_batches(n, || {
        let batch = e
            .filter(e.field(t::created_at).lt(before))
            .select(e.field(t::id))
            .limit(n);
        diesel::delete(t::table.filter(t::id.eq_any(batch))).execute(c)
    })
}

fn purge_sessions(
    c: &mut DbConnection,
    expired_at: NaiveDateTime,
    idle_since: NaiveDateTime,
    n: i64,
) -> QueryResult<usize> {
    use browser_sessions as t;
    let e = diesel::alias!(browser_sessions as expired_sessions);
    in_batches(n, || {
        let batch = e
            .filter(
                e.field(t::expires_at)
                    .le(expired_at)
                    .or(e.field(t::last_seen_at).le(idle_since)),
            )
            .select(e.field(t::token_hash))
            .limit(n);
        diesel::delete(t::table.filter(t::token_hash.eq_any(batch))).execute(c)
    })
}

fn purge_remembered(c: &mut DbConnection, expired_at: NaiveDateTime, n: i64) -> QueryResult<usize> {
    use remembered_browsers as t;
    let e = diesel::alias!(remembered_browsers as expired_remembered);
    in_batches(n, || {
        let batch = e
            .filter(e.field(t::expires_at).le(expired_at))
            .select(e.field(t::token_hash))
            .limit(n);
        diesel::delete(t::table.filter(t::token_hash.eq_any(batch))).execute(c)
    })
}

fn purge_rate_limits(c: &mut DbConnection, before: NaiveDateTime, n: i64) -> QueryResult<usize> {
    use rate_limits as t;
    let e = diesel::alias!(rate_limits as old_windows);
    in_batches(n, || {
        let batch = e
            .filter(e.field(t::window_start).lt(before))
            .select(e.field(t::bucket))
            .limit(n);
        diesel::delete(t::table.filter(t::bucket.eq_any(batch))).execute(c)
    })
}

/// One statement, no batches: the key is (issuer, request_id), and a two-column
/// `IN (SELECT …)` is not something Diesel builds for both backends. Nor is it needed: the
/// table never holds much, because `ReplayCache::first_use` already deletes forgotten IDs on
/// every remote logout, so what is left here is at most one forgetting window (14 minutes)
/// of remote-logout requests, and `seen_at` is indexed.
fn purge_seen(c: &mut DbConnection, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(seen_requests::table.filter(seen_requests::seen_at.lt(before))).execute(c)
}
