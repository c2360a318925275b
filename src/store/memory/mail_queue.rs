//! `MailQueue` in memory: the SQL stores' rules over one locked table. A claim under the
//! tables' lock is atomic, so two claimers never take the same row.

use chrono::{DateTime, Duration, Utc};

use super::mail_rows::MailRow;
use super::rows::{delete_where, micros, taken};
use super::tables::Shared;
use crate::mail::queue::{
    Caps, Enqueued, MailQueue, NewQueuedMail, QueueError, QueueStats, QueuedMail,
};

/// The in-memory mail queue.
pub struct MemoryMailQueue {
    db: Shared,
}

impl MemoryMailQueue {
    pub(super) fn new(db: Shared) -> Self {
        MemoryMailQueue { db }
    }

    /// Applies `change` to row `id` if it exists (an UPDATE of no row is no error).
    fn update(&self, id: &str, change: impl FnOnce(&mut MailRow)) -> Result<(), QueueError> {
        let mut tables = self.db.lock();
        if let Some(row) = tables.mail.rows.get_mut(id) {
            change(row);
        }
        Ok(())
    }
}

impl MailQueue for MemoryMailQueue {
    fn enqueue(&self, mail: &NewQueuedMail, caps: Caps) -> Result<Enqueued, QueueError> {
        let mut tables = self.db.lock();
        let table = &mut tables.mail;
        if table.rows.contains_key(&mail.id) {
            return Err(QueueError(taken("mail_queue.id")));
        }
        let created = micros(mail.created_at);
        let key = mail.recipient_key.as_str();
        let limit = |cap: u32| usize::try_from(cap).unwrap_or(usize::MAX);
        if table.created_since(key, created - Duration::hours(1)) >= limit(caps.per_hour) {
            return Ok(Enqueued::OverHourlyCap);
        }
        if table.created_since(key, created - Duration::days(1)) >= limit(caps.per_day) {
            return Ok(Enqueued::OverDailyCap);
        }
        let row = MailRow {
            recipient_key: mail.recipient_key.clone(),
            kind: mail.kind.clone(),
            payload: Some(mail.payload.clone()),
            attempts: 0,
            created_at: created,
            next_attempt_at: created,
            lease_until: None,
            lease_owner: None,
            sent_at: None,
        };
        table.rows.insert(mail.id.clone(), row);
        Ok(Enqueued::Queued)
    }

    fn claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, QueueError> {
        let now = micros(now);
        let mut tables = self.db.lock();
        let mut due: Vec<(&String, &mut MailRow)> = tables
            .mail
            .rows
            .iter_mut()
            .filter(|(_, row)| row.claimable(now))
            .collect();
        due.sort_by(|a, b| (a.1.next_attempt_at, a.0).cmp(&(b.1.next_attempt_at, b.0)));
        Ok(due
            .into_iter()
            .take(limit)
            .map(|(id, row)| {
                row.lease_until = Some(micros(lease_until));
                row.lease_owner = Some(owner.to_string());
                QueuedMail {
                    id: id.clone(),
                    recipient_key: row.recipient_key.clone(),
                    kind: row.kind.clone(),
                    payload: row.payload.clone().unwrap_or_default(),
                    attempts: row.attempts,
                    created_at: row.created_at,
                }
            })
            .collect())
    }

    fn mark_sent(&self, id: &str, now: DateTime<Utc>) -> Result<(), QueueError> {
        self.update(id, |row| {
            row.sent_at = Some(micros(now));
            row.payload = None;
            row.free_lease();
        })
    }

    fn retry(&self, id: &str, next_attempt_at: DateTime<Utc>) -> Result<(), QueueError> {
        self.update(id, |row| {
            row.attempts = row.attempts.saturating_add(1);
            row.next_attempt_at = micros(next_attempt_at);
            row.free_lease();
        })
    }

    fn release(&self, id: &str) -> Result<(), QueueError> {
        self.update(id, MailRow::free_lease)
    }

    fn stats(&self) -> Result<QueueStats, QueueError> {
        let tables = self.db.lock();
        let unsent = tables.mail.rows.values().filter(|r| r.sent_at.is_none());
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        Ok(QueueStats {
            waiting: count(unsent.clone().count()),
            failing: count(unsent.filter(|r| r.attempts > 0).count()),
        })
    }

    fn purge_sent(&self, before: DateTime<Utc>) -> Result<usize, QueueError> {
        let mut tables = self.db.lock();
        let before = micros(before);
        let doomed = |r: &MailRow| r.sent_at.is_some() && r.created_at < before;
        Ok(delete_where(&mut tables.mail.rows, doomed))
    }
}
