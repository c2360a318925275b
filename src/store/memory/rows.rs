//! Each table's rows and the changes made to them in place, in the databases' ways: ids
//! from sequences, times cut to whole microseconds, a broken unique or foreign key worded
//! as the databases word it. Imports no other file of the in-memory stores.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};

use crate::accounts::security_keys::SecurityKeyRecord;
use crate::accounts::tokens::{TokenPurpose, TokenRecord};
use crate::accounts::{AccountError, EmailRecord, NewUser, UserRecord, UserStatus};
use crate::idp::sso::pending::PendingRequest;
use crate::registry::{RegistryError, ServiceProvider};
use crate::sessions::{
    AuditEvent, RecordedEvent, SessionError, SessionRecord, FORGET_EVERY_SECONDS,
};

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

/// SPs by issuer (ordered by bytes, as `list` returns them) and the revision counter.
#[derive(Default)]
pub(super) struct SpTable {
    pub sps: BTreeMap<String, ServiceProvider>,
    pub revision: i64,
}

impl SpTable {
    /// Stores `sp` as new, stamped `now` (the caller's `created_at` is the store's to set).
    pub fn insert(&mut self, sp: &ServiceProvider, now: DateTime<Utc>) {
        let stored = ServiceProvider {
            created_at: Some(now),
            updated_at: Some(now),
            version: 1,
            ..sp.clone()
        };
        self.sps.insert(sp.issuer.clone(), stored);
    }

    /// Replaces `sp` keeping its `created_at` and bumping its version, only at `version`
    /// when given; false if the issuer is unknown, `Stale` if its version is another.
    pub fn replace(
        &mut self,
        sp: &ServiceProvider,
        version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<bool, RegistryError> {
        let Some(old) = self.sps.get_mut(&sp.issuer) else {
            return Ok(false);
        };
        if version.is_some_and(|v| v != old.version) {
            return Err(RegistryError::Stale(sp.issuer.clone()));
        }
        *old = ServiceProvider {
            created_at: old.created_at,
            updated_at: Some(now),
            version: old.version + 1,
            ..sp.clone()
        };
        Ok(true)
    }

    pub fn len(&self) -> usize {
        self.sps.len()
    }
}

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

/// The `users`, `user_emails` and `backup_codes` tables, each ordered by id. The account
/// page's changes to them are in `account_page`.
#[derive(Default)]
pub(super) struct AccountTables {
    pub users: BTreeMap<i64, UserRecord>,
    pub emails: BTreeMap<i64, EmailRow>,
    pub codes: BTreeMap<i64, CodeRow>,
    /// The `user_roles` table: (user, role) with when it was granted.
    pub roles: BTreeMap<(i64, crate::accounts::roles::Role), DateTime<Utc>>,
    /// The `api_tokens` table, by id.
    pub api_tokens: BTreeMap<String, crate::accounts::api_tokens::ApiTokenRecord>,
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

    pub fn id_of(&self, public_id: &str) -> Option<i64> {
        self.users
            .values()
            .find(|u| u.public_id == public_id)
            .map(|u| u.id)
    }

