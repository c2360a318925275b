//! The worker every node runs (`serve` starts it, shutdown stops it): claims due messages in
//! batches under a lease, hands each to the transport, and marks it sent or schedules its
//! retry (capped exponential backoff). It runs on a thread of its own, so a slow mail server
//! holds no request's thread. Between rounds it sleeps `poll_interval`, or less when this
//! node queues a message. It also refreshes the queue gauges and purges sent rows past the
//! caps' window.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::doorbell::Doorbell;
use super::sealed::Envelope;
use super::{MailQueue, QueueError, QueueSettings, QueuedMail};
use crate::accounts::sealing::AccountCrypto;
use crate::clock::Clock;
use crate::ids::IdSource;
use crate::mail::{MailError, Mailer};
use crate::metrics::METRICS;

/// How often sent rows older than a day (past both caps' windows) are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub claimed: usize,
    pub sent: usize,
    pub failed: usize,
    /// Claimed but given back unattempted (the transport was failing, or the lease or the
    /// node was ending).
    pub released: usize,
}

pub struct Worker {
    queue: Arc<dyn MailQueue>,
    crypto: Arc<AccountCrypto>,
    /// The transport: the `Sender` of the `mailer` setting.
    transport: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    settings: QueueSettings,
    bell: Arc<Doorbell>,
    stopping: AtomicBool,
}

/// The queue's two ends over one store: the mailer the use cases call and this node's worker,
/// which sends through `transport`.
pub fn pair(
    queue: Arc<dyn MailQueue>,
    crypto: Arc<AccountCrypto>,
    transport: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    settings: QueueSettings,
) -> (super::QueueMailer, Worker) {
    let bell = Arc::new(Doorbell::default());
    let mailer = super::QueueMailer {
        queue: queue.clone(),
        crypto: crypto.clone(),
        clock: clock.clone(),
        ids: ids.clone(),
        settings,
        bell: bell.clone(),
    };
    let worker = Worker {
        queue,
        crypto,
        transport,
        clock,
        ids,
        settings,
        bell,
        stopping: AtomicBool::new(false),
    };
    (mailer, worker)
}

impl Worker {
    /// Claims one batch and delivers it; refreshes the gauges.
    pub fn run_once(&self) -> Result<Round, QueueError> {
        let now = self.clock.now();
        let lease = chrono::Duration::from_std(self.settings.lease)
            .unwrap_or_else(|_| chrono::Duration::minutes(10));
        let owner = self.ids.uuid();
        let batch = self
            .queue
            .claim(&owner, now, now + lease, self.settings.batch_size)?;
        // Half the lease is kept as a margin: past it, the rest goes back unattempted.
        let deadline = Instant::now() + self.settings.lease / 2;
        let mut round = Round {
            claimed: batch.len(),
            ..Round::default()
        };
        let mut transport_down = false;
        for mail in batch {
            if transport_down || self.is_stopping() || Instant::now() >= deadline {
                self.queue.release(&mail.id)?;
                round.released += 1;
                continue;
            }
            match self.deliver(&mail) {
                Ok(()) => {
                    self.queue.mark_sent(&mail.id, self.clock.now())?;
                    METRICS.mail_sent(&mail.kind);
                    round.sent += 1;
                }
                Err(e) => {
                    let attempts = mail.attempts.saturating_add(1);
                    let wait = chrono::Duration::from_std(self.settings.backoff(attempts))
                        .unwrap_or_else(|_| chrono::Duration::hours(1));
                    self.queue.retry(&mail.id, self.clock.now() + wait)?;
                    METRICS.mail_failed(&mail.kind);
                    tracing::warn!(mail = %mail.kind, attempts, error = %e, retry_in_seconds = wait.num_seconds(), "mail not delivered; queued for a retry");
                    round.failed += 1;
                    // A server that is down or slow would fail the rest too: they wait for
                    // the next round instead of costing a timeout each.
                    transport_down = matches!(e, MailError::Unavailable(_));
                }
            }
        }
        let stats = self.queue.stats()?;
        METRICS.mail_queue(stats.waiting, stats.failing);
        Ok(round)
    }

    /// Opens the row and hands it to the transport.
    fn deliver(&self, mail: &QueuedMail) -> Result<(), MailError> {
        // A payload that does not open (another data key, a damaged row) is a failure like
        // any other: retried and counted, never dropped.
        let envelope = Envelope::open(&self.crypto, &mail.id, &mail.payload)
            .ok_or(MailError::InvalidRecipient)?;
        self.transport
            .send(&[envelope.to], &envelope.mail, &envelope.locale)
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Rounds until stopped: at once again after a full batch that went well, else after
    /// `poll_interval` or a ring. A failing database is logged and tried again next round.
    fn run(&self) {
        let mut purged_at: Option<Instant> = None;
        while !self.is_stopping() {
            let busy = match self.run_once() {
                Ok(round) => round.claimed >= self.settings.batch_size && round.released == 0,
                Err(e) => {
                    tracing::warn!(error = %e, "mail queue round failed");
                    false
                }
            };
            if purged_at.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                purged_at = Some(Instant::now());
                self.purge();
            }
            if !busy && !self.is_stopping() {
                self.bell.wait(self.settings.poll_interval);
            }
        }
    }

    fn purge(&self) {
        let before = self.clock.now() - chrono::Duration::days(1);
        match self.queue.purge_sent(before) {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "purged sent mail past the caps' window"),
            Err(e) => tracing::warn!(error = %e, "purge of sent mail failed"),
        }
    }

    /// Runs the worker on a thread of its own until the handle is stopped (or dropped).
    pub fn start(self: &Arc<Self>) -> std::io::Result<WorkerHandle> {
        self.stopping.store(false, Ordering::SeqCst);
        let worker = self.clone();
        let thread = std::thread::Builder::new()
            .name("mail-queue".into())
            .spawn(move || worker.run())?;
        Ok(WorkerHandle {
            worker: self.clone(),
            thread: Some(thread),
        })
    }
}

/// A running worker; stopping it lets the message in flight finish, gives the rest of the
/// batch back, and waits for the thread.
pub struct WorkerHandle {
    worker: Arc<Worker>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.worker.stopping.store(true, Ordering::SeqCst);
        self.worker.bell.ring();
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the mail queue worker panicked");
            }
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
