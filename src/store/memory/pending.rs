//! `PendingStore` in memory: verified AuthnRequests waiting for their user, by the hash of
//! the browser's token; `take` is true for exactly one caller.

use chrono::{DateTime, Utc};

use super::rows::taken;
use super::tables::Shared;
use crate::idp::sso::pending::{PendingError, PendingRequest, PendingStore};

/// The in-memory pending requests.
pub struct MemoryPendingStore {
    db: Shared,
}

impl MemoryPendingStore {
    pub(super) fn new(db: Shared) -> Self {
        MemoryPendingStore { db }
    }
}

impl PendingStore for MemoryPendingStore {
    fn put(&self, token_hash: &str, pending: &PendingRequest) -> Result<(), PendingError> {
        let mut tables = self.db.lock();
        let requests = &mut tables.pending.requests;
        if requests.contains_key(token_hash) {
            return Err(PendingError(taken("pending_requests.token_hash")));
        }
        // A replayed request (same issuer and ID) takes over its row.
        requests
            .retain(|_, p| (&p.issuer, &p.request_id) != (&pending.issuer, &pending.request_id));
        requests.insert(token_hash.to_string(), pending.clone());
        Ok(())
    }

    fn get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRequest>, PendingError> {
        let tables = self.db.lock();
        let request = tables.pending.requests.get(token_hash);
        Ok(request.filter(|p| p.expires_at() > now).cloned())
    }

    /// Expired or not: the request is deleted either way (the purge would delete it too).
    fn take(&self, token_hash: &str) -> Result<bool, PendingError> {
        Ok(self.db.lock().pending.requests.remove(token_hash).is_some())
    }

    fn count(&self) -> Result<i64, PendingError> {
        let count = self.db.lock().pending.requests.len();
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}
