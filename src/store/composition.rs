//! The Diesel composition of [`Stores`]: every port over one database pool, the audit log
//! buffered in front of the session store's table.

use std::sync::Arc;

use super::{
    Backend, Database, DieselAccountStore, DieselMailQueue, DieselPendingStore, DieselPurger,
    DieselSecurityKeyStore, DieselSessionStore, DieselTokenStore,
};
use crate::clock::Clock;
use crate::ports::{DatabaseHealth, Stores};
use crate::sessions::audit_buffer::AuditBuffer;

/// Every store over `db` (SQLite or PostgreSQL); `clock` closes the audit buffer's
/// aggregation windows.
pub fn compose(db: &Database, clock: Arc<dyn Clock>) -> Stores {
    let sessions = Arc::new(DieselSessionStore::new(db.clone()));
    let accounts = Arc::new(DieselAccountStore::new(db.clone()));
    let audit_buffer = AuditBuffer::start(sessions.clone(), clock);
    Stores {
        pending: Arc::new(DieselPendingStore::new(db.clone())),
        accounts: accounts.clone(),
        roles: accounts.clone(),
        api_tokens: accounts,
        sessions: sessions.clone(),
        identities: sessions.clone(),
        signed_in: sessions.clone(),
        audit: audit_buffer.clone(),
        audit_buffer,
        rate_limiter: sessions.clone(),
        replay_cache: sessions,
        tokens: Arc::new(DieselTokenStore::new(db.clone())),
        security_keys: Arc::new(DieselSecurityKeyStore::new(db.clone())),
        purger: Arc::new(DieselPurger::new(db.clone())),
        mail_queue: Arc::new(DieselMailQueue::new(db.clone())),
        database: Arc::new(db.clone()),
    }
}

impl DatabaseHealth for Database {
    fn ping(&self) -> Result<(), String> {
        Database::ping(self).map_err(|e| e.to_string())
    }

    fn pool_state(&self) -> (u32, u32, u32) {
        Database::pool_state(self)
    }

    fn checkpoint(&self) -> Result<bool, String> {
        Database::checkpoint(self)
            .map(|done| done.is_some())
            .map_err(|e| e.to_string())
    }

    fn in_process(&self) -> bool {
        self.backend() == Backend::Sqlite
    }
}
