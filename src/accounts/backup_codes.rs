//! One-time backup codes: generation (12 Crockford base32 characters, 60 bits),
//! input normalization, SHA-256 hashing for storage, and constant-time lookup.
//!
//! Codes are shown once as `XXXX-XXXX-XXXX` and stored only as hashes; the
//! caller deletes (or marks used) the stored hash that [`find`] reports.

use openssl::sha::sha256;

/// Crockford base32 alphabet: digits and upper-case letters without I, L, O, U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code, without separators.
pub const CODE_CHARS: usize = 12;
/// Characters per displayed group.
const GROUP: usize = 4;
/// Most codes [`generate`] will produce in one call.
pub const MAX_COUNT: usize = 100;

/// Why backup codes could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum BackupCodeError {
    #[error("could not generate random backup codes: {0}")]
    Random(#[from] openssl::error::ErrorStack),
    #[error("asked for {0} backup codes, at most {MAX_COUNT} allowed")]
    TooMany(usize),
}

/// Generates `count` fresh codes, each shown as three dash-separated groups of
/// four characters (e.g. `K7PQ-3MZD-9XWA`).
pub fn generate(count: usize) -> Result<Vec<String>, BackupCodeError> {
    if count > MAX_COUNT {
        return Err(BackupCodeError::TooMany(count));
    }
    (0..count).map(|_| generate_one()).collect()
}

fn generate_one() -> Result<String, BackupCodeError> {
    let mut random = [0u8; CODE_CHARS];
    openssl::rand::rand_bytes(&mut random)?;
    let mut code = String::with_capacity(CODE_CHARS + 2);
    for (i, byte) in random.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            code.push('-');
        }
        // 256 is a multiple of 32, so the low 5 bits are uniform: 12 × 5 = 60 bits.
        code.push(char::from(ALPHABET[usize::from(byte & 0x1f)]));
    }
    Ok(code)
}

/// Canonical form of user input: upper-cased, spaces and dashes dropped,
/// I and L read as 1, O read as 0. `None` unless exactly 12 alphabet characters
/// remain.
pub fn normalize(input: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_CHARS);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' => continue,
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() == CODE_CHARS {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_CHARS).then_some(out)
}

/// Lower-case hex SHA-256 of the normalized code, the only form that is stored.
pub fn hash(code: &str) -> Option<String> {
    let normalized = normalize(code)?;
    Some(data_encoding::HEXLOWER.encode(&sha256(normalized.as_bytes())))
}

/// Index of the stored hash that `input` matches. Every entry is compared in
/// constant time and none is skipped, so timing does not reveal the position.
pub fn find(input: &str, stored_hashes: &[String]) -> Option<usize> {
    let candidate = hash(input)?;
    let mut found = None;
    for (index, stored) in stored_hashes.iter().enumerate() {
        let stored = stored.as_bytes();
        let equal =
            stored.len() == candidate.len() && openssl::memcmp::eq(stored, candidate.as_bytes());
        if equal && found.is_none() {
            found = Some(index);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_have_the_display_format() {
        let codes = generate(10).unwrap();
        assert_eq!(codes.len(), 10);
        for code in &codes {
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3, "{code}");
            for g in groups {
                assert_eq!(g.len(), 4);
                assert!(g.bytes().all(|b| ALPHABET.contains(&b)), "{code}");
            }
            assert_eq!(normalize(code).unwrap(), code.replace('-', ""));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn generate_bounds() {
        assert!(generate(0).unwrap().is_empty());
        assert!(matches!(
            generate(MAX_COUNT + 1),
            Err(BackupCodeError::TooMany(101))
        ));
    }

    #[test]
    fn generated_codes_use_the_whole_alphabet() {
        let all: String = generate(MAX_COUNT).unwrap().concat();
        for c in ALPHABET {
            assert!(all.as_bytes().contains(c), "{}", char::from(*c));
        }
    }

    #[test]
    fn normalize_accepts_sloppy_input() {
        assert_eq!(normalize("k7pq-3mzd-9xwa").as_deref(), Some("K7PQ3MZD9XWA"));
        assert_eq!(
            normalize(" K7PQ 3MZD 9XWA ").as_deref(),
            Some("K7PQ3MZD9XWA")
        );
        assert_eq!(normalize("iLoO-0000-1111").as_deref(), Some("110000001111"));
    }

    #[test]
    fn normalize_refuses_bad_input() {
        for input in [
            "",
            "K7PQ-3MZD-9XW",
            "K7PQ-3MZD-9XWAB",
            "K7PQ-3MZD-9XWU",
            "K7PQ_3MZD_9XWA",
            "K7PQ-3MZD-9XWÄ",
        ] {
            assert_eq!(normalize(input), None, "{input:?}");
        }
    }

    #[test]
    fn hash_is_sha256_hex_of_normalized_code() {
        let h = hash("k7pq-3mzd-9xwa").unwrap();
        // Checked with `printf K7PQ3MZD9XWA | sha256sum`.
        assert_eq!(
            h,
            "57eb885bd1abc267fc3b933890c4558f025f7fa4c1613be2c216d662c175ea77"
        );
        assert_eq!(hash("K7PQ3MZD9XWA").unwrap(), h);
        assert_eq!(hash("abc"), None);
        // O reads as 0: checked with `printf 000000000000 | sha256sum`.
        let zeros = hash("OOOO-OOOO-OOOO").unwrap();
        assert_eq!(
            zeros,
            "f7b11509f4d675c3c44f0dd37ca830bb02e8cfa58f04c46283c4bfcbdce1ff45"
        );
    }

    #[test]
    fn find_returns_matching_index() {
        let codes = generate(5).unwrap();
        let stored: Vec<String> = codes.iter().map(|c| hash(c).unwrap()).collect();
        for (i, code) in codes.iter().enumerate() {
            assert_eq!(find(&code.to_lowercase(), &stored), Some(i));
        }
        let other = generate(1).unwrap();
        assert_eq!(find(&other[0], &stored), None);
        assert_eq!(find("not a code", &stored), None);
        assert_eq!(find(&codes[0], &[]), None);
        let odd = vec!["short".to_owned(), stored[2].clone()];
        assert_eq!(find(&codes[2], &odd), Some(1));
    }
}
