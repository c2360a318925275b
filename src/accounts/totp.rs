//! Time-based one-time passwords: TOTP (RFC 6238) over HOTP (RFC 4226) with
//! HMAC-SHA1, 30-second steps, 6 digits, a ±1 step window and replay refusal.
//!
//! Also owns the secret type ([`TotpSecret`], base32 as in RFC 4648) and the
//! `otpauth://` provisioning URI shown to authenticator apps as a QR code.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;

/// Length of one time step in seconds.
pub const STEP_SECONDS: i64 = 30;
/// Number of digits in a code.
pub const DIGITS: usize = 6;
/// Bytes of randomness in a generated secret.
const GENERATED_SECRET_BYTES: usize = 20;
/// Shortest secret accepted from base32 (80 bits, RFC 4226 section 4).
const MIN_SECRET_BYTES: usize = 10;

/// Why a TOTP secret could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("could not generate a random TOTP secret: {0}")]
    Random(#[from] openssl::error::ErrorStack),
    #[error("TOTP secret is not valid base32")]
    InvalidBase32,
    #[error("TOTP secret is too short: {0} bytes, at least {MIN_SECRET_BYTES} required")]
    TooShort(usize),
    #[error("could not compute the TOTP HMAC: {0}")]
    Hmac(openssl::error::ErrorStack),
}

/// A shared TOTP secret (the HMAC key). Its Debug output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh secret of 20 random bytes (160 bits, as RFC 4226 recommends).
    pub fn generate() -> Result<Self, TotpError> {
        let mut bytes = vec![0u8; GENERATED_SECRET_BYTES];
        openssl::rand::rand_bytes(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Parses RFC 4648 base32, ignoring case, spaces and `=` padding.
    /// At least 10 bytes must decode.
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        Self::from_bytes(decode_base32(text)?)
    }

    /// Wraps raw key bytes (e.g. just unsealed); at least 10 bytes are required.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(TotpError::TooShort(bytes.len()));
        }
        Ok(Self(bytes))
    }

    /// Upper-case RFC 4648 base32 without padding, as authenticator apps expect.
    pub fn to_base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// RFC 4648 base32 decoding, ignoring case, spaces and `=` padding.
fn decode_base32(text: &str) -> Result<Vec<u8>, TotpError> {
    let cleaned: String = text
        .chars()
        .filter(|c| *c != ' ' && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    data_encoding::BASE32_NOPAD
        .decode(cleaned.as_bytes())
        .map_err(|_| TotpError::InvalidBase32)
}

/// HMAC-SHA1 (RFC 2104) by OpenSSL, as `accounts::email` computes its HMAC-SHA256. The
/// MAC is written into 20 bytes, the size of SHA-1; OpenSSL refuses a buffer too small.
fn hmac_sha1(key: &[u8], message: &[u8]) -> Result<[u8; 20], TotpError> {
    let key = PKey::hmac(key).map_err(TotpError::Hmac)?;
    let mut signer = Signer::new(MessageDigest::sha1(), &key).map_err(TotpError::Hmac)?;
    signer.update(message).map_err(TotpError::Hmac)?;
    let mut mac = [0u8; 20];
    signer.sign(&mut mac).map_err(TotpError::Hmac)?;
    Ok(mac)
}

/// HOTP value (RFC 4226 section 5.3) for `counter`, reduced to [`DIGITS`] digits.
fn hotp(key: &[u8], counter: u64) -> Result<u32, TotpError> {
    let mac = hmac_sha1(key, &counter.to_be_bytes())?;
    let offset = usize::from(mac[19] & 0x0f);
    // In bounds: offset <= 15, so offset + 4 <= 19 < 20 (RFC 4226 dynamic truncation).
    let mut word = [0u8; 4];
    word.copy_from_slice(&mac[offset..offset + 4]);
    Ok((u32::from_be_bytes(word) & 0x7fff_ffff) % 10u32.pow(DIGITS as u32))
}

/// The 6-digit code (zero-padded) for time step `step`; an error only if OpenSSL cannot
/// compute the HMAC.
pub fn code_at(secret: &TotpSecret, step: i64) -> Result<String, TotpError> {
    // Steps before 1970 do not occur; the cast keeps the function total.
    let value = hotp(&secret.0, step as u64)?;
    Ok(format!("{value:0width$}", width = DIGITS))
}

/// The time step containing `unix_seconds` (floor division by 30).
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// Checks `code` (spaces removed, as apps show "123 456"; then exactly 6 ASCII
/// digits) against the steps before, at and after `unix_seconds`. Returns the
/// matched step if it is later than `last_used_step`, so a code is accepted at
/// most once; the caller stores the returned step as the new `last_used_step`.
pub fn verify(
    secret: &TotpSecret,
    code: &str,
    unix_seconds: i64,
    last_used_step: Option<i64>,
) -> Option<i64> {
    let code: String = code.chars().filter(|c| *c != ' ').collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_seconds);
    let mut matched = None;
    // Every candidate is computed and compared: no early exit. A code that cannot be
    // computed matches nothing (refused, never accepted).
    for step in [now - 1, now, now + 1] {
        let Ok(expected) = code_at(secret, step) else {
            continue;
        };
        let equal = openssl::memcmp::eq(expected.as_bytes(), code.as_bytes());
        let fresh = last_used_step.is_none_or(|last| step > last);
        if equal && fresh && matched.is_none() {
            matched = Some(step);
        }
    }
    matched
}

