//! User accounts (SPEC 7): the records, the storage traits the sign-in flow talks to, and the
//! account crypto (password hashing, TOTP, backup codes). Sealed fields hold AES-256-GCM
//! ciphertext made by `crypto::secret_box`; stores never see clear PII.

pub mod api_tokens;
pub mod backup_codes;
pub mod email;
pub mod password;
pub mod password_policy;
pub mod roles;
pub mod sealing;
pub mod security_keys;
pub mod tokens;
pub mod totp;

use chrono::{DateTime, Utc};
use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("an account with this email already exists")]
    DuplicateEmail,
    #[error("no such user {0}")]
    NotFound(String),
    #[error("account storage failed: {0}")]
    Storage(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Suspended,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Suspended => "suspended",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(UserStatus::Active),
            "suspended" => Some(UserStatus::Suspended),
            _ => None,
        }
    }
}

/// A user as stored. `*_sealed` fields are ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    /// The identifier operators see (`user show`); never sent to an SP.
    pub public_id: String,
    pub password_hash: String,
    pub totp_secret_sealed: Option<String>,
    pub totp_last_step: Option<i64>,
    pub locale: String,
    pub status: UserStatus,
    pub failed_attempts: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub verified_profile_sealed: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub piv_record_sealed: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// An email of a user: its keyed lookup hash and its sealed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRecord {
    pub lookup: String,
    pub sealed: String,
    pub for_sign_in: bool,
}

/// An address as the account page lists it: its row id (what the page's forms name) and
/// the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEmail {
    pub id: i64,
    pub record: EmailRecord,
}

/// What removing an address did (SPEC 17: the last one cannot go; when the address SPs
/// receive goes, another one takes its place in the same transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailRemoval {
    /// Removed; `was_for_sign_in` when it was the address SPs received.
    Removed { was_for_sign_in: bool },
    /// It is the account's only address: nothing removed.
    LastOne,
    /// No such address on this account.
    NotFound,
}

/// Everything needed to create a user in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub public_id: String,
    pub password_hash: String,
    pub totp_secret_sealed: Option<String>,
    pub locale: String,
    pub emails: Vec<EmailRecord>,
    pub backup_code_hashes: Vec<String>,
    pub verified_profile_sealed: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub piv_record_sealed: Option<String>,
}

/// Account storage. Methods that guard against replay or races are compare-and-set: they
/// succeed for exactly one caller even across server processes.
pub trait AccountStore: Send + Sync {
    /// Creates the user with emails and backup codes; `DuplicateEmail` if a lookup exists.
    fn create(&self, user: &NewUser, now: DateTime<Utc>) -> Result<i64, AccountError>;
    fn find_by_email(&self, lookup: &str) -> Result<Option<UserRecord>, AccountError>;
    fn get(&self, id: i64) -> Result<Option<UserRecord>, AccountError>;
    fn find_by_public_id(&self, public_id: &str) -> Result<Option<UserRecord>, AccountError>;
    fn list(&self) -> Result<Vec<UserRecord>, AccountError>;
    fn emails(&self, user_id: i64) -> Result<Vec<EmailRecord>, AccountError>;
    fn set_status(&self, public_id: &str, status: UserStatus) -> Result<(), AccountError>;
    fn remove(&self, public_id: &str) -> Result<(), AccountError>;
    /// Counts a failed attempt (any sign-in step) and returns the count of consecutive
    /// failures. Only [`AccountStore::reset_failures`] lowers it: locking does not.
    fn record_failure(&self, user_id: i64) -> Result<i32, AccountError>;
    /// Locks the account until `until` (the count of failures stays).
    fn lock_until(&self, user_id: i64, until: DateTime<Utc>) -> Result<(), AccountError>;
    /// Clears the failure count and lock (a completed sign-in, a password reset).
    fn reset_failures(&self, user_id: i64) -> Result<(), AccountError>;
    /// Replaces the password hash (reset, change).
    fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<(), AccountError>;
    /// Stores `step` as the last used TOTP step if it is newer than the stored one;
    /// false if another request already used this step or a later one.
    fn claim_totp_step(&self, user_id: i64, step: i64) -> Result<bool, AccountError>;
    /// Hashes of unused backup codes, with their row ids.
    fn unused_backup_codes(&self, user_id: i64) -> Result<Vec<(i64, String)>, AccountError>;
    /// Marks a backup code used if it was not; false if already used.
    fn claim_backup_code(&self, code_id: i64, now: DateTime<Utc>) -> Result<bool, AccountError>;

    // The account page (SPEC 17). Each change stamps the user's `updated_at`.

    /// The user's addresses with their row ids, oldest first.
    fn stored_emails(&self, user_id: i64) -> Result<Vec<StoredEmail>, AccountError>;
    /// Adds a confirmed address; `DuplicateEmail` if any account has it (the unique lookup
    /// decides a race), `NotFound` if the user is gone.
    fn add_email(
        &self,
        user_id: i64,
        email: &EmailRecord,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError>;
    /// Removes one of the user's addresses unless it is the last; if it was the address SPs
    /// receive, the oldest remaining one becomes it (one transaction).
    fn remove_email(
        &self,
        user_id: i64,
        email_id: i64,
        now: DateTime<Utc>,
    ) -> Result<EmailRemoval, AccountError>;
    /// Makes `email_id` the one address SPs receive; false if it is not the user's.
    fn set_sp_email(
        &self,
        user_id: i64,
        email_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError>;
    /// Sets (sealed) or removes the TOTP secret; the last used step is forgotten with the
    /// old secret.
    fn set_totp(
        &self,
        user_id: i64,
        sealed: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError>;
    /// Replaces every backup code of the user (used or not) with `hashes`, in one
    /// transaction.
    fn replace_backup_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), AccountError>;
}
