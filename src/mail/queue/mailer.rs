//! The [`Mailer`] the use cases get: each recipient's message becomes one sealed row, checked
//! against the per-address caps, and the call returns without talking to a mail server. Its
//! only failure is the queue's own (the database), which the caller reports as any storage
//! outage; a delivery failure never reaches a page.

use std::sync::Arc;

use super::doorbell::Doorbell;
use super::sealed::Envelope;
use super::{Enqueued, MailQueue, NewQueuedMail, QueueSettings};
use crate::accounts::sealing::AccountCrypto;
use crate::clock::Clock;
use crate::ids::IdSource;
use crate::mail::{Mail, MailError, Mailer};
use crate::metrics::METRICS;

/// Built with its node's worker by [`pair`](super::pair).
pub struct QueueMailer {
    pub(super) queue: Arc<dyn MailQueue>,
    pub(super) crypto: Arc<AccountCrypto>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) ids: Arc<dyn IdSource>,
    pub(super) settings: QueueSettings,
    /// Wakes this node's worker when a message is queued.
    pub(super) bell: Arc<Doorbell>,
}

impl QueueMailer {
    /// The row for one recipient, or why there is none.
    fn row(&self, to: &str, mail: &Mail, locale: &str) -> Result<NewQueuedMail, MailError> {
        let (normalized, recipient_key) = self
            .crypto
            .email_lookup(to)
            .ok_or(MailError::InvalidRecipient)?;
        let id = self.ids.uuid();
        let envelope = Envelope {
            to: normalized,
            mail: mail.clone(),
            locale: locale.to_string(),
        };
        let payload = envelope
            .seal(&self.crypto, &id)
            .ok_or_else(|| MailError::Unavailable("the message cannot be sealed".into()))?;
        Ok(NewQueuedMail {
            id,
            recipient_key,
            kind: mail.kind().to_string(),
            payload,
            created_at: self.clock.now(),
        })
    }
}

impl Mailer for QueueMailer {
    fn send(&self, to: &[String], mail: &Mail, locale: &str) -> Result<(), MailError> {
        if to.is_empty() {
            return Err(MailError::InvalidRecipient);
        }
        // Every address is checked before any row is stored: all or nothing.
        let rows = to
            .iter()
            .map(|address| self.row(address, mail, locale))
            .collect::<Result<Vec<_>, _>>()?;
        for row in &rows {
            let enqueued = self
                .queue
                .enqueue(row, self.settings.caps())
                .map_err(|e| MailError::Unavailable(e.to_string()))?;
            match enqueued {
                Enqueued::Queued => METRICS.mail_queued(mail.kind()),
                Enqueued::OverHourlyCap | Enqueued::OverDailyCap => {
                    let cap = if enqueued == Enqueued::OverHourlyCap {
                        "hourly"
                    } else {
                        "daily"
                    };
                    // The address is never logged; the operator sees the kind and the cap.
                    tracing::warn!(
                        mail = mail.kind(),
                        cap,
                        "mail dropped: the address reached its cap"
                    );
                    METRICS.mail_dropped(cap);
                }
            }
        }
        self.bell.ring();
        Ok(())
    }
}
