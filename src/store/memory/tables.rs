//! The tables every in-memory store shares, behind one mutex, and the cascade that removing
//! a user sets off. Each table's rows, and the helpers that copy the databases' ways, are in
//! `rows`.

use std::sync::{Arc, Mutex, MutexGuard};

use super::mail_rows::MailTable;
use super::rows::{
    AccountTables, AuditTable, IdentityTables, KeyTable, PendingTable, RateTable, ReplayTable,
    SessionTables, SpTable, TokenTable,
};

/// Every table. One lock for all: a change that spans tables (removing a user, a purge) is
/// atomic, and every compare-and-set succeeds for exactly one caller.
#[derive(Default)]
pub(super) struct Tables {
    pub registry: SpTable,
    pub accounts: AccountTables,
    pub sessions: SessionTables,
    pub identities: IdentityTables,
    pub audit: AuditTable,
    pub rate_limits: RateTable,
    pub replay: ReplayTable,
    pub tokens: TokenTable,
    pub security_keys: KeyTable,
    pub pending: PendingTable,
    pub mail: MailTable,
}

impl Tables {
    /// Deletes the user and every row that names it, as the foreign keys' `ON DELETE
    /// CASCADE` does; false if there was no such user.
    pub fn remove_user(&mut self, user_id: i64) -> bool {
        if !self.accounts.remove_user(user_id) {
            return false;
        }
        self.sessions.forget_user(user_id);
        self.identities.forget_user(user_id);
        self.tokens.forget_user(user_id);
        self.security_keys.forget_user(user_id);
        true
    }

    /// Whether a row may name `user_id` (a foreign key to `users`).
    pub fn user_exists(&self, user_id: i64) -> bool {
        self.accounts.user_exists(user_id)
    }
}

/// The handle every store holds; clones share the tables.
#[derive(Clone, Default)]
pub(super) struct Shared(Arc<Mutex<Tables>>);

impl Shared {
    /// The tables, also after a panic in another holder: every change is made whole under
    /// the lock before anything can panic, so what a poisoned lock guards is consistent.
    pub fn lock(&self) -> MutexGuard<'_, Tables> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_holding_the_tables_does_not_lock_them_away() {
        let shared = Shared::default();
        let holder = shared.clone();
        let crashed = std::thread::spawn(move || {
            let mut tables = holder.lock();
            tables.registry = SpTable::default();
            panic!("a store panicked while holding the lock");
        })
        .join();
        assert!(crashed.is_err());
        assert_eq!(shared.lock().registry.len(), 0);
    }
}
