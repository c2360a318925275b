//! The stores as the use cases and the server take them: one bundle of ports, composed at
//! start-up (`store::compose` over SQLite or PostgreSQL; the contract tests also run an
//! in-memory composition), so the HTTP layer never names a storage implementation.

use std::sync::Arc;

use crate::accounts::api_tokens::ApiTokenStore;
use crate::accounts::roles::RoleStore;
use crate::accounts::security_keys::SecurityKeyStore;
use crate::accounts::tokens::TokenStore;
use crate::accounts::AccountStore;
use crate::idp::sso::pending::PendingStore;
use crate::mail::queue::MailQueue;
use crate::sessions::audit_buffer::AuditBuffer;
use crate::sessions::purge::Purger;
use crate::sessions::signed_in::SignedInReads;
use crate::sessions::{AuditLog, IdentityStore, RateLimiter, ReplayCache, SessionStore};

/// What readiness and the metrics know of the database, whichever backend.
pub trait DatabaseHealth: Send + Sync {
    /// One round trip; the error says why in words for the log.
    fn ping(&self) -> Result<(), String>;
    /// (open connections, idle connections, pool size).
    fn pool_state(&self) -> (u32, u32, u32);
    /// Periodic log maintenance (SQLite's WAL checkpoint): `false` when this database has
    /// no such log (PostgreSQL), so there is nothing to repeat; the error in words for the log.
    fn checkpoint(&self) -> Result<bool, String> {
        Ok(false)
    }
    /// Whether a statement runs inside this process (SQLite's file) rather than as a round
    /// trip to a server (PostgreSQL): short use cases then run on the thread that took the
    /// request (`web::blocking::quick`).
    fn in_process(&self) -> bool {
        false
    }
}

/// Every store, behind its trait.
#[derive(Clone)]
pub struct Stores {
    pub pending: Arc<dyn PendingStore>,
    pub accounts: Arc<dyn AccountStore>,
    /// The console roles (SPEC 19), kept with the accounts.
    pub roles: Arc<dyn RoleStore>,
    /// The console API's bearer tokens (SPEC 19), kept with the accounts.
    pub api_tokens: Arc<dyn ApiTokenStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub identities: Arc<dyn IdentityStore>,
    /// What single sign-on reads about a signed-in browser, in one statement.
    pub signed_in: Arc<dyn SignedInReads>,
    /// The audit log as the use cases write to it (buffered).
    pub audit: Arc<dyn AuditLog>,
    /// The same log's buffer, stored on shutdown.
    pub audit_buffer: Arc<AuditBuffer>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub replay_cache: Arc<dyn ReplayCache>,
    pub tokens: Arc<dyn TokenStore>,
    pub security_keys: Arc<dyn SecurityKeyStore>,
    /// Deletes expired rows; the server runs it every `purge_interval_seconds`.
    pub purger: Arc<dyn Purger>,
    /// Outgoing mail (SPEC 17), drained by the worker `serve` starts.
    pub mail_queue: Arc<dyn MailQueue>,
    pub database: Arc<dyn DatabaseHealth>,
}
