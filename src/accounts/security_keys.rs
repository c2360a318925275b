//! WebAuthn security keys and platform authenticators on file (SPEC 18): several per user,
//! each with the name its user gave it. The credential itself (public key, signature
//! counter, backup state) is the ceremony library's JSON, opaque here; its id (base64url) is
//! unique across users, so an authenticator's answer names at most one stored key. Beside
//! it, what the key proved at registration: the verdict on its attestation and whether it
//! may be synced (backup eligible), the two facts AAL3 rests on.

use chrono::{DateTime, Utc};

use super::AccountError;

/// The longest name a user may give a key, in characters.
pub const NAME_MAX_CHARS: usize = 64;

/// The verdict on a key's attestation statement, reached once at registration (SPEC 18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attestation {
    /// No statement (or self attestation), or none was asked for: nothing is known of the
    /// authenticator. Every key stored before attestation was checked.
    Absent,
    /// A certificate chain that leads to no configured root (or none was configured).
    Untrusted,
    /// A chain to one of `[webauthn] aal3_attestation_roots`.
    Trusted,
}

impl Attestation {
    /// The word stored in `security_keys.attestation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Attestation::Absent => "none",
            Attestation::Untrusted => "untrusted",
            Attestation::Trusted => "trusted",
        }
    }

    pub fn parse(word: &str) -> Option<Self> {
        [
            Attestation::Absent,
            Attestation::Untrusted,
            Attestation::Trusted,
        ]
        .into_iter()
        .find(|a| a.as_str() == word)
    }
}

/// A stored key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityKeyRecord {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The credential id, base64url without padding.
    pub credential_id: String,
    /// The credential as JSON (webauthn-rs `SecurityKey`, counter included).
    pub credential: String,
    pub attestation: Attestation,
    /// The authenticator said the credential may be backed up (synced) elsewhere.
    pub backup_eligible: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl SecurityKeyRecord {
    /// The key is known hardware that keeps its credential (an attestation to a configured
    /// root, not backup eligible): the only kind that may sign in at AAL3 (SPEC 18).
    pub fn is_hardware_bound(&self) -> bool {
        self.attestation == Attestation::Trusted && !self.backup_eligible
    }
}

/// A key to store for a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSecurityKey {
    pub user_id: i64,
    pub name: String,
    pub credential_id: String,
    pub credential: String,
    pub attestation: Attestation,
    pub backup_eligible: bool,
}

/// The name as stored: trimmed, 1 to [`NAME_MAX_CHARS`] characters, no control
/// characters; `None` when nothing acceptable is left.
pub fn clean_name(typed: &str) -> Option<String> {
    let name = typed.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= NAME_MAX_CHARS
        && !name.chars().any(char::is_control);
    ok.then(|| name.to_string())
}

pub trait SecurityKeyStore: Send + Sync {
    /// The user's keys, oldest first.
    fn list_for_user(&self, user_id: i64) -> Result<Vec<SecurityKeyRecord>, AccountError>;
    /// Stores a key; `None` when its credential id is already registered (to anyone).
    fn add(&self, key: &NewSecurityKey, now: DateTime<Utc>) -> Result<Option<i64>, AccountError>;
    /// Removes the key `id` if it belongs to `user_id`; false otherwise.
    fn remove(&self, id: i64, user_id: i64) -> Result<bool, AccountError>;
    /// After a sign-in with the key: its updated credential (counter, backup state) and
    /// `last_used_at`; false if the key is gone.
    fn record_use(
        &self,
        id: i64,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError>;
    fn count_for_user(&self, user_id: i64) -> Result<i64, AccountError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  YubiKey 5 ").as_deref(), Some("YubiKey 5"));
        assert_eq!(clean_name("   "), None);
        assert_eq!(clean_name("a\u{7}b"), None);
        let longest = "é".repeat(NAME_MAX_CHARS);
        assert_eq!(clean_name(&longest), Some(longest.clone()));
        assert_eq!(clean_name(&format!("{longest}x")), None);
    }

    #[test]
    fn attestation_words_round_trip() {
        for a in [
            Attestation::Absent,
            Attestation::Untrusted,
            Attestation::Trusted,
        ] {
            assert_eq!(Attestation::parse(a.as_str()), Some(a));
        }
        assert_eq!(Attestation::parse("packed"), None);
    }
}
