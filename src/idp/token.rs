//! Browser tokens (SPEC 7, 13): a [`Token`] is the random 256-bit secret a cookie or an
//! emailed link carries; a [`TokenHash`] (SHA-256, lowercase hex) is the only form the
//! database holds, so reading the database yields no usable cookie. Two types, so one is
//! never passed where the other is meant.

use data_encoding::HEXLOWER;

use crate::ids::IdSource;

use super::Error;

/// A secret as the browser holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh token from the injected source; `what` names it in the error if the system's
    /// random generator fails.
    pub fn generate(ids: &dyn IdSource, what: &'static str) -> Result<Token, Error> {
        ids.secret_token().map(Token).ok_or(Error::Random(what))
    }

    /// A token with a known value (test harnesses: a session whose cookie the test holds).
    #[cfg(test)]
    pub fn from_browser(value: &str) -> Token {
        Token(value.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl std::fmt::Debug for Token {
    // Secrets never reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// The stored form of a [`Token`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// SHA-256 of the token, lowercase hex.
    pub fn of(token: &str) -> TokenHash {
        TokenHash(HEXLOWER.encode(&openssl::sha::sha256(token.as_bytes())))
    }

    /// A hash as a store returned it (a session record's key).
    pub fn of_stored(hash: String) -> TokenHash {
        TokenHash(hash)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for TokenHash {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<TokenHash> for String {
    fn from(hash: TokenHash) -> String {
        hash.0
    }
}

/// The most tokens of one purpose a user holds at once (WebAuthn ceremonies, an
/// authenticator app being added): starting another forgets the oldest (SPEC 7: a user has
/// at most a few outstanding ceremony tokens, so repeated starts add no rows).
pub const MAX_OUTSTANDING: usize = 3;

/// Stores `record`, first forgetting its owner's oldest tokens of the same purpose beyond
/// [`MAX_OUTSTANDING`]. A token without an owner (a sign-up's ceremony) is stored as it is:
/// the per-client limiter bounds those.
pub fn store_bounded(
    tokens: &dyn crate::accounts::tokens::TokenStore,
    record: &crate::accounts::tokens::TokenRecord,
) -> Result<(), Error> {
    if let Some(user_id) = record.user_id {
        tokens.keep_newest(user_id, record.purpose, MAX_OUTSTANDING - 1)?;
    }
    Ok(tokens.insert(record)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            TokenHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_hides_the_token() {
        assert_eq!(format!("{:?}", Token::from_browser("secret")), "Token(…)");
    }
}
