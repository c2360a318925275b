//! `RateLimiter` in memory: one fixed window per bucket, restarted when a hit names another
//! window.

use chrono::{DateTime, Utc};

use super::rows::{micros, Window};
use super::sessions::MemorySessionStore;
use crate::sessions::{RateLimiter, SessionError};

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
