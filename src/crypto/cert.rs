//! X.509 certificates as the IdP accepts them: PEM, RSA, at least 2048 bits (SPEC 2, 11).

use base64::Engine;
use openssl::pkey::{PKey, Public};
use openssl::x509::X509;
use thiserror::Error;

pub const MIN_RSA_BITS: u32 = 2048;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("not a PEM X.509 certificate ({0})")]
    NotPem(String),
    #[error("holds {count} certificates; give exactly one")]
    NotExactlyOne { count: usize },
    #[error("the certificate's key is not RSA")]
    NotRsa,
    #[error("the certificate's RSA key has {bits} bits; at least {MIN_RSA_BITS} are required")]
    TooSmall { bits: u32 },
}

impl CertificateError {
    /// A stable name for the error (the console API's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            CertificateError::NotPem(_) => "not_pem",
            CertificateError::NotExactlyOne { .. } => "not_exactly_one",
            CertificateError::NotRsa => "not_rsa",
            CertificateError::TooSmall { .. } => "key_too_small",
        }
    }
}

/// A parsed certificate with its key checked. Cheap to clone (reference-counted by openssl).
#[derive(Clone)]
pub struct Certificate {
    x509: X509,
    public_key: PKey<Public>,
    /// Lowercase hex SHA-256 of the DER, computed once: requests compare it (the matching
    /// certificate of a pending request, the verification key cache).
    fingerprint: String,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate(serial {})", self.serial_hex())
    }
}

impl Certificate {
    /// Parses exactly one PEM certificate and checks that its key is RSA ≥ 2048 bits.
    pub fn from_pem(pem: &[u8]) -> Result<Self, CertificateError> {
        let stack =
            X509::stack_from_pem(pem).map_err(|e| CertificateError::NotPem(first_reason(&e)))?;
        match stack.len() {
            0 => Err(CertificateError::NotPem("no certificate found".into())),
            1 => stack
                .into_iter()
                .next()
                .ok_or(CertificateError::NotExactlyOne { count: 0 })
                .and_then(Self::from_x509),
            count => Err(CertificateError::NotExactlyOne { count }),
        }
    }

    pub fn from_x509(x509: X509) -> Result<Self, CertificateError> {
        let public_key = x509
            .public_key()
            .map_err(|e| CertificateError::NotPem(first_reason(&e)))?;
        let rsa = public_key.rsa().map_err(|_| CertificateError::NotRsa)?;
        let bits = rsa.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(CertificateError::TooSmall { bits });
        }
        let digest = x509
            .digest(openssl::hash::MessageDigest::sha256())
            .map_err(|e| CertificateError::NotPem(first_reason(&e)))?;
        let fingerprint = data_encoding::HEXLOWER.encode(&digest);
        Ok(Certificate {
            x509,
            public_key,
            fingerprint,
        })
    }

    pub fn x509(&self) -> &X509 {
        &self.x509
    }

    pub fn public_key(&self) -> &PKey<Public> {
        &self.public_key
    }

    /// Base64 of the DER encoding, no line breaks: the `ds:X509Certificate` text.
    pub fn der_base64(&self) -> String {
        let der = self.x509.to_der().unwrap_or_default();
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    /// PEM text, for storage and display.
    pub fn to_pem(&self) -> String {
        self.x509
            .to_pem()
            .ok()
            .and_then(|p| String::from_utf8(p).ok())
            .unwrap_or_default()
    }

    /// Serial number in hex: how logs refer to a certificate (never the key or subject PII).
    pub fn serial_hex(&self) -> String {
        self.x509
            .serial_number()
            .to_bn()
            .and_then(|bn| bn.to_hex_str().map(|s| s.to_string()))
            .unwrap_or_else(|_| "unknown".into())
    }

    /// When the certificate stops being valid (`notAfter`), or `None` if openssl cannot
    /// compare it with the epoch.
    pub fn not_after(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
        let diff = epoch.diff(self.x509.not_after()).ok()?;
        let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
        chrono::DateTime::from_timestamp(seconds, 0)
    }

    /// The subject as one line (`CN=…, O=…`), for operators' listings.
    pub fn subject_line(&self) -> String {
        self.x509
            .subject_name()
            .entries()
            .map(|entry| {
                let field = entry.object().nid().short_name().unwrap_or("?");
                let value = entry.data().to_string().unwrap_or_default();
                format!("{field}={value}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// SHA-256 of the DER, lower-case hex: identifies a registered certificate across
    /// reorderings of the SP's list (the index would not).
    pub fn sha256_fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// openssl error stacks are long; the first reason is the useful part.
pub(crate) fn first_reason(stack: &openssl::error::ErrorStack) -> String {
    stack
        .errors()
        .first()
        .and_then(|e| e.reason().map(str::to_string))
        .unwrap_or_else(|| "unrecognised data".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_fixtures::fixture;

    #[test]
    fn accepts_rsa_2048() {
        let cert = Certificate::from_pem(&fixture("sp1-test-only.crt")).expect("valid");
        assert!(!cert.der_base64().contains('\n'));
        assert!(cert.to_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn refuses_weak_ec_and_garbage() {
        assert_eq!(
            Certificate::from_pem(&fixture("weak-1024-test-only.crt")).err(),
            Some(CertificateError::TooSmall { bits: 1024 })
        );
        assert_eq!(
            Certificate::from_pem(&fixture("ec-test-only.crt")).err(),
            Some(CertificateError::NotRsa)
        );
        assert!(matches!(
            Certificate::from_pem(b"hello"),
            Err(CertificateError::NotPem(_))
        ));
        let mut two = fixture("sp1-test-only.crt");
        two.extend(fixture("sp2-test-only.crt"));
        assert_eq!(
            Certificate::from_pem(&two).err(),
            Some(CertificateError::NotExactlyOne { count: 2 })
        );
    }
}
