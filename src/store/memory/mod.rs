//! In-memory implementations of every store trait, for tests and a demo mode without a
//! database: one set of tables behind one mutex, with the keys, cascades, orderings and time
//! precision of the SQL stores, run through the same contract tests (`tests/*_contract.rs`).

mod account_page;
mod accounts;
mod audit;
mod identities;
mod mail_queue;
mod mail_rows;
mod pending;
mod purge;
mod rate_limits;
mod registry;
mod replay;
mod rows;
mod security_keys;
mod sessions;
mod signed_in;
mod tables;
mod tokens;

use std::sync::Arc;

use crate::clock::Clock;

pub use accounts::MemoryAccountStore;
pub use mail_queue::MemoryMailQueue;
pub use pending::MemoryPendingStore;
pub use purge::MemoryPurger;
pub use registry::MemorySpRegistry;
pub use security_keys::MemorySecurityKeyStore;
pub use sessions::MemorySessionStore;
pub use tokens::MemoryTokenStore;

/// One of each store over the same tables, as the SQL stores share one database: removing a
/// user removes their sessions, tokens and keys; the purge sees every table. Clones share
/// the tables too (another "node" of the same data).
#[derive(Clone)]
pub struct MemoryStores {
    pub registry: Arc<MemorySpRegistry>,
    pub accounts: Arc<MemoryAccountStore>,
    pub tokens: Arc<MemoryTokenStore>,
    pub security_keys: Arc<MemorySecurityKeyStore>,
    /// Sessions, identities, the audit log, rate limits and the replay cache (one store
    /// implements the five traits, as the SQL session store does).
    pub sessions: Arc<MemorySessionStore>,
    pub pending: Arc<MemoryPendingStore>,
    pub purger: Arc<MemoryPurger>,
    pub mail_queue: Arc<MemoryMailQueue>,
    db: tables::Shared,
}

impl MemoryStores {
    /// Empty tables; the registry stamps its writes with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let db = tables::Shared::default();
        MemoryStores {
            registry: Arc::new(MemorySpRegistry::new(db.clone(), clock)),
            accounts: Arc::new(MemoryAccountStore::new(db.clone())),
            tokens: Arc::new(MemoryTokenStore::new(db.clone())),
            security_keys: Arc::new(MemorySecurityKeyStore::new(db.clone())),
            sessions: Arc::new(MemorySessionStore::new(db.clone())),
            pending: Arc::new(MemoryPendingStore::new(db.clone())),
            purger: Arc::new(MemoryPurger::new(db.clone())),
            mail_queue: Arc::new(MemoryMailQueue::new(db.clone())),
            db,
        }
    }

    /// (table, rows) of every table, named as the SQL tables are.
    pub fn row_counts(&self) -> Vec<(&'static str, usize)> {
        let t = self.db.lock();
        vec![
            ("service_providers", t.registry.len()),
            ("users", t.accounts.users.len()),
            ("user_emails", t.accounts.emails.len()),
            ("backup_codes", t.accounts.codes.len()),
            ("pending_requests", t.pending.requests.len()),
            ("browser_sessions", t.sessions.sessions.len()),
            ("remembered_browsers", t.sessions.remembered.len()),
            ("agency_identities", t.identities.uuids.len()),
            ("sp_consents", t.identities.consents.len()),
            ("audit_events", t.audit.events.len()),
            ("rate_limits", t.rate_limits.windows.len()),
            ("seen_requests", t.replay.seen.len()),
            ("one_time_tokens", t.tokens.tokens.len()),
            ("security_keys", t.security_keys.keys.len()),
            ("mail_queue", t.mail.rows.len()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{Clock, SystemClock};
    use crate::sessions::RateLimiter;

    #[test]
    fn clones_share_the_tables_and_every_table_is_counted_once() {
        let stores = MemoryStores::new(Arc::new(SystemClock));
        let other = stores.clone();
        let now = SystemClock.now();
        other.sessions.hit("ip:1", now, 1).expect("hit");
        let counts = stores.row_counts();
        assert!(counts.contains(&("rate_limits", 1)));
        let mut names: Vec<_> = counts.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), counts.len());
    }
}
