//! Turns an `SpRecord` into a `ServiceProvider`, checking every field (SPEC 11): issuer
//! without whitespace, absolute http(s) URLs, certificates that parse with RSA ≥ 2048 bits,
//! known attribute names. Each error names its field.

use std::path::Path;

use thiserror::Error;

use super::record::SpRecord;
use super::service_provider::{BlockEncryption, ServiceProvider};
use crate::crypto::Certificate;
use crate::saml::attributes;

const MAX_ISSUER: usize = 1024;
const MAX_URL: usize = 2048;
const MAX_NAME: usize = 256;
const MAX_ACS_URLS: usize = 32;
const MAX_CERTS: usize = 16;
const MAX_CERT_FILE: u64 = 64 * 1024;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: &'static str,
    /// A stable name for the rule broken (`not_absolute_url`, `key_too_small`, …): what the
    /// API returns as `code`.
    pub code: &'static str,
    pub message: String,
}

pub(super) fn fail<T>(
    field: &'static str,
    code: &'static str,
    message: impl Into<String>,
) -> Result<T, ValidationError> {
    Err(ValidationError {
        field,
        code,
        message: message.into(),
    })
}

/// Validates `record`; certificate paths are read relative to `base_dir`.
pub fn validate(record: &SpRecord, base_dir: &Path) -> Result<ServiceProvider, ValidationError> {
    let issuer = issuer(&record.issuer)?;
    let ial = record.ial.unwrap_or(1);
    if !matches!(ial, 1 | 2) {
        return fail("ial", "out_of_range", format!("{ial} is not 1 or 2"));
    }
    if record.ialmax_allowed && ial != 2 {
        return fail(
            "ialmax_allowed",
            "not_allowed",
            "only an SP with ial = 2 can be allowed IALMAX",
        );
    }
    if let Some(aal) = record.default_aal.filter(|a| !matches!(a, 2 | 3)) {
        return fail(
            "default_aal",
            "out_of_range",
            format!("{aal} is not 2 or 3 (AAL1 is not offered)"),
        );
    }
    let block_encryption = match &record.block_encryption {
        None => BlockEncryption::default(),
        Some(name) => BlockEncryption::parse(name).map_or_else(
            || {
                let known = BlockEncryption::names().collect::<Vec<_>>().join(", ");
                fail(
                    "block_encryption",
                    "unknown_value",
                    format!("{name:?} is not one of {known}"),
                )
            },
            Ok,
        )?,
    };
    Ok(ServiceProvider {
        friendly_name: display_text("friendly_name", record.friendly_name.as_deref())?
            .unwrap_or_else(|| issuer.clone()),
        agency: display_text("agency", record.agency.as_deref())?,
        issuer,
        active: record.active,
        acs_urls: acs_urls(&record.acs_urls)?,
        logout_url: optional_url("logout_url", record.logout_url.as_deref())?,
        certs: certificates(&record.certs, base_dir)?,
        block_encryption,
        signed_response_message_requested: record.signed_response_message_requested,
        require_signed_requests: record.require_signed_requests,
        ial,
        default_aal: record.default_aal,
        attribute_bundle: attribute_bundle(&record.attribute_bundle)?,
        email_nameid_format_allowed: record.email_nameid_format_allowed,
        ialmax_allowed: record.ialmax_allowed,
        return_to_sp_url: optional_url("return_to_sp_url", record.return_to_sp_url.as_deref())?,
        failure_to_proof_url: optional_url(
            "failure_to_proof_url",
            record.failure_to_proof_url.as_deref(),
        )?,
        created_at: None,
        updated_at: None,
        version: 0,
    })
}

fn issuer(value: &str) -> Result<String, ValidationError> {
    if value.is_empty() {
        return fail("issuer", "required", "must not be empty");
    }
    if value.len() > MAX_ISSUER {
        return fail(
            "issuer",
            "too_long",
            format!("is longer than {MAX_ISSUER} bytes"),
        );
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail(
            "issuer",
            "invalid_characters",
            format!("{value:?} contains whitespace or control characters"),
        );
    }
    Ok(value.to_string())
}

