//! The mail queue (SPEC 17): no page waits for a mail server. A use case's message is stored
//! ([`QueueMailer`], the [`Mailer`](super::Mailer) the use cases get) and the request goes
//! on; a [`Worker`] on every node claims due messages, hands each to the transport
//! ([`Sender`](super::Sender)), and marks it sent or schedules a retry with a capped
//! exponential backoff. A message that keeps failing stays queued and counted (never
//! dropped); a sent one loses its content and is kept only as long as the caps need it.
//!
//! Every message has one recipient: a row's `recipient_key` is the address's keyed lookup
//! hash (the one `user_emails` uses), never the address; the address, the message and its
//! locale are sealed together in the row (they hold live reset links). Per-address caps per
//! hour and per day apply to all outgoing mail: over either cap a message is not stored
//! (logged without the address, counted in `/metrics`) and the caller's answer is unchanged.

mod doorbell;
mod mailer;
mod sealed;
mod worker;

use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;

pub use mailer::QueueMailer;
pub use worker::{pair, Round, Worker, WorkerHandle};

/// The `[mail]` settings: caps and the worker's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSettings {
    /// Messages one address may be sent in any hour (L8).
    pub max_per_address_per_hour: u32,
    /// Messages one address may be sent in any 24 hours.
    pub max_per_address_per_day: u32,
    /// How long the worker sleeps when there is nothing due (a new message wakes it at once
    /// on the node that queued it).
    pub poll_interval: Duration,
    /// The wait before the first retry; each further failure doubles it ...
    pub retry_after: Duration,
    /// ... up to this.
    pub max_retry_after: Duration,
    /// Messages one claim takes.
    pub batch_size: usize,
    /// How long a claim is the claimer's alone; a node that dies mid-batch leaves its
    /// messages to the others after this long.
    pub lease: Duration,
}

pub const DEFAULT_MAX_PER_ADDRESS_PER_HOUR: u32 = 10;
pub const DEFAULT_MAX_PER_ADDRESS_PER_DAY: u32 = 40;

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            max_per_address_per_hour: DEFAULT_MAX_PER_ADDRESS_PER_HOUR,
            max_per_address_per_day: DEFAULT_MAX_PER_ADDRESS_PER_DAY,
            poll_interval: Duration::from_secs(5),
            retry_after: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(3600),
            batch_size: 20,
            lease: Duration::from_secs(600),
        }
    }
}

impl QueueSettings {
    /// The wait after the `attempts`-th failure: `retry_after`, doubled per earlier failure,
    /// capped at `max_retry_after`.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(30);
        self.retry_after
            .saturating_mul(1 << doublings)
            .min(self.max_retry_after)
    }

    pub fn caps(&self) -> Caps {
        Caps {
            per_hour: self.max_per_address_per_hour,
            per_day: self.max_per_address_per_day,
        }
    }
}

/// How many messages one address may get in the hour, and in the day, before a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub per_hour: u32,
    pub per_day: u32,
}

/// A message to store: one recipient, its content sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueuedMail {
    /// A random id; the sealed payload is bound to it.
    pub id: String,
    /// The keyed lookup hash of the recipient's address (what the caps count).
    pub recipient_key: String,
    /// The message's name ([`Mail::kind`](super::Mail::kind)), for logs and metrics.
    pub kind: String,
    /// The recipient, the message and its locale, sealed.
    pub payload: String,
    /// When it was asked for; due at once.
    pub created_at: DateTime<Utc>,
}

/// A claimed message, as the worker gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: String,
    pub recipient_key: String,
    pub kind: String,
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// What [`MailQueue::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// Not stored: the address already got `per_hour` messages in the last hour.
    OverHourlyCap,
    /// Not stored: the address already got `per_day` messages in the last 24 hours.
    OverDailyCap,
}

/// The queue as `/metrics` shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Messages not sent yet.
    pub waiting: u64,
    /// Of those, the ones that failed at least once.
    pub failing: u64,
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("the mail queue failed: {0}")]
pub struct QueueError(pub String);

/// The stored queue (SQLite, PostgreSQL, memory), shared by every node.
pub trait MailQueue: Send + Sync {
    /// Stores `mail` unless its recipient already has `caps.per_hour` messages created in
    /// the hour before `mail.created_at`, or `caps.per_day` in the 24 hours before (sent or
    /// not; a message over a cap is not stored and does not count). Two nodes queueing for
    /// one address at once cannot both pass a cap that has room for one.
    fn enqueue(&self, mail: &NewQueuedMail, caps: Caps) -> Result<Enqueued, QueueError>;
    /// Up to `limit` unsent messages due at `now` whose lease is free, oldest due first,
    /// leased to `owner` (a fresh id for each claim) until `lease_until`. Two claimers never
    /// get the same message while its lease runs (PostgreSQL: `FOR UPDATE SKIP LOCKED`;
    /// SQLite: one atomic UPDATE).
    fn claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, QueueError>;
    /// Delivered: the payload is dropped, the row stays for the caps.
    fn mark_sent(&self, id: &str, now: DateTime<Utc>) -> Result<(), QueueError>;
    /// A failed attempt: one more failure counted, due again at `next_attempt_at`.
    fn retry(&self, id: &str, next_attempt_at: DateTime<Utc>) -> Result<(), QueueError>;
    /// Gives back a claimed message that was not attempted (due at once, no failure counted).
    fn release(&self, id: &str) -> Result<(), QueueError>;
    fn stats(&self) -> Result<QueueStats, QueueError>;
    /// Deletes sent messages created before `before` (past every cap's window); how many.
    fn purge_sent(&self, before: DateTime<Utc>) -> Result<usize, QueueError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_and_is_capped() {
        let settings = QueueSettings {
            retry_after: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            ..QueueSettings::default()
        };
        let waits: Vec<u64> = (1..=6).map(|n| settings.backoff(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 300, 300]);
        assert_eq!(settings.backoff(0).as_secs(), 30);
        assert_eq!(settings.backoff(i32::MAX).as_secs(), 300);
    }
}