/// The `otpauth://totp/...` URI (Key URI Format) to show as a QR code. Issuer and account
/// are percent-encoded but for RFC 3986 unreserved characters (`urlencoding::encode`).
pub fn provisioning_uri(secret: &TotpSecret, issuer: &str, account: &str) -> String {
    let issuer = urlencoding::encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        account = urlencoding::encode(account),
        secret = secret.to_base32(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA-1 column: last 6 of the 8 digits.
        let times = [
            59,
            1111111109,
            1111111111,
            1234567890,
            2000000000,
            20000000000,
        ];
        let codes = ["287082", "081804", "050471", "005924", "279037", "353130"];
        for (time, code) in times.into_iter().zip(codes) {
            assert_eq!(
                code_at(&rfc_secret(), step_of(time)).unwrap(),
                code,
                "t={time}"
            );
        }
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(code_at(&rfc_secret(), counter as i64).unwrap(), *code);
        }
    }

    #[test]
    fn hmac_sha1_rfc2202_long_key() {
        let msg = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let hex = data_encoding::HEXLOWER.encode(&hmac_sha1(&[0xaa; 80], msg).unwrap());
        assert_eq!(hex, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    }

    #[test]
    fn hmac_sha1_rfc2202_short_key() {
        // RFC 2202 test case 2: a key shorter than the block.
        let mac = hmac_sha1(b"Jefe", b"what do ya want for nothing?").unwrap();
        let hex = data_encoding::HEXLOWER.encode(&mac);
        assert_eq!(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }

    #[test]
    fn window_of_one_step() {
        let s = rfc_secret();
        let (t, now) = (1_111_111_111, step_of(1_111_111_111));
        let check = |delta: i64| verify(&s, &code_at(&s, now + delta).unwrap(), t, None);
        for delta in [-1, 0, 1] {
            assert_eq!(check(delta), Some(now + delta));
        }
        assert_eq!((check(-2), check(2)), (None, None));
    }

    #[test]
    fn replay_refused() {
        let s = rfc_secret();
        let t = 1_234_567_890;
        let code = code_at(&s, step_of(t)).unwrap();
        let used = verify(&s, &code, t, None).unwrap();
        assert_eq!(verify(&s, &code, t, Some(used)), None);
        assert_eq!(verify(&s, &code, t + 30, Some(used)), None);
        let earlier = code_at(&s, step_of(t) - 1).unwrap();
        assert_eq!(verify(&s, &earlier, t, Some(used)), None);
        let next = code_at(&s, step_of(t) + 1).unwrap();
        assert_eq!(verify(&s, &next, t, Some(used)), Some(used + 1));
    }

    #[test]
    fn malformed_codes_refused() {
        let s = rfc_secret();
        for code in [" 005924 ", "005 924"] {
            assert_eq!(verify(&s, code, 1_234_567_890, None), Some(41_152_263));
        }
        let fullwidth = "\u{ff10}\u{ff10}\u{ff15}\u{ff19}\u{ff12}\u{ff14}";
        let bad = [
            "", "5924", "0059245", "00592a", "005\t924", "-05924", "+05924",
        ];
        for code in bad.into_iter().chain([fullwidth]) {
            assert_eq!(verify(&s, code, 1_234_567_890, None), None, "{code:?}");
        }
    }

    #[test]
    fn base32_round_trip_and_rfc4648_vectors() {
        // RFC 4648 section 10, "foobar" prefixes; the RFC pads to a multiple of 8.
        let vectors = [
            "",
            "MY",
            "MZXQ",
            "MZXW6",
            "MZXW6YQ",
            "MZXW6YTB",
            "MZXW6YTBOI",
        ];
        for (n, unpadded) in vectors.into_iter().enumerate() {
            let plain = &b"foobar"[..n];
            let padded = format!("{unpadded:=<w$}", w = unpadded.len().div_ceil(8) * 8);
            assert_eq!(TotpSecret(plain.to_vec()).to_base32(), unpadded);
            assert_eq!(decode_base32(&padded).unwrap(), plain);
            assert_eq!(decode_base32(&unpadded.to_lowercase()).unwrap(), plain);
        }
        assert_eq!(decode_base32("MZXW6YTBOI======").unwrap(), b"foobar");
        let s = TotpSecret::from_base32(" jbsw y3dp ehpk 3pxp ==").unwrap();
        assert_eq!(s.as_bytes(), b"Hello!\xde\xad\xbe\xef");
        let g = TotpSecret::generate().unwrap();
        assert_eq!(g.as_bytes().len(), 20);
        assert_eq!(g.to_base32().len(), 32);
        assert_eq!(TotpSecret::from_base32(&g.to_base32()).unwrap(), g);
    }

    #[test]
    fn bad_base32_refused() {
        let parse = |text: &str| TotpSecret::from_base32(text).unwrap_err();
        assert!(matches!(parse("MZXW6YTBOI"), TotpError::TooShort(6)));
        assert!(matches!(parse("MZXW1YTB"), TotpError::InvalidBase32));
        assert!(matches!(parse("MZXW6YTBO"), TotpError::InvalidBase32));
        assert!(matches!(parse(""), TotpError::TooShort(0)));
        assert!(matches!(
            TotpSecret::from_bytes(vec![1; 9]),
            Err(TotpError::TooShort(9))
        ));
        assert_eq!(
            TotpSecret::from_bytes(vec![1; 10]).unwrap().as_bytes(),
            [1; 10]
        );
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", rfc_secret()), "TotpSecret(<redacted>)");
    }

    #[test]
    fn provisioning_uri_is_encoded() {
        let s = TotpSecret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(
            provisioning_uri(&s, "Acme IdP", "jane+1@example.com"),
            "otpauth://totp/Acme%20IdP:jane%2B1%40example.com?secret=JBSWY3DPEHPK3PXP\
             &issuer=Acme%20IdP&algorithm=SHA1&digits=6&period=30"
        );
        // Unreserved characters stay; every other byte of the UTF-8 is encoded.
        assert!(provisioning_uri(&s, "x", "josé~a.b_c-d@x")
            .starts_with("otpauth://totp/x:jos%C3%A9~a.b_c-d%40x?"));
    }
}
