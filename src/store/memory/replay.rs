//! `ReplayCache` in memory: the (issuer, request ID) pairs already acted on, with when;
//! entries older than `forget_before` are dropped at most every `FORGET_EVERY_SECONDS`, as
//! each database-backed process does.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::sessions::MemorySessionStore;
use super::tables::micros;
use crate::sessions::{ReplayCache, SessionError, FORGET_EVERY_SECONDS};

/// The `seen_requests` table, and when old entries were last dropped (Unix seconds).
#[derive(Default)]
pub(super) struct ReplayTable {
    pub seen: HashMap<(String, String), DateTime<Utc>>,
    forgotten_at: Option<i64>,
}

impl ReplayTable {
    fn forget_if_due(&mut self, now: DateTime<Utc>, forget_before: DateTime<Utc>) {
        let now = now.timestamp();
        let due = self
            .forgotten_at
            .is_none_or(|last| now.saturating_sub(last) >= FORGET_EVERY_SECONDS);
        if due {
            self.forgotten_at = Some(now);
            let before = micros(forget_before);
            self.seen.retain(|_, seen_at| *seen_at >= before);
        }
    }
}

impl ReplayCache for MemorySessionStore {
    fn first_use(
        &self,
        issuer: &str,
        request_id: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let mut tables = self.db.lock();
        let replay = &mut tables.replay;
        replay.forget_if_due(now, forget_before);
        let key = (issuer.to_string(), request_id.to_string());
        if replay.seen.contains_key(&key) {
            return Ok(false);
        }
        replay.seen.insert(key, micros(now));
        Ok(true)
    }
}