fn display_text(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    let Some(value) = value else { return Ok(None) };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return fail(field, "blank", "must not be blank when given");
    }
    if trimmed.chars().count() > MAX_NAME {
        return fail(
            field,
            "too_long",
            format!("is longer than {MAX_NAME} characters"),
        );
    }
    if trimmed.chars().any(char::is_control) {
        return fail(field, "invalid_characters", "contains control characters");
    }
    Ok(Some(trimmed.to_string()))
}

/// An absolute http(s) URL with a host and no fragment, kept exactly as written: requests
/// must match a registered ACS URL byte for byte (SPEC 11).
pub fn absolute_url(field: &'static str, value: &str) -> Result<String, ValidationError> {
    if value.len() > MAX_URL {
        return fail(
            field,
            "too_long",
            format!("URL is longer than {MAX_URL} bytes"),
        );
    }
    let parsed = match url::Url::parse(value) {
        Ok(u) => u,
        Err(e) => {
            return fail(
                field,
                "not_absolute_url",
                format!("{value:?} is not an absolute URL ({e})"),
            )
        }
    };
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return fail(
            field,
            "not_http_url",
            format!("{value:?} is not an http or https URL"),
        );
    }
    if parsed.fragment().is_some() || value.chars().any(|c| c.is_whitespace()) {
        return fail(
            field,
            "fragment_or_whitespace",
            format!("{value:?} must not contain a fragment or whitespace"),
        );
    }
    Ok(value.to_string())
}

fn optional_url(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    value.map(|v| absolute_url(field, v)).transpose()
}

fn acs_urls(values: &[String]) -> Result<Vec<String>, ValidationError> {
    if values.is_empty() {
        return fail(
            "acs_urls",
            "required",
            "at least one Assertion Consumer Service URL is required",
        );
    }
    if values.len() > MAX_ACS_URLS {
        return fail(
            "acs_urls",
            "too_many",
            format!("more than {MAX_ACS_URLS} URLs"),
        );
    }
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        let url = absolute_url("acs_urls", v)?;
        if out.contains(&url) {
            return fail("acs_urls", "duplicate", format!("{url:?} is listed twice"));
        }
        out.push(url);
    }
    Ok(out)
}

fn certificates(values: &[String], base_dir: &Path) -> Result<Vec<Certificate>, ValidationError> {
    if values.len() > MAX_CERTS {
        return fail(
            "certs",
            "too_many",
            format!("more than {MAX_CERTS} certificates"),
        );
    }
    let mut out: Vec<Certificate> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let n = i + 1;
        let (pem, origin) = if value.trim_start().starts_with("-----BEGIN") {
            (value.as_bytes().to_vec(), format!("certificate {n}"))
        } else {
            let path = base_dir.join(value);
            (
                read_small(&path, n)?,
                format!("certificate {n} ({})", path.display()),
            )
        };
        if contains(&pem, b"PRIVATE KEY-----") {
            // Refused before anything parses or stores it; its text is never repeated.
            return fail(
                "certs",
                "private_key",
                format!(
                    "{origin} is a private key, not a certificate: it was not stored. \
                     Register only the certificate (-----BEGIN CERTIFICATE-----), and replace \
                     this key: it has left the service provider"
                ),
            );
        }
        let cert = Certificate::from_pem(&pem)
            .or_else(|e| fail("certs", e.code(), format!("{origin}: {e}")))?;
        if out
            .iter()
            .any(|c| c.x509().to_der().ok() == cert.x509().to_der().ok())
        {
            return fail("certs", "duplicate", format!("{origin} is listed twice"));
        }
        out.push(cert);
    }
    Ok(out)
}

