//! What the console shows of a registered certificate (SPEC 19): subject, serial, SHA-256
//! fingerprint, not-after, and whether it expires within 30 days or has expired.

use chrono::{DateTime, Duration, Utc};

use crate::crypto::Certificate;

/// How long before its end a certificate is flagged.
pub const WARN_DAYS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct CertificateInfo {
    pub subject: String,
    pub serial: String,
    pub sha256: String,
    pub not_after: Option<DateTime<Utc>>,
    pub expired: bool,
    /// Ends within [`WARN_DAYS`] (and has not yet).
    pub expires_soon: bool,
}

pub fn describe(cert: &Certificate, now: DateTime<Utc>) -> CertificateInfo {
    let not_after = cert.not_after();
    let expired = not_after.is_none_or(|end| end <= now);
    CertificateInfo {
        subject: cert.subject_line(),
        serial: cert.serial_hex(),
        sha256: cert.sha256_fingerprint().to_string(),
        not_after,
        expired,
        expires_soon: !expired
            && not_after.is_some_and(|end| end - now <= Duration::days(WARN_DAYS)),
    }
}

/// The earliest end among `certs`, for the SP list's badge.
pub fn first_expiry(certs: &[Certificate]) -> Option<DateTime<Utc>> {
    certs.iter().filter_map(Certificate::not_after).min()
}
