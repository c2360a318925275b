//! User accounts (SPEC 7): the records, the storage traits the sign-in flow talks to, and the
//! account crypto (password hashing, TOTP, backup codes). Sealed fields hold AES-256-GCM
//! ciphertext made by `crypto::secret_box`; stores never see clear PII.

pub mod backup_codes;
pub mod email;
pub mod password;
pub mod password_policy;
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
    /// Counts a failed attempt; locks until `lock_until` once `failed_attempts` reaches
    /// `lock_after`. Returns the new count.
    fn record_failure(
        &self,
        user_id: i64,
        lock_after: i32,
        lock_until: DateTime<Utc>,
    ) -> Result<i32, AccountError>;
    /// Clears the failure count and lock.
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
}
