//! Email addresses: normalisation and the keyed lookup hash under which they are found.
//! The address itself is stored sealed; the lookup is HMAC-SHA256 with a key derived from
//! the data-encryption key, so the table alone reveals nothing guessable offline.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

/// Trimmed and lower-cased; `None` unless it looks like `local@domain` (one `@`, both parts
/// non-empty, no whitespace or control characters, at most 254 bytes).
pub fn normalize(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let plausible = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    plausible.then_some(email)
}

/// HMAC-SHA256(key, "email-lookup:" + normalised email), hex.
pub fn lookup_hash(lookup_key: &[u8], normalized: &str) -> Option<String> {
    let key = PKey::hmac(lookup_key).ok()?;
    let mut signer = Signer::new(MessageDigest::sha256(), &key).ok()?;
    signer.update(b"email-lookup:").ok()?;
    signer.update(normalized.as_bytes()).ok()?;
    let mac = signer.sign_to_vec().ok()?;
    Some(data_encoding::HEXLOWER.encode(&mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses() {
        assert_eq!(
            normalize("  Ada@Example.GOV ").as_deref(),
            Some("ada@example.gov")
        );
        for bad in [
            "",
            "ada",
            "@example.gov",
            "ada@",
            "ada@localhost",
            "a b@example.gov",
            "a@b@c.gov",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lookups_are_keyed() {
        let a = lookup_hash(b"key one", "ada@example.gov").expect("mac");
        assert_eq!(a.len(), 64);
        assert_eq!(Some(a.clone()), lookup_hash(b"key one", "ada@example.gov"));
        assert_ne!(Some(a), lookup_hash(b"key two", "ada@example.gov"));
    }

    #[test]
    fn lookup_hash_is_lower_hex_of_the_hmac() {
        // Stored lookups must not change. Checked with Python:
        // hmac.new(b"key one", b"email-lookup:ada@example.gov", hashlib.sha256).hexdigest()
        assert_eq!(
            lookup_hash(b"key one", "ada@example.gov").as_deref(),
            Some("d9f6d7e3c7e61dfd771e49d3d436131795c2d550492e1eb848e79a7e89da6452")
        );
    }
}
