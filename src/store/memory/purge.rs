//! `Purger` in memory: deletes, table by table, exactly the rows the cutoffs call expired,
//! with the same comparisons as the SQL purge (times cut to microseconds first), all under
//! one lock.

use super::rows::{delete_where, micros};
use super::tables::{Shared, Tables};
use crate::sessions::purge::{PurgeCutoffs, PurgeReport, Purger};
use crate::sessions::SessionError;

/// The in-memory purge of expired rows.
pub struct MemoryPurger {
    db: Shared,
}

impl MemoryPurger {
    pub(super) fn new(db: Shared) -> Self {
        MemoryPurger { db }
    }
}

impl Purger for MemoryPurger {
    fn purge(&self, cutoffs: &PurgeCutoffs) -> Result<PurgeReport, SessionError> {
        Ok(purge(&mut self.db.lock(), cutoffs))
    }
}

fn purge(t: &mut Tables, c: &PurgeCutoffs) -> PurgeReport {
    let pending_expired = micros(c.pending_expired_at);
    let (session_expired, idle_since) =
        (micros(c.session_expired_at), micros(c.session_idle_since));
    let remembered_expired = micros(c.remembered_expired_at);
    let (seen_before, window_before) = (micros(c.replay_seen_before), micros(c.rate_window_before));
    let token_expired = micros(c.token_expired_at);
    PurgeReport {
        pending_requests: delete_where(&mut t.pending.requests, |p| {
            p.expires_at() <= pending_expired
        }),
        // Expired, or idle since the cutoff: exactly what `SessionStore::get` refuses.
        browser_sessions: delete_where(&mut t.sessions.sessions, |s| {
            s.expires_at <= session_expired || s.last_seen_at <= idle_since
        }),
        remembered_browsers: delete_where(&mut t.sessions.remembered, |r| {
            r.expires_at <= remembered_expired
        }),
        seen_requests: delete_where(&mut t.replay.seen, |seen_at| *seen_at < seen_before),
        rate_limits: delete_where(&mut t.rate_limits.windows, |w| w.start < window_before),
        one_time_tokens: delete_where(&mut t.tokens.tokens, |t| t.expires_at <= token_expired),
        audit_events: c.audit_before.map_or(0, |before| {
            let before = micros(before);
            let events = &mut t.audit.events;
            let count = events.len();
            events.retain(|_, e| e.at >= before);
            count - events.len()
        }),
    }
}
