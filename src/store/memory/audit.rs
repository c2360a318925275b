//! `AuditLog` in memory: events numbered in the order they were recorded, read most recent
//! first, with their times cut to microseconds as stored.

use chrono::{DateTime, Utc};

use super::sessions::MemorySessionStore;
use crate::sessions::{AuditEvent, AuditLog, RecordedEvent, SessionError};

impl AuditLog for MemorySessionStore {
    fn record(&self, event: &AuditEvent, now: DateTime<Utc>) -> Result<(), SessionError> {
        self.db.lock().audit.insert(event, now);
        Ok(())
    }

    /// All under one lock: a reader sees all of the batch or none of it.
    fn record_many(&self, events: &[(AuditEvent, DateTime<Utc>)]) -> Result<(), SessionError> {
        let mut tables = self.db.lock();
        for (event, now) in events {
            tables.audit.insert(event, *now);
        }
        Ok(())
    }

    fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, SessionError> {
        let newest = self.db.lock().audit.newest(limit, |_| true)?;
        Ok(newest.into_iter().map(|e| e.event).collect())
    }

    fn recent_for_user(
        &self,
        public_id: &str,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, SessionError> {
        let of_user = |e: &RecordedEvent| e.event.user_public_id.as_deref() == Some(public_id);
        self.db.lock().audit.newest(limit, of_user)
    }

    fn refused_for_sp(&self, issuer: &str, limit: i64) -> Result<Vec<RecordedEvent>, SessionError> {
        let refused = |e: &RecordedEvent| {
            e.event.issuer.as_deref() == Some(issuer)
                && !e.event.success
                && e.event.event.is_saml_message()
        };
        self.db.lock().audit.newest(limit, refused)
    }
}
