//! Sealing of account data at rest (SPEC 12): emails, TOTP secrets, verified profiles and
//! PIV/CAC records, each bound to its owner through the AEAD context, so a ciphertext moved
//! to another row does not open.

use openssl::hash::{hash, MessageDigest};
use serde::{Deserialize, Serialize};

use super::email;
use super::totp::TotpSecret;
use crate::crypto::secret_box::SecretBox;

/// The proofed attributes of a verified user (reference/user-attributes.txt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifiedProfile {
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zipcode: Option<String>,
    pub phone: Option<String>,
    pub dob: Option<String>,
    pub ssn: Option<String>,
}

/// A PIV/CAC card on file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PivRecord {
    pub subject: String,
    pub issuer: String,
}

pub struct AccountCrypto {
    secret_box: SecretBox,
    lookup_key: Vec<u8>,
    /// The server key of pre-session CSRF tokens (SPEC 7), derived from the data key, so
    /// every node computes the same token.
    csrf_key: Vec<u8>,
}

impl std::fmt::Debug for AccountCrypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccountCrypto(..)")
    }
}

impl AccountCrypto {
    /// `key_b64` is the data-encryption key; the email lookup key is derived from it.
    pub fn new(key_b64: &str) -> Option<AccountCrypto> {
        let secret_box = SecretBox::from_base64(key_b64).ok()?;
        let lookup_key = hash(
            MessageDigest::sha256(),
            format!("saml-idp email lookup:{key_b64}").as_bytes(),
        )
        .ok()?
        .to_vec();
        let csrf_key = hash(
            MessageDigest::sha256(),
            format!("saml-idp pre-session csrf:{key_b64}").as_bytes(),
        )
        .ok()?
        .to_vec();
        Some(AccountCrypto {
            secret_box,
            lookup_key,
            csrf_key,
        })
    }

    /// The CSRF token of the forms a browser without a session is shown: an HMAC-SHA256
    /// of its random pre-session id (a cookie) under the server key, never a value the
    /// browser chose (SPEC 7). `None` only if OpenSSL fails.
    pub fn pre_session_csrf(&self, pre_session_id: &str) -> Option<String> {
        let key = openssl::pkey::PKey::hmac(&self.csrf_key).ok()?;
        let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &key).ok()?;
        signer.update(b"pre-session-csrf:").ok()?;
        signer.update(pre_session_id.as_bytes()).ok()?;
        let mac = signer.sign_to_vec().ok()?;
        Some(data_encoding::HEXLOWER.encode(&mac))
    }

    /// The lookup hash of an email as typed; `None` if it is not an email address.
    pub fn email_lookup(&self, typed: &str) -> Option<(String, String)> {
        let normalized = email::normalize(typed)?;
        let lookup = email::lookup_hash(&self.lookup_key, &normalized)?;
        Some((normalized, lookup))
    }

    pub fn seal_email(&self, normalized: &str, lookup: &str) -> Option<String> {
        self.seal(normalized.as_bytes(), &format!("user_emails:{lookup}"))
    }

    pub fn open_email(&self, sealed: &str, lookup: &str) -> Option<String> {
        self.open_string(sealed, &format!("user_emails:{lookup}"))
    }

    pub fn seal_totp(&self, public_id: &str, secret: &TotpSecret) -> Option<String> {
        self.seal(secret.as_bytes(), &format!("users.totp_secret:{public_id}"))
    }

    pub fn open_totp(&self, public_id: &str, sealed: &str) -> Option<TotpSecret> {
        let bytes = self
            .secret_box
            .open(sealed, format!("users.totp_secret:{public_id}").as_bytes())
            .ok()?;
        TotpSecret::from_bytes(bytes).ok()
    }

    pub fn seal_profile(&self, public_id: &str, profile: &VerifiedProfile) -> Option<String> {
        let json = serde_json::to_vec(profile).ok()?;
        self.seal(&json, &format!("users.verified_profile:{public_id}"))
    }

    pub fn open_profile(&self, public_id: &str, sealed: &str) -> Option<VerifiedProfile> {
        let text = self.open_string(sealed, &format!("users.verified_profile:{public_id}"))?;
        serde_json::from_str(&text).ok()
    }

    pub fn seal_piv(&self, public_id: &str, piv: &PivRecord) -> Option<String> {
        let json = serde_json::to_vec(piv).ok()?;
        self.seal(&json, &format!("users.piv_record:{public_id}"))
    }

    /// Seals the payload of a one-time token, bound to the token's hash.
    pub fn seal_token_payload(&self, token_hash: &str, plaintext: &[u8]) -> Option<String> {
        self.seal(plaintext, &format!("one_time_tokens:{token_hash}"))
    }

    pub fn open_token_payload(&self, token_hash: &str, sealed: &str) -> Option<Vec<u8>> {
        let context = format!("one_time_tokens:{token_hash}");
        self.secret_box.open(sealed, context.as_bytes()).ok()
    }

    /// Seals a queued message (recipient, content, locale), bound to its row's id.
    pub fn seal_queued_mail(&self, id: &str, plaintext: &[u8]) -> Option<String> {
        self.seal(plaintext, &format!("mail_queue:{id}"))
    }

    pub fn open_queued_mail(&self, id: &str, sealed: &str) -> Option<Vec<u8>> {
        let context = format!("mail_queue:{id}");
        self.secret_box.open(sealed, context.as_bytes()).ok()
    }

    fn seal(&self, plaintext: &[u8], context: &str) -> Option<String> {
        self.secret_box.seal(plaintext, context.as_bytes()).ok()
    }

    fn open_string(&self, sealed: &str, context: &str) -> Option<String> {
        let bytes = self.secret_box.open(sealed, context.as_bytes()).ok()?;
        String::from_utf8(bytes).ok()
    }
}
