//! `RateLimiter` in memory: one fixed window per bucket, restarted when a hit names another
//! window.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::sessions::MemorySessionStore;
use super::tables::micros;
use crate::sessions::{RateLimiter, SessionError};

pub(super) struct Window {
    pub start: DateTime<Utc>,
    pub hits: i32,
}

/// The `rate_limits` table, by bucket.
#[derive(Default)]
pub(super) struct RateTable {
    pub windows: HashMap<String, Window>,
}

impl RateLimiter for MemorySessionStore {
    fn hit(
        &self,
        bucket: &str,
        window_start: DateTime<Utc>,
        limit: i32,
    ) -> Result<bool, SessionError> {
        let start = micros(window_start);
        let mut tables = self.db.lock();
        let window = tables
            .rate_limits
            .windows
            .entry(bucket.to_string())
            .or_insert(Window { start, hits: 0 });
        if window.start == start {
            window.hits += 1;
        } else {
            *window = Window { start, hits: 1 };
        }
        Ok(window.hits <= limit)
    }
}
