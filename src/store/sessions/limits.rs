//! `RateLimiter` and `ReplayCache` on Diesel: counters per bucket and window, and the request
//! IDs already seen. Each write is one conditional statement (or retried once after a lost
//! insert race), so the counts hold across processes.

use crate::sessions::FORGET_EVERY_SECONDS;
use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::DieselSessionStore;
use crate::sessions::{RateLimiter, ReplayCache, SessionError};
use crate::store::errors::session_err;
use crate::store::errors::{is_unique_violation, retry_once_if_raced};
use crate::store::per_backend;
use crate::store::schema::{rate_limits, seen_requests};
use crate::store::time::db_time;
use crate::store::DbConnection;

/// Counts a hit in the bucket's window and returns the count: +1 in the same window, else
/// the window restarts at 1. Writes come before the read, as in `upsert_consent`, and each
/// UPDATE says which window it expects, so none can undo a concurrent count.
fn count_hit(
    c: &mut DbConnection,
    bucket: &str,
    window_start: NaiveDateTime,
) -> Result<i32, DieselError> {
    let same_window = rate_limits::table
        .find(bucket)
        .filter(rate_limits::window_start.eq(window_start));
    let mut n = diesel::update(same_window)
        .set(rate_limits::hits.eq(rate_limits::hits + 1))
        .execute(c)?;
    if n == 0 {
        // Only another window is restarted: a row of this window that another process
        // committed since the first UPDATE keeps its count (the insert below then fails
        // and the caller runs this again).
        let other_window = rate_limits::table
            .find(bucket)
            .filter(rate_limits::window_start.ne(window_start));
        n = diesel::update(other_window)
            .set((
                rate_limits::window_start.eq(window_start),
                rate_limits::hits.eq(1),
            ))
            .execute(c)?;
    }
    if n == 0 {
        diesel::insert_into(rate_limits::table)
            .values((
                rate_limits::bucket.eq(bucket),
                rate_limits::window_start.eq(window_start),
                rate_limits::hits.eq(1),
            ))
            .execute(c)?;
    }
    rate_limits::table
        .find(bucket)
        .select(rate_limits::hits)
        .first(c)
}

impl RateLimiter for DieselSessionStore {
    fn hit(
        &self,
        bucket: &str,
        window_start: DateTime<Utc>,
        limit: i32,
    ) -> Result<bool, SessionError> {
        let window_start = db_time(window_start);
        let mut conn = self.conn()?;
        let hits = retry_once_if_raced(|| conn.transaction(|c| count_hit(c, bucket, window_start)))
            .map_err(session_err)?;
        Ok(hits <= limit)
    }
}

impl ReplayCache for DieselSessionStore {
    fn first_use(
        &self,
        issuer: &str,
        request_id: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let mut conn = self.conn()?;
        let last = self.replay_forgotten_at.load(Ordering::Relaxed);
        let due = now.timestamp().saturating_sub(last) >= FORGET_EVERY_SECONDS;
        if due
            && self
                .replay_forgotten_at
                .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            diesel::delete(
                seen_requests::table.filter(seen_requests::seen_at.lt(db_time(forget_before))),
            )
            .execute(&mut *conn)
            .map_err(session_err)?;
        }
        let inserted = per_backend!(&mut *conn, |c| {
            diesel::insert_into(seen_requests::table)
                .values((
                    seen_requests::issuer.eq(issuer),
                    seen_requests::request_id.eq(request_id),
                    seen_requests::seen_at.eq(db_time(now)),
                ))
                .execute(c)
        });
        match inserted {
            Ok(_) => Ok(true),
            Err(_) if is_unique_violation(&inserted) => Ok(false),
            Err(e) => Err(session_err(e)),
        }
    }
}