/// Replaces every certificate path of `record` (relative to `base_dir`) by the PEM it names,
/// so that the record can be judged without reading files (the console's rule).
pub fn inline_certificates(record: &mut SpRecord, base_dir: &Path) -> Result<(), ValidationError> {
    for (i, value) in record.certs.iter_mut().enumerate() {
        if value.trim_start().starts_with("-----BEGIN") {
            continue;
        }
        let path = base_dir.join(&*value);
        let bytes = read_small(&path, i + 1)?;
        *value = String::from_utf8(bytes).or_else(|_| {
            fail(
                "certs",
                "not_pem",
                format!("certificate {}: {} is not PEM text", i + 1, path.display()),
            )
        })?;
    }
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn read_small(path: &Path, n: usize) -> Result<Vec<u8>, ValidationError> {
    let meta = std::fs::metadata(path).or_else(|e| {
        fail(
            "certs",
            "unreadable_file",
            format!("certificate {n}: cannot read {}: {e}", path.display()),
        )
    })?;
    if meta.len() > MAX_CERT_FILE {
        return fail(
            "certs",
            "too_large",
            format!("certificate {n}: {} is larger than 64 KiB", path.display()),
        );
    }
    std::fs::read(path).or_else(|e| {
        fail(
            "certs",
            "unreadable_file",
            format!("certificate {n}: cannot read {}: {e}", path.display()),
        )
    })
}

fn attribute_bundle(values: &[String]) -> Result<Vec<String>, ValidationError> {
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if attributes::lookup(v).is_none() {
            return fail(
                "attribute_bundle",
                "unknown_attribute",
                format!("{v:?} is not a known attribute"),
            );
        }
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> std::path::PathBuf {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys")
    }

    fn record() -> SpRecord {
        SpRecord {
            issuer: "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:app".into(),
            acs_urls: vec!["https://sp.example.gov/acs".into()],
            certs: vec!["sp1-test-only.crt".into()],
            active: true,
            ..SpRecord::default()
        }
    }

    fn field_of(r: SpRecord) -> &'static str {
        validate(&r, &fixtures()).expect_err("must fail").field
    }

    #[test]
    fn a_minimal_record_gets_defaults() {
        let sp = validate(&record(), &fixtures()).expect("valid");
        assert_eq!(sp.friendly_name, sp.issuer);
        assert_eq!(sp.ial, 1);
        assert_eq!(sp.block_encryption, BlockEncryption::Aes256Cbc);
        assert_eq!(sp.certs.len(), 1);
    }

    #[test]
    fn each_bad_field_is_named() {
        type Change = fn(&mut SpRecord);
        let cases: Vec<(&str, Change)> = vec![
            ("issuer", |r| r.issuer = "has space".into()),
            ("issuer", |r| r.issuer.clear()),
            ("acs_urls", |r| r.acs_urls = vec!["/relative/acs".into()]),
            ("acs_urls", |r| {
                r.acs_urls = vec!["ftp://sp.example.gov/acs".into()]
            }),
            ("acs_urls", |r| r.acs_urls.clear()),
            ("acs_urls", |r| {
                r.acs_urls.push("https://sp.example.gov/acs".into())
            }),
            ("logout_url", |r| {
                r.logout_url = Some("sp.example.gov/logout".into())
            }),
            ("certs", |r| {
                r.certs = vec!["weak-1024-test-only.crt".into()]
            }),
            ("certs", |r| r.certs = vec!["sp1-test-only.key".into()]),
            ("certs", |r| {
                r.certs =
                    vec!["-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----".into()]
            }),
            ("certs", |r| r.certs = vec!["missing.crt".into()]),
            ("certs", |r| {
                r.certs = vec!["sp1-test-only.crt".into(), "sp1-test-only.crt".into()]
            }),
            ("ial", |r| r.ial = Some(3)),
            ("default_aal", |r| r.default_aal = Some(1)),
            ("block_encryption", |r| {
                r.block_encryption = Some("des".into())
            }),
            ("attribute_bundle", |r| {
                r.attribute_bundle = vec!["shoe_size".into()]
            }),
            ("ialmax_allowed", |r| r.ialmax_allowed = true),
            ("friendly_name", |r| r.friendly_name = Some("  ".into())),
        ];
        for (field, change) in cases {
            let mut r = record();
            change(&mut r);
            assert_eq!(field_of(r.clone()), field, "{r:?}");
        }
    }

    #[test]
    fn inline_pem_is_accepted() {
        let mut r = record();
        r.certs = vec![std::fs::read_to_string(fixtures().join("sp2-test-only.crt")).expect("pem")];
        assert_eq!(
            validate(&r, Path::new("/nonexistent"))
                .expect("valid")
                .certs
                .len(),
            1
        );
    }
}
