//! `SecurityKeyStore` in memory: WebAuthn credentials by id, their credential ids unique
//! across users, each named 1 to 64 characters (the table's CHECK).

use chrono::{DateTime, Utc};

use super::tables::Shared;
use crate::accounts::security_keys::{
    NewSecurityKey, SecurityKeyRecord, SecurityKeyStore, NAME_MAX_CHARS,
};
use crate::accounts::AccountError;

/// The in-memory security keys.
pub struct MemorySecurityKeyStore {
    db: Shared,
}

impl MemorySecurityKeyStore {
    pub(super) fn new(db: Shared) -> Self {
        MemorySecurityKeyStore { db }
    }
}

impl SecurityKeyStore for MemorySecurityKeyStore {
    fn list_for_user(&self, user_id: i64) -> Result<Vec<SecurityKeyRecord>, AccountError> {
        Ok(self
            .db
            .lock()
            .security_keys
            .of_user(user_id)
            .cloned()
            .collect())
    }

    /// The constraints answer in the databases' order: the name's CHECK, the unique
    /// credential id, then the user's foreign key.
    fn add(&self, key: &NewSecurityKey, now: DateTime<Utc>) -> Result<Option<i64>, AccountError> {
        if !(1..=NAME_MAX_CHARS).contains(&key.name.chars().count()) {
            return Err(AccountError::Storage(format!(
                "CHECK constraint failed: security_keys.name is 1 to {NAME_MAX_CHARS} characters"
            )));
        }
        let mut tables = self.db.lock();
        let keys = &tables.security_keys.keys;
        if keys.values().any(|k| k.credential_id == key.credential_id) {
            return Ok(None);
        }
        if !tables.user_exists(key.user_id) {
            return Err(AccountError::NotFound(key.user_id.to_string()));
        }
        let table = &mut tables.security_keys;
        let id = table.ids.next();
        let record = SecurityKeyRecord {
            id,
            user_id: key.user_id,
            name: key.name.clone(),
            credential_id: key.credential_id.clone(),
            credential: key.credential.clone(),
            attestation: key.attestation,
            backup_eligible: key.backup_eligible,
            created_at: now,
            last_used_at: None,
        };
        table.keys.insert(id, record);
        Ok(Some(id))
    }

    fn remove(&self, id: i64, user_id: i64) -> Result<bool, AccountError> {
        let mut tables = self.db.lock();
        let keys = &mut tables.security_keys.keys;
        let own = keys.get(&id).is_some_and(|k| k.user_id == user_id);
        Ok(own && keys.remove(&id).is_some())
    }

    fn record_use(
        &self,
        id: i64,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let mut tables = self.db.lock();
        let key = tables.security_keys.keys.get_mut(&id);
        Ok(key
            .map(|k| {
                k.credential = credential.to_string();
                k.last_used_at = Some(now);
            })
            .is_some())
    }

    fn count_for_user(&self, user_id: i64) -> Result<i64, AccountError> {
        let count = self.db.lock().security_keys.of_user(user_id).count();
        Ok(i64::try_from(count).unwrap_or(i64::MAX))
    }
}