    /// Deletes the user with its addresses and codes; false if there was none.
    pub fn remove_user(&mut self, user_id: i64) -> bool {
        self.emails.retain(|_, e| e.user_id != user_id);
        self.codes.retain(|_, c| c.user_id != user_id);
        self.roles.retain(|(id, _), _| *id != user_id);
        self.api_tokens.retain(|_, t| t.user_id != user_id);
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

    pub fn create(&mut self, user: &NewUser, now: DateTime<Utc>) -> Result<i64, AccountError> {
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

    /// Counts one failure; returns the count of consecutive failures.
    pub fn count_failure(&mut self, user_id: i64) -> Result<i32, AccountError> {
        let user = self.user_mut(user_id)?;
        user.failed_attempts += 1;
        Ok(user.failed_attempts)
    }
}

pub(super) struct Remembered {
    pub user_id: i64,
    pub expires_at: DateTime<Utc>,
}

/// The `browser_sessions` and `remembered_browsers` tables.
#[derive(Default)]
pub(super) struct SessionTables {
    pub sessions: HashMap<String, SessionRecord>,
    pub remembered: HashMap<String, Remembered>,
}

impl SessionTables {
    pub fn forget_user(&mut self, user_id: i64) {
        self.sessions.retain(|_, s| s.user_id != Some(user_id));
        self.remembered.retain(|_, r| r.user_id != user_id);
    }
}

pub(super) struct Consent {
    pub attributes: Vec<String>,
    pub consented_at: DateTime<Utc>,
    pub last_authenticated_at: Option<DateTime<Utc>>,
}

/// The `agency_identities` and `sp_consents` tables, keyed by (user, agency key or issuer).
/// An identity's `created_at` is read by no trait method and not kept.
#[derive(Default)]
pub(super) struct IdentityTables {
    pub uuids: BTreeMap<(i64, String), String>,
    pub consents: BTreeMap<(i64, String), Consent>,
}

impl IdentityTables {
    pub fn forget_user(&mut self, user_id: i64) {
        self.uuids.retain(|(user, _), _| *user != user_id);
        self.consents.retain(|(user, _), _| *user != user_id);
    }
}

/// The `audit_events` table, by id.
#[derive(Default)]
pub(super) struct AuditTable {
    pub events: BTreeMap<i64, RecordedEvent>,
    ids: Sequence,
}

impl AuditTable {
    pub fn insert(&mut self, event: &AuditEvent, now: DateTime<Utc>) {
        let recorded = RecordedEvent {
            event: event.clone(),
            at: micros(now),
        };
        self.events.insert(self.ids.next(), recorded);
    }

    /// At most `limit` events that pass `wanted`, most recent first.
    pub fn newest(
        &self,
        limit: i64,
        wanted: impl Fn(&RecordedEvent) -> bool,
    ) -> Result<Vec<RecordedEvent>, SessionError> {
        // PostgreSQL refuses a negative LIMIT (SQLite would read it as none).
        let limit = usize::try_from(limit)
            .map_err(|_| SessionError(format!("LIMIT must not be negative: {limit}")))?;
        let newest = self.events.values().rev().filter(|e| wanted(e));
        Ok(newest.take(limit).cloned().collect())
    }
}

pub(super) struct Window {
    pub start: DateTime<Utc>,
    pub hits: i32,
}

/// The `rate_limits` table, by bucket.
#[derive(Default)]
pub(super) struct RateTable {
    pub windows: HashMap<String, Window>,
}

/// The `seen_requests` table, and when old entries were last dropped (Unix seconds).
#[derive(Default)]
pub(super) struct ReplayTable {
    pub seen: HashMap<(String, String), DateTime<Utc>>,
    forgotten_at: Option<i64>,
}

impl ReplayTable {
    pub fn forget_if_due(&mut self, now: DateTime<Utc>, forget_before: DateTime<Utc>) {
        let now = now.timestamp();
        let due = self
            .forgotten_at
            .is_none_or(|last| now.saturating_sub(last) >= FORGET_EVERY_SECONDS);
        if due {
            self.forgotten_at = Some(now);
            let before = micros(forget_before);
            self.seen.retain(|_, seen_at| *seen_at >= before);
        }
    }
}

/// The `one_time_tokens` table, by token hash.
#[derive(Default)]
pub(super) struct TokenTable {
    pub tokens: HashMap<String, TokenRecord>,
}

impl TokenTable {
    pub fn forget_user(&mut self, user_id: i64) {
        delete_where(&mut self.tokens, |t| t.user_id == Some(user_id));
    }

    /// The token if it has this purpose and is alive at `now`.
    pub fn live(
        &mut self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Option<&mut TokenRecord> {
        let token = self.tokens.get_mut(token_hash);
        token.filter(|t| t.purpose == purpose && t.expires_at > now)
    }
}

/// The `security_keys` table, by id (oldest first).
#[derive(Default)]
pub(super) struct KeyTable {
    pub keys: BTreeMap<i64, SecurityKeyRecord>,
    pub ids: Sequence,
}

impl KeyTable {
    pub fn forget_user(&mut self, user_id: i64) {
        self.keys.retain(|_, k| k.user_id != user_id);
    }

    pub fn of_user(&self, user_id: i64) -> impl Iterator<Item = &SecurityKeyRecord> {
        self.keys.values().filter(move |k| k.user_id == user_id)
    }
}

/// The `pending_requests` table, by token hash; each expires at `expires_at()`.
#[derive(Default)]
pub(super) struct PendingTable {
    pub requests: HashMap<String, PendingRequest>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn times_are_cut_to_whole_microseconds_and_ids_count_from_one() {
        let t = Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap();
        let cut = micros(t + Duration::nanoseconds(1_234_567));
        assert_eq!(cut, t + Duration::microseconds(1_234));
        let mut ids = Sequence::default();
        assert_eq!((ids.next(), ids.next()), (1, 2));
    }
}
