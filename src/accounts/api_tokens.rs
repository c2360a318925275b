//! Bearer tokens of the console API (SPEC 19): `saml-idp token create` prints one once; only
//! its SHA-256 is stored. A token acts with its user's roles, and is refused once revoked,
//! expired, or its user is gone.

use chrono::{DateTime, Utc};

use super::AccountError;

/// The prefix of every token, so that one pasted into the wrong place is recognisable.
pub const PREFIX: &str = "sidp_";
/// The longest token name.
pub const MAX_NAME_CHARS: usize = 100;

/// A token as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiTokenRecord {
    /// The token's public id (`token list`, `token revoke`).
    pub id: String,
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiTokenRecord {
    /// Usable at `now`: not revoked and not expired.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| at > now)
    }
}

/// A token name as given: trimmed, 1 to 100 characters, no control characters.
pub fn valid_name(name: &str) -> Option<&str> {
    let name = name.trim();
    let chars = name.chars().count();
    (chars > 0 && chars <= MAX_NAME_CHARS && !name.chars().any(char::is_control)).then_some(name)
}

pub trait ApiTokenStore: Send + Sync {
    fn insert(&self, token: &ApiTokenRecord) -> Result<(), AccountError>;
    /// The token with this hash, live or not (the caller decides with `is_live`).
    fn find_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, AccountError>;
    /// Every token, oldest first (`user_id` given: that user's only).
    fn list(&self, user_id: Option<i64>) -> Result<Vec<ApiTokenRecord>, AccountError>;
    /// Marks the token revoked at `now`; its user's id, or `None` if there is no token with
    /// this id or it was revoked already.
    fn revoke(&self, id: &str, now: DateTime<Utc>) -> Result<Option<i64>, AccountError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("  CI deploy "), Some("CI deploy"));
        assert_eq!(valid_name(""), None);
        assert_eq!(valid_name("a\nb"), None);
        assert_eq!(valid_name(&"x".repeat(101)), None);
    }
}
