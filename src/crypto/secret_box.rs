//! Encryption at rest for PII and TOTP secrets: AES-256-GCM with a random
//! 12-byte nonce, a 16-byte tag and caller-chosen additional authenticated data.
//!
//! Sealed values are text: `v1:` followed by standard base64 of
//! `nonce || ciphertext || tag`. The `context` (for example
//! `b"users.totp_secret:42"`) is authenticated but not stored, so a ciphertext
//! copied to another row or column no longer opens.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::symm::{decrypt_aead, encrypt_aead, Cipher};

/// Key length in bytes (AES-256).
pub const KEY_BYTES: usize = 32;
/// Nonce length in bytes (the GCM standard size).
pub const NONCE_BYTES: usize = 12;
/// Authentication tag length in bytes.
pub const TAG_BYTES: usize = 16;
/// Format version prefix written by [`SecretBox::seal`].
const VERSION_PREFIX: &str = "v1:";

/// Why a key could not be loaded or a value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretBoxError {
    #[error("encryption key is not valid standard base64")]
    KeyBase64,
    #[error("encryption key must be {KEY_BYTES} bytes, got {0}")]
    KeyLength(usize),
    #[error("could not generate random bytes: {0}")]
    Random(#[source] openssl::error::ErrorStack),
    #[error("AES-256-GCM encryption failed: {0}")]
    Encrypt(#[source] openssl::error::ErrorStack),
    #[error("sealed value has no version prefix")]
    MissingVersion,
    #[error("sealed value has an unknown version prefix")]
    UnknownVersion,
    #[error("sealed value is not valid base64")]
    Base64,
    #[error("sealed value is too short: {0} bytes, at least {min} required", min = NONCE_BYTES + TAG_BYTES)]
    TooShort(usize),
    #[error("sealed value failed authentication (wrong key, wrong context or tampered)")]
    Authentication,
}

/// An AES-256-GCM key. Debug output never shows the key.
#[derive(Clone)]
pub struct SecretBox {
    key: [u8; KEY_BYTES],
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl SecretBox {
    /// Loads a key from standard base64 (surrounding whitespace ignored) that
    /// must decode to exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, SecretBoxError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretBoxError::KeyBase64)?;
        let key: [u8; KEY_BYTES] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| SecretBoxError::KeyLength(bytes.len()))?;
        Ok(Self { key })
    }

    /// A fresh random key, as standard base64, for configuration files.
    pub fn generate_key_base64() -> Result<String, SecretBoxError> {
        let mut key = [0u8; KEY_BYTES];
        openssl::rand::rand_bytes(&mut key).map_err(SecretBoxError::Random)?;
        Ok(STANDARD.encode(key))
    }

    /// Encrypts `plaintext`, authenticating `context` with it, and returns
    /// `v1:` + base64(nonce || ciphertext || tag). Each call uses a new nonce.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<String, SecretBoxError> {
        let mut nonce = [0u8; NONCE_BYTES];
        openssl::rand::rand_bytes(&mut nonce).map_err(SecretBoxError::Random)?;
        let mut tag = [0u8; TAG_BYTES];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(&nonce),
            context,
            plaintext,
            &mut tag,
        )
        .map_err(SecretBoxError::Encrypt)?;
        let mut blob = Vec::with_capacity(NONCE_BYTES + ciphertext.len() + TAG_BYTES);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        blob.extend_from_slice(&tag);
        Ok(format!("{VERSION_PREFIX}{}", STANDARD.encode(blob)))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with the same key and
    /// context. A wrong key, a wrong context and tampering all fail the tag
    /// check and cannot be told apart: they give [`SecretBoxError::Authentication`].
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, SecretBoxError> {
        let encoded = match sealed.strip_prefix(VERSION_PREFIX) {
            Some(rest) => rest,
            None if sealed.contains(':') => return Err(SecretBoxError::UnknownVersion),
            None => return Err(SecretBoxError::MissingVersion),
        };
        let blob = STANDARD
            .decode(encoded)
            .map_err(|_| SecretBoxError::Base64)?;
        if blob.len() < NONCE_BYTES + TAG_BYTES {
            return Err(SecretBoxError::TooShort(blob.len()));
        }
        let (nonce, rest) = blob.split_at(NONCE_BYTES);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_BYTES);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            &self.key,
            Some(nonce),
            context,
            ciphertext,
            tag,
        )
        .map_err(|_| SecretBoxError::Authentication)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: &[u8] = b"users.totp_secret:42";

    fn fresh() -> SecretBox {
        SecretBox::from_base64(&SecretBox::generate_key_base64().unwrap()).unwrap()
    }

    #[test]
    fn round_trip() {
        let sb = fresh();
        for plain in [&b""[..], b"x", b"jane.doe@example.com", &[0u8; 1000]] {
            let sealed = sb.seal(plain, CTX).unwrap();
            assert!(sealed.starts_with("v1:"));
            assert_eq!(sb.open(&sealed, CTX).unwrap(), plain);
        }
    }

    #[test]
    fn fresh_nonce_each_time() {
        let sb = fresh();
        assert_ne!(
            sb.seal(b"same", CTX).unwrap(),
            sb.seal(b"same", CTX).unwrap()
        );
    }

    #[test]
    fn wrong_context_refused() {
        let sb = fresh();
        let sealed = sb.seal(b"secret", CTX).unwrap();
        let err = sb.open(&sealed, b"users.totp_secret:43").unwrap_err();
        assert!(matches!(err, SecretBoxError::Authentication));
    }

    #[test]
    fn every_flipped_byte_refused() {
        let sb = fresh();
        let sealed = sb.seal(b"secret", CTX).unwrap();
        let blob = STANDARD.decode(&sealed[3..]).unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            let tampered = format!("v1:{}", STANDARD.encode(&bad));
            assert!(matches!(
                sb.open(&tampered, CTX),
                Err(SecretBoxError::Authentication)
            ));
        }
    }

    #[test]
    fn wrong_key_refused() {
        let sealed = fresh().seal(b"secret", CTX).unwrap();
        assert!(matches!(
            fresh().open(&sealed, CTX),
            Err(SecretBoxError::Authentication)
        ));
    }

    #[test]
    fn garbage_refused() {
        let sb = fresh();
        let open = |input: &str| sb.open(input, CTX).unwrap_err();
        assert!(matches!(open(""), SecretBoxError::MissingVersion));
        assert!(matches!(open("AAAA"), SecretBoxError::MissingVersion));
        assert!(matches!(open("v2:AAAA"), SecretBoxError::UnknownVersion));
        assert!(matches!(open("v1:not base64!"), SecretBoxError::Base64));
        let short = format!("v1:{}", STANDARD.encode([0u8; 27]));
        assert!(matches!(open(&short), SecretBoxError::TooShort(27)));
        let empty_message = format!("v1:{}", STANDARD.encode([0u8; 28]));
        assert!(matches!(
            open(&empty_message),
            SecretBoxError::Authentication
        ));
    }

    #[test]
    fn key_loading() {
        assert!(matches!(
            SecretBox::from_base64("***"),
            Err(SecretBoxError::KeyBase64)
        ));
        let short = STANDARD.encode([7u8; 31]);
        assert!(matches!(
            SecretBox::from_base64(&short),
            Err(SecretBoxError::KeyLength(31))
        ));
        let key = format!("{}\n", STANDARD.encode([7u8; 32]));
        assert_eq!(SecretBox::from_base64(&key).unwrap().key, [7u8; 32]);
    }

    #[test]
    fn debug_is_redacted() {
        let sb = SecretBox::from_base64(&STANDARD.encode([0xabu8; 32])).unwrap();
        let shown = format!("{sb:?}");
        assert_eq!(shown, r#"SecretBox { key: "<redacted>" }"#);
    }
}
