//! The in-memory `mail_queue` table: rows by id, times cut to whole microseconds as the
//! databases keep them. Imports no other file of the in-memory stores.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// One queued message, as the SQL row.
#[derive(Debug, Clone)]
pub(super) struct MailRow {
    pub recipient_key: String,
    pub kind: String,
    pub payload: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub lease_until: Option<DateTime<Utc>>,
    pub lease_owner: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl MailRow {
    /// Unsent, due at `now`, and not leased past `now`: what a claim may take.
    pub fn claimable(&self, now: DateTime<Utc>) -> bool {
        self.sent_at.is_none()
            && self.next_attempt_at <= now
            && self.lease_until.is_none_or(|until| until <= now)
    }

    pub fn free_lease(&mut self) {
        self.lease_until = None;
        self.lease_owner = None;
    }
}

#[derive(Default)]
pub(super) struct MailTable {
    pub rows: HashMap<String, MailRow>,
}

impl MailTable {
    /// Rows of `recipient_key` created after `since`.
    pub fn created_since(&self, recipient_key: &str, since: DateTime<Utc>) -> usize {
        self.rows
            .values()
            .filter(|r| r.recipient_key == recipient_key && r.created_at > since)
            .count()
    }
}
