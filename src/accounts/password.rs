//! Password hashing and verification: Argon2id (RFC 9106) in PHC string format.
//!
//! Hashes are produced with fixed parameters (m = 19456 KiB, t = 2, p = 1) and a
//! random 16-byte salt. Verification reads the parameters back from the PHC
//! string, so stored hashes stay valid if the defaults are raised later.
//! [`verify_dummy`] lets callers spend the same time on an unknown account as on
//! a wrong password.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory cost in KiB.
pub const MEMORY_KIB: u32 = 19_456;
/// Number of passes over memory.
pub const ITERATIONS: u32 = 2;
/// Degree of parallelism (lanes).
pub const PARALLELISM: u32 = 1;
/// Longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Salt length in bytes.
const SALT_BYTES: usize = 16;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password must not be empty")]
    Empty,
    #[error("password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("could not generate a random salt: {0}")]
    Random(#[from] openssl::error::ErrorStack),
    #[error("argon2 hashing failed: {0}")]
    Hash(String),
}

/// The fixed hash that [`verify_dummy`] verifies against. `None` only if the
/// argon2 parameters were rejected, which cannot happen with the constants above.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let salt = SaltString::encode_b64(b"saml-idp-dummy-s").ok()?;
    let hash = hasher().ok()?;
    let phc = hash
        .hash_password(b"no account has this password", &salt)
        .ok()?;
    Some(phc.to_string())
});

fn hasher() -> Result<Argon2<'static>, PasswordError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn check_length(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// Hashes `password` with Argon2id and a fresh random salt, returning a PHC string
/// such as `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    check_length(password)?;
    let mut salt_bytes = [0u8; SALT_BYTES];
    openssl::rand::rand_bytes(&mut salt_bytes)?;
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    let phc = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(phc.to_string())
}

/// Returns true only if `phc` is a well-formed Argon2id PHC string and
/// `password` matches it. Any error (malformed string, other algorithm,
/// out-of-range password length, mismatch) yields false.
pub fn verify_password(password: &str, phc: &str) -> bool {
    if check_length(password).is_err() {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        return false;
    }
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Does the work of one verification against a fixed hash and discards the
/// result, so that an unknown account costs as much time as a wrong password.
pub fn verify_dummy(password: &str) {
    match DUMMY_HASH.as_deref() {
        Some(phc) => {
            std::hint::black_box(verify_password(password, phc));
        }
        None => {
            std::hint::black_box(hash_password(password).is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(verify_password("correct horse battery staple", &phc));
    }

    #[test]
    fn wrong_password_refused() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(!verify_password("correct horse battery stapler", &phc));
        assert!(!verify_password("", &phc));
    }

    #[test]
    fn garbage_phc_refused() {
        for phc in [
            "",
            "garbage",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$2b$12$abc",
        ] {
            assert!(!verify_password("password", phc), "{phc:?}");
        }
    }

    #[test]
    fn other_argon2_variant_refused() {
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default());
        let phc = argon2i
            .hash_password(b"password", &salt)
            .unwrap()
            .to_string();
        assert!(!verify_password("password", &phc));
    }

    #[test]
    fn empty_and_too_long_refused() {
        assert!(matches!(hash_password(""), Err(PasswordError::Empty)));
        let long = "a".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(matches!(hash_password(&long), Err(PasswordError::TooLong)));
        assert!(hash_password(&"a".repeat(MAX_PASSWORD_BYTES)).is_ok());
    }

    #[test]
    fn hash_is_argon2id_with_params() {
        let phc = hash_password("pw").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let parsed = PasswordHash::new(&phc).unwrap();
        let mut salt = [0u8; 64];
        assert_eq!(
            parsed.salt.unwrap().decode_b64(&mut salt).unwrap().len(),
            16
        );
        assert_eq!(parsed.hash.unwrap().len(), 32);
    }

    #[test]
    fn salts_differ() {
        assert_ne!(hash_password("pw").unwrap(), hash_password("pw").unwrap());
    }

    #[test]
    fn dummy_hash_is_valid_and_verify_dummy_runs() {
        let phc = DUMMY_HASH.as_deref().unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("no account has this password", phc));
        verify_dummy("anything");
    }
}
