//! The tables every in-memory store shares, behind one mutex: each concern's rows, the
//! sequences that number them, the cascade that removing a user sets off, and the time
//! precision the databases keep.

use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SubsecRound, Utc};

use super::accounts::AccountTables;
use super::audit::AuditTable;
use super::identities::IdentityTables;
use super::pending::PendingTable;
use super::rate_limits::RateTable;
use super::registry::SpTable;
use super::replay::ReplayTable;
use super::security_keys::KeyTable;
use super::sessions::SessionTables;
use super::tokens::TokenTable;

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

/// Row ids: 1, 2, 3, … never reused, as `AUTOINCREMENT` and PostgreSQL sequences.
#[derive(Debug, Default)]
pub(super) struct Sequence(i64);

impl Sequence {
    pub fn next(&mut self) -> i64 {
        self.0 += 1;
        self.0
    }
}

/// A time as the databases keep it where the SQL stores cut it: whole microseconds.
pub(super) fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// What a foreign key to `users` says when the user does not exist.
pub(super) fn no_such_user(table: &str, user_id: i64) -> String {
    format!("FOREIGN KEY constraint failed: {table}.user_id {user_id} names no user")
}

/// What a unique key says when the value exists.
pub(super) fn taken(key: &str) -> String {
    format!("UNIQUE constraint failed: {key}")
}

/// Deletes the rows of `table` that pass `doomed`; how many.
pub(super) fn delete_where<K, V>(
    table: &mut std::collections::HashMap<K, V>,
    doomed: impl Fn(&V) -> bool,
) -> usize {
    let before = table.len();
    table.retain(|_, row| !doomed(row));
    before - table.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

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

    #[test]
    fn times_are_cut_to_whole_microseconds_and_ids_count_from_one() {
        let t = Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap();
        let cut = micros(t + Duration::nanoseconds(1_234_567));
        assert_eq!(cut, t + Duration::microseconds(1_234));
        let mut ids = Sequence::default();
        assert_eq!((ids.next(), ids.next()), (1, 2));
    }
}
