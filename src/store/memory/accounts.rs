//! `AccountStore` in memory: users, their addresses (unique by lookup hash) and backup
//! codes, numbered as the database numbers them; the replay guards are compare-and-set
//! under the tables' lock.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::tables::{micros, taken, Sequence, Shared};
use crate::accounts::{
    AccountError, AccountStore, EmailRecord, EmailRemoval, NewUser, StoredEmail, UserRecord,
    UserStatus,
};

// Columns that no trait method reads (`users.updated_at`, `user_emails.confirmed_at`) are
// not kept.

pub(super) struct EmailRow {
    pub user_id: i64,
    pub record: EmailRecord,
}

pub(super) struct CodeRow {
    pub user_id: i64,
    pub hash: String,
    pub used_at: Option<DateTime<Utc>>,
}

/// The `users`, `user_emails` and `backup_codes` tables, each ordered by id.
#[derive(Default)]
pub(super) struct AccountTables {
    pub users: BTreeMap<i64, UserRecord>,
    pub emails: BTreeMap<i64, EmailRow>,
    pub codes: BTreeMap<i64, CodeRow>,
    user_ids: Sequence,
    email_ids: Sequence,
    code_ids: Sequence,
}

impl AccountTables {
    pub fn user_exists(&self, user_id: i64) -> bool {
        self.users.contains_key(&user_id)
    }

    /// The user, or `NotFound` with its id.
    pub fn user_mut(&mut self, user_id: i64) -> Result<&mut UserRecord, AccountError> {
        self.users
            .get_mut(&user_id)
            .ok_or_else(|| AccountError::NotFound(user_id.to_string()))
    }

    fn id_of(&self, public_id: &str) -> Option<i64> {
        self.users
            .values()
            .find(|u| u.public_id == public_id)
            .map(|u| u.id)
    }

    /// Deletes the user with its addresses and codes; false if there was none.
    pub fn remove_user(&mut self, user_id: i64) -> bool {
        self.emails.retain(|_, e| e.user_id != user_id);
        self.codes.retain(|_, c| c.user_id != user_id);
        self.users.remove(&user_id).is_some()
    }

    fn lookup_taken(&self, lookup: &str) -> bool {
        self.emails.values().any(|e| e.record.lookup == lookup)
    }

    /// Adds a confirmed address; `DuplicateEmail` if any account has the lookup.
    pub fn insert_email(&mut self, user_id: i64, email: &EmailRecord) -> Result<(), AccountError> {
        if self.lookup_taken(&email.lookup) {
            return Err(AccountError::DuplicateEmail);
        }
        let row = EmailRow {
            user_id,
            record: email.clone(),
        };
        self.emails.insert(self.email_ids.next(), row);
        Ok(())
    }

    pub fn insert_code(&mut self, user_id: i64, hash: &str) {
        let row = CodeRow {
            user_id,
            hash: hash.to_string(),
            used_at: None,
        };
        self.codes.insert(self.code_ids.next(), row);
    }

    /// Checks everything `create` could refuse before writing anything (all or nothing).
    fn check_new(&self, user: &NewUser) -> Result<(), AccountError> {
        if self.id_of(&user.public_id).is_some() {
            return Err(AccountError::Storage(taken("users.public_id")));
        }
        let mut seen = HashSet::new();
        let duplicate = user
            .emails
            .iter()
            .any(|e| self.lookup_taken(&e.lookup) || !seen.insert(e.lookup.as_str()));
        match duplicate {
            true => Err(AccountError::DuplicateEmail),
            false => Ok(()),
        }
    }

    fn create(&mut self, user: &NewUser, now: DateTime<Utc>) -> Result<i64, AccountError> {
        self.check_new(user)?;
        let id = self.user_ids.next();
        let record = UserRecord {
            id,
            public_id: user.public_id.clone(),
            password_hash: user.password_hash.clone(),
            totp_secret_sealed: user.totp_secret_sealed.clone(),
            totp_last_step: None,
            locale: user.locale.clone(),
            status: UserStatus::Active,
            failed_attempts: 0,
            locked_until: None,
            verified_profile_sealed: user.verified_profile_sealed.clone(),
            verified_at: user.verified_at.map(micros),
            piv_record_sealed: user.piv_record_sealed.clone(),
            created_at: now,
        };
        self.users.insert(id, record);
        for email in &user.emails {
            self.insert_email(id, email)?;
        }
        for hash in &user.backup_code_hashes {
            self.insert_code(id, hash);
        }
        Ok(id)
    }

    /// Counts one failure; at `lock_after` the account locks and the count restarts.
    fn count_failure(
        &mut self,
        user_id: i64,
        lock_after: i32,
        lock_until: DateTime<Utc>,
    ) -> Result<i32, AccountError> {
        let user = self.user_mut(user_id)?;
        user.failed_attempts += 1;
        let count = user.failed_attempts;
        if count >= lock_after {
            user.locked_until = Some(lock_until);
            user.failed_attempts = 0;
        }
        Ok(count)
    }
}

/// The in-memory account store.
pub struct MemoryAccountStore {
    db: Shared,
}

impl MemoryAccountStore {
    pub(super) fn new(db: Shared) -> Self {
        MemoryAccountStore { db }
    }

