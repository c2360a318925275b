//! How close a signing certificate is to its end: what `saml-idp keys list`, `/readyz` and
//! `/metrics` report for each live year.

use chrono::{DateTime, Utc};

use super::Certificate;
use crate::saml::SamlYear;

/// `/readyz` and `keys list` warn this many days before a certificate expires.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// One live year's certificate at a given time.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CertificateStatus {
    pub year: u16,
    pub subject: String,
    pub sha256_fingerprint: String,
    pub not_after: Option<DateTime<Utc>>,
    pub days_left: Option<i64>,
}

impl CertificateStatus {
    pub fn of(year: SamlYear, certificate: &Certificate, now: DateTime<Utc>) -> Self {
        let not_after = certificate.not_after();
        CertificateStatus {
            year: year.value(),
            subject: certificate.subject_line(),
            sha256_fingerprint: colon_fingerprint(certificate),
            not_after,
            days_left: not_after.map(|t| (t - now).num_days()),
        }
    }

    /// "expired", "expires soon" (within 30 days) or "ok".
    pub fn state(&self) -> &'static str {
        match self.days_left {
            Some(days) if days < 0 => "expired",
            Some(days) if days < EXPIRY_WARNING_DAYS => "expires soon",
            Some(_) => "ok",
            None => "unknown expiry",
        }
    }

    /// Expired, or expiring within [`EXPIRY_WARNING_DAYS`].
    pub fn needs_attention(&self) -> bool {
        matches!(self.days_left, Some(days) if days < EXPIRY_WARNING_DAYS)
    }
}

/// `AB:CD:…`, as `openssl x509 -noout -fingerprint -sha256` prints it.
pub fn colon_fingerprint(certificate: &Certificate) -> String {
    let hex = certificate.sha256_fingerprint().to_ascii_uppercase();
    hex.as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}
