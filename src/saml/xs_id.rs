//! The `ID` attribute of an incoming message: an xs:ID, that is an NCName (Namespaces in
//! XML §3, no colon), of at most [`MAX_ID_BYTES`] (SPEC 4). The ID is echoed as
//! `InResponseTo` and stored with a pending request, so its size must be bounded.

/// The longest request ID accepted, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// True when `id` is an NCName no longer than [`MAX_ID_BYTES`].
pub fn is_valid_id(id: &str) -> bool {
    if id.is_empty() || id.len() > MAX_ID_BYTES {
        return false;
    }
    let mut chars = id.chars();
    chars.next().is_some_and(name_start) && chars.all(name_char)
}

/// NameStartChar without ':' (XML 1.0 §2.3): letters and '_'; non-ASCII letters count.
fn name_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

/// NameChar without ':': also digits, '-', '.', U+00B7 and combining marks.
fn name_char(c: char) -> bool {
    name_start(c)
        || c.is_ascii_digit()
        || matches!(c, '-' | '.' | '\u{b7}')
        || ('\u{300}'..='\u{36f}').contains(&c)
        || ('\u{203f}'..='\u{2040}').contains(&c)
        || (!c.is_ascii() && c.is_numeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ncnames_of_bounded_length() {
        for ok in ["_flow", "ONELOGIN_0a1b", "id-1.2", "_é9", &"a".repeat(256)] {
            assert!(is_valid_id(ok), "{ok}");
        }
        for bad in [
            "",
            "123abc",
            "-x",
            "a b",
            "a:b",
            "a\"b",
            "<x>",
            "a\u{a0}",
            &"a".repeat(257),
        ] {
            assert!(!is_valid_id(bad), "{bad:?}");
        }
    }
}
