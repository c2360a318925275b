//! `ReplayCache` in memory: the (issuer, request ID) pairs already acted on, with when;
//! entries older than `forget_before` are dropped at most every `FORGET_EVERY_SECONDS`, as
//! each database-backed process does.

use chrono::{DateTime, Utc};

use super::rows::micros;
use super::sessions::MemorySessionStore;
use crate::sessions::{ReplayCache, SessionError};

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
