//! What a new password must be (SPEC 17): at least 12 characters, at most
//! [`MAX_PASSWORD_BYTES`](super::password::MAX_PASSWORD_BYTES) bytes, typed the same twice,
//! not among the common passwords shipped with the project (`common-passwords.txt`), not one
//! character repeated, and not the account's own email address.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::password::MAX_PASSWORD_BYTES;

/// Fewest characters (Unicode scalar values) a new password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Why a new password is refused; each maps to a message on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    TooLong,
    Mismatch,
    Common,
}

impl PasswordProblem {
    /// The catalogue key of the message shown for it.
    pub fn message_key(self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "password.too_short",
            PasswordProblem::TooLong => "password.too_long",
            PasswordProblem::Mismatch => "password.mismatch",
            PasswordProblem::Common => "password.common",
        }
    }
}

/// Checks a new password typed as `password` and again as `confirmation`, for the account
/// whose (normalised) email is `email`.
pub fn check(
    password: &str,
    confirmation: &str,
    email: Option<&str>,
) -> Result<(), PasswordProblem> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if password != confirmation {
        return Err(PasswordProblem::Mismatch);
    }
    if is_common(password, email) {
        return Err(PasswordProblem::Common);
    }
    Ok(())
}

fn is_common(password: &str, email: Option<&str>) -> bool {
    let folded = password.trim().to_lowercase();
    let mut chars = folded.chars();
    let first = chars.next();
    let one_repeated = first.is_some_and(|c| chars.all(|d| d == c));
    let is_email = email.is_some_and(|e| {
        let e = e.to_lowercase();
        folded == e || e.split('@').next().is_some_and(|local| folded == local)
    });
    one_repeated || is_email || COMMON.contains(folded.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        assert_eq!(
            check("short-pass1", "short-pass1", None),
            Err(PasswordProblem::TooShort)
        );
        // 12 characters, 24 bytes.
        let accented = "éééééééééééa";
        assert_eq!(check(accented, accented, None), Ok(()));
        let long = "x".repeat(MAX_PASSWORD_BYTES) + "yz";
        assert_eq!(check(&long, &long, None), Err(PasswordProblem::TooLong));
    }

    #[test]
    fn both_copies_must_match() {
        let p = "a sound passphrase";
        assert_eq!(
            check(p, "a sound passphrasE", None),
            Err(PasswordProblem::Mismatch)
        );
        assert_eq!(check(p, p, None), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        for p in [
            "password1234",
            "Password1234",
            "PASSWORD1234",
            "qwertyuiop123",
            "123456789012",
        ] {
            assert_eq!(check(p, p, None), Err(PasswordProblem::Common), "{p}");
        }
        assert_eq!(
            check("zzzzzzzzzzzzzz", "zzzzzzzzzzzzzz", None),
            Err(PasswordProblem::Common)
        );
    }

    #[test]
    fn the_account_email_is_not_a_password() {
        let e = "grace.hopper@example.gov";
        assert_eq!(check(e, e, Some(e)), Err(PasswordProblem::Common));
        assert_eq!(
            check("grace.hopper", "grace.hopper", Some(e)),
            Err(PasswordProblem::Common)
        );
    }

    #[test]
    fn the_shipped_list_is_loaded_and_every_entry_is_long_enough_to_matter() {
        assert!(COMMON.len() > 1000);
        assert!(COMMON
            .iter()
            .all(|p| p.chars().count() >= MIN_PASSWORD_CHARS));
        assert!(COMMON.iter().all(|p| *p == p.to_lowercase()));
    }
}
