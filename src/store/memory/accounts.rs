//! `AccountStore` in memory: users, their addresses (unique by lookup hash) and backup
//! codes, numbered as the database numbers them; the replay guards are compare-and-set
//! under the tables' lock.

use chrono::{DateTime, Utc};

use super::rows::{micros, AccountTables};
use super::tables::Shared;
use crate::accounts::api_tokens::ApiTokenRecord;
use crate::accounts::{
    AccountError, AccountStore, EmailRecord, EmailRemoval, NewUser, StoredEmail, UserRecord,
    UserStatus,
};

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

    fn record_failure(&self, user_id: i64) -> Result<i32, AccountError> {
        self.change(|a| a.count_failure(user_id))
    }

    fn lock_until(&self, user_id: i64, until: DateTime<Utc>) -> Result<(), AccountError> {
        self.change(|a| {
            a.user_mut(user_id)?.locked_until = Some(micros(until));
            Ok(())
        })
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

impl crate::accounts::roles::RoleStore for MemoryAccountStore {
    fn grant(
        &self,
        user_id: i64,
        role: &crate::accounts::roles::Role,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        self.change(|a| {
            if !a.user_exists(user_id) {
                let missing = super::rows::no_such_user("user_roles", user_id);
                return Err(AccountError::Storage(missing));
            }
            let key = (user_id, role.clone());
            if a.roles.contains_key(&key) {
                return Ok(false);
            }
            a.roles.insert(key, micros(now));
            Ok(true)
        })
    }

    fn revoke(
        &self,
        user_id: i64,
        role: &crate::accounts::roles::Role,
    ) -> Result<bool, AccountError> {
        self.change(|a| Ok(a.roles.remove(&(user_id, role.clone())).is_some()))
    }

    fn roles_of(&self, user_id: i64) -> Result<Vec<crate::accounts::roles::Role>, AccountError> {
        self.read(|a| {
            a.roles
                .keys()
                .filter(|(id, _)| *id == user_id)
                .map(|(_, role)| role.clone())
                .collect()
        })
    }

    fn holders_of(&self, role: &crate::accounts::roles::Role) -> Result<Vec<i64>, AccountError> {
        self.read(|a| {
            let mut ids: Vec<i64> = a
                .roles
                .keys()
                .filter(|(_, held)| held == role)
                .map(|(id, _)| *id)
                .collect();
            ids.sort_unstable();
            ids
        })
    }
}

impl crate::accounts::api_tokens::ApiTokenStore for MemoryAccountStore {
    fn insert(&self, token: &ApiTokenRecord) -> Result<(), AccountError> {
        self.change(|a| {
            if !a.user_exists(token.user_id) {
                let missing = super::rows::no_such_user("api_tokens", token.user_id);
                return Err(AccountError::Storage(missing));
            }
            let taken = a.api_tokens.contains_key(&token.id)
                || a.api_tokens
                    .values()
                    .any(|t| t.token_hash == token.token_hash);
            if taken {
                return Err(AccountError::Storage(super::rows::taken("api_tokens")));
            }
            let stored = ApiTokenRecord {
                created_at: micros(token.created_at),
                expires_at: token.expires_at.map(micros),
                revoked_at: token.revoked_at.map(micros),
                ..token.clone()
            };
            a.api_tokens.insert(token.id.clone(), stored);
            Ok(())
        })
    }

    fn find_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, AccountError> {
        self.read(|a| {
            a.api_tokens
                .values()
                .find(|t| t.token_hash == token_hash)
                .cloned()
        })
    }

    fn list(&self, user_id: Option<i64>) -> Result<Vec<ApiTokenRecord>, AccountError> {
        self.read(|a| {
            let mut tokens: Vec<ApiTokenRecord> = a
                .api_tokens
                .values()
                .filter(|t| user_id.is_none_or(|id| t.user_id == id))
                .cloned()
                .collect();
            tokens.sort_by(|x, y| (x.created_at, &x.id).cmp(&(y.created_at, &y.id)));
            tokens
        })
    }

    fn revoke(&self, id: &str, now: DateTime<Utc>) -> Result<Option<i64>, AccountError> {
        self.change(|a| match a.api_tokens.get_mut(id) {
            Some(t) if t.revoked_at.is_none() => {
                t.revoked_at = Some(micros(now));
                Ok(Some(t.user_id))
            }
            _ => Ok(None),
        })
    }
}