    /// Runs `read` on the account tables.
    fn read<T>(&self, read: impl FnOnce(&AccountTables) -> T) -> Result<T, AccountError> {
        Ok(read(&self.db.lock().accounts))
    }

    /// Runs `change` on the account tables.
    fn change<T>(
        &self,
        change: impl FnOnce(&mut AccountTables) -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        change(&mut self.db.lock().accounts)
    }
}

impl AccountStore for MemoryAccountStore {
    fn create(&self, user: &NewUser, now: DateTime<Utc>) -> Result<i64, AccountError> {
        self.change(|a| a.create(user, micros(now)))
    }

    fn find_by_email(&self, lookup: &str) -> Result<Option<UserRecord>, AccountError> {
        self.read(|a| {
            let email = a.emails.values().find(|e| e.record.lookup == lookup);
            email.and_then(|e| a.users.get(&e.user_id).cloned())
        })
    }

    fn get(&self, id: i64) -> Result<Option<UserRecord>, AccountError> {
        self.read(|a| a.users.get(&id).cloned())
    }

    fn find_by_public_id(&self, public_id: &str) -> Result<Option<UserRecord>, AccountError> {
        self.read(|a| {
            let user = a.id_of(public_id).and_then(|id| a.users.get(&id));
            user.cloned()
        })
    }

    fn list(&self) -> Result<Vec<UserRecord>, AccountError> {
        self.read(|a| a.users.values().cloned().collect())
    }

    fn emails(&self, user_id: i64) -> Result<Vec<EmailRecord>, AccountError> {
        let stored = self.stored_emails(user_id)?;
        Ok(stored.into_iter().map(|e| e.record).collect())
    }

    fn set_status(&self, public_id: &str, status: UserStatus) -> Result<(), AccountError> {
        let mut tables = self.db.lock();
        let accounts = &mut tables.accounts;
        let id = accounts.id_of(public_id);
        let user = id.and_then(|id| accounts.users.get_mut(&id));
        let user = user.ok_or_else(|| AccountError::NotFound(public_id.to_string()))?;
        user.status = status;
        Ok(())
    }

    fn remove(&self, public_id: &str) -> Result<(), AccountError> {
        let mut tables = self.db.lock();
        let id = tables.accounts.id_of(public_id);
        match id.is_some_and(|id| tables.remove_user(id)) {
            true => Ok(()),
            false => Err(AccountError::NotFound(public_id.to_string())),
        }
    }

    fn record_failure(
        &self,
        user_id: i64,
        lock_after: i32,
        lock_until: DateTime<Utc>,
    ) -> Result<i32, AccountError> {
        self.change(|a| a.count_failure(user_id, lock_after, micros(lock_until)))
    }

    fn reset_failures(&self, user_id: i64) -> Result<(), AccountError> {
        self.change(|a| {
            let user = a.user_mut(user_id)?;
            user.failed_attempts = 0;
            user.locked_until = None;
            Ok(())
        })
    }

    fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<(), AccountError> {
        self.change(|a| {
            a.user_mut(user_id)?.password_hash = password_hash.to_string();
            Ok(())
        })
    }

    fn claim_totp_step(&self, user_id: i64, step: i64) -> Result<bool, AccountError> {
        self.change(|a| {
            let Ok(user) = a.user_mut(user_id) else {
                return Ok(false);
            };
            let newer = user.totp_last_step.is_none_or(|last| last < step);
            if newer {
                user.totp_last_step = Some(step);
            }
            Ok(newer)
        })
    }

    fn unused_backup_codes(&self, user_id: i64) -> Result<Vec<(i64, String)>, AccountError> {
        self.read(|a| {
            a.codes
                .iter()
                .filter(|(_, c)| c.user_id == user_id && c.used_at.is_none())
                .map(|(id, c)| (*id, c.hash.clone()))
                .collect()
        })
    }

    fn claim_backup_code(&self, code_id: i64, now: DateTime<Utc>) -> Result<bool, AccountError> {
        self.change(|a| {
            let code = a.codes.get_mut(&code_id).filter(|c| c.used_at.is_none());
            Ok(code.map(|c| c.used_at = Some(micros(now))).is_some())
        })
    }

    fn stored_emails(&self, user_id: i64) -> Result<Vec<StoredEmail>, AccountError> {
        self.read(|a| a.stored_emails(user_id))
    }

    // The account page's changes: `now` would stamp `users.updated_at`, which is not kept.

    fn add_email(
        &self,
        user_id: i64,
        email: &EmailRecord,
        _now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        self.change(|a| a.add_email(user_id, email))
    }

    fn remove_email(
        &self,
        user_id: i64,
        email_id: i64,
        _now: DateTime<Utc>,
    ) -> Result<EmailRemoval, AccountError> {
        self.change(|a| a.remove_email(user_id, email_id))
    }

    fn set_sp_email(
        &self,
        user_id: i64,
        email_id: i64,
        _now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        self.change(|a| a.set_sp_email(user_id, email_id))
    }

    fn set_totp(
        &self,
        user_id: i64,
        sealed: Option<&str>,
        _now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        self.change(|a| a.set_totp(user_id, sealed))
    }

    fn replace_backup_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        _now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        self.change(|a| a.replace_backup_codes(user_id, hashes))
    }
}
