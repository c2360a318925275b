//! What the console pages (`web::console`) show, and the SP form read back into a registry
//! record: one typed model per page, in a leaf that the handlers and the page tests both
//! call. Every value is text that tera escapes; nothing here is HTML.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::idp::console::certificates::{self, describe, CertificateInfo};
use crate::idp::console::events::RefusedRequest;
use crate::registry::{BlockEncryption, ServiceProvider, SpRecord};
use crate::saml::attributes::CATALOGUE;
use crate::web::extract::HasCsrf;
use crate::web::i18n::Locale;
use crate::web::intake_errors;

/// A posted console form, as its (name, value) pairs: checkboxes repeat `attribute_bundle`.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The version the form was read at (`None` when absent or not a number).
    pub fn version(&self) -> Option<i64> {
        self.get("version").and_then(|v| v.parse().ok())
    }

    /// The SP fields of the form over `record` (the issuer only when `with_issuer`, the
    /// certificates only when `with_certs`: they have their own forms once the SP exists).
    pub fn apply(&self, record: &mut SpRecord, with_issuer: bool, with_certs: bool) {
        if with_issuer {
            record.issuer = self.get("issuer").unwrap_or_default().trim().to_string();
        }
        record.friendly_name = self.text("friendly_name");
        record.agency = self.text("agency");
        record.active = self.checked("active");
        record.acs_urls = lines(self.get("acs_urls").unwrap_or_default());
        record.logout_url = self.text("logout_url");
        record.return_to_sp_url = self.text("return_to_sp_url");
        record.failure_to_proof_url = self.text("failure_to_proof_url");
        record.block_encryption = self.text("block_encryption");
        record.signed_response_message_requested = self.checked("signed_response");
        record.require_signed_requests = self.checked("require_signed_requests");
        record.email_nameid_format_allowed = self.checked("email_nameid");
        record.ialmax_allowed = self.checked("ialmax_allowed");
        // A value that is not a small number is kept out of range, so validation names it.
        let level = |name| self.text(name).map(|v| v.parse::<u8>().unwrap_or(u8::MAX));
        record.ial = level("ial");
        record.default_aal = level("default_aal");
        record.attribute_bundle = self.all("attribute_bundle");
        if with_certs {
            record.certs = pem_blocks(self.get("certs").unwrap_or_default());
        }
    }
}

impl HasCsrf for Posted {
    fn csrf(&self) -> &str {
        self.get("csrf").unwrap_or_default()
    }
}

/// Non-empty trimmed lines.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Each `-----BEGIN …-----` … `-----END …-----` block of `text` (several certificates may
/// be pasted at once); text that holds no block is kept whole, so validation names it.
pub fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
            if line.starts_with("-----END ") {
                blocks.extend(current.take());
            }
        }
    }
    if blocks.is_empty() && !text.trim().is_empty() {
        blocks.push(text.trim().to_string());
    }
    blocks
}

/// One row of the SP list.
#[derive(Debug, Serialize)]
pub struct SpRow {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub agency: String,
    pub active: bool,
    /// The first certificate to end, as a date, and its state.
    pub expiry: Option<String>,
    pub expiry_state: &'static str,
}

pub fn row(sp: &ServiceProvider, now: DateTime<Utc>) -> SpRow {
    let first = certificates::first_expiry(&sp.certs);
    let expiry_state = match first {
        None => "none",
        Some(end) if end <= now => "expired",
        Some(end) if end - now <= chrono::Duration::days(certificates::WARN_DAYS) => "soon",
        Some(_) => "ok",
    };
    SpRow {
        id: sp.public_id(),
        name: sp.friendly_name.clone(),
        issuer: sp.issuer.clone(),
        agency: sp.agency.clone().unwrap_or_default(),
        active: sp.active,
        expiry: first.map(|t| t.format("%Y-%m-%d").to_string()),
        expiry_state,
    }
}

#[derive(Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub selected: bool,
}

/// The SP form, filled from a record.
#[derive(Debug, Serialize)]
pub struct SpForm {
    pub issuer: String,
    pub friendly_name: String,
    pub agency: String,
    pub active: bool,
    pub acs_urls: String,
    pub logout_url: String,
    pub return_to_sp_url: String,
    pub failure_to_proof_url: String,
    pub block_encryption: Vec<Choice>,
    pub signed_response: bool,
    pub require_signed_requests: bool,
    pub email_nameid: bool,
    pub ialmax_allowed: bool,
    pub ial: Vec<Choice>,
    pub default_aal: Vec<Choice>,
    pub attributes: Vec<Choice>,
    /// The PEM certificates (the new-SP form only).
    pub certs: String,
}

fn choices<'a>(values: impl Iterator<Item = &'a str>, selected: &str) -> Vec<Choice> {
    values
        .map(|v| Choice {
            value: v.to_string(),
            selected: v == selected,
        })
        .collect()
}

pub fn form(record: &SpRecord) -> SpForm {
    let encryption = record
        .block_encryption
        .clone()
        .unwrap_or_else(|| BlockEncryption::default().as_str().to_string());
    let ial = record.ial.unwrap_or(1).to_string();
    let aal = record
        .default_aal
        .map(|a| a.to_string())
        .unwrap_or_default();
    SpForm {
        issuer: record.issuer.clone(),
        friendly_name: record.friendly_name.clone().unwrap_or_default(),
        agency: record.agency.clone().unwrap_or_default(),
        active: record.active,
        acs_urls: record.acs_urls.join("\n"),
        logout_url: record.logout_url.clone().unwrap_or_default(),
        return_to_sp_url: record.return_to_sp_url.clone().unwrap_or_default(),
        failure_to_proof_url: record.failure_to_proof_url.clone().unwrap_or_default(),
        block_encryption: choices(BlockEncryption::names(), &encryption),
        signed_response: record.signed_response_message_requested,
        require_signed_requests: record.require_signed_requests,
        email_nameid: record.email_nameid_format_allowed,
        ialmax_allowed: record.ialmax_allowed,
        ial: choices(["1", "2"].into_iter(), &ial),
        default_aal: choices(["", "2", "3"].into_iter(), &aal),
        attributes: CATALOGUE
            .iter()
            .map(|a| Choice {
                value: a.key.to_string(),
                selected: record.attribute_bundle.iter().any(|k| k == a.key),
            })
            .collect(),
        certs: record.certs.join("\n"),
    }
}

/// A certificate as its page lists it.
#[derive(Debug, Serialize)]
pub struct CertView {
    pub subject: String,
    pub serial: String,
    pub sha256: String,
    pub not_after: String,
    pub expired: bool,
    pub expires_soon: bool,
}

/// The SP form of `record` (`new`: with the issuer and certificates) and its choices' words.
pub fn insert_form(context: &mut tera::Context, locale: Locale, record: &SpRecord, new: bool) {
    let [encryption, ial, aal] = choice_labels(locale);
    context.insert("form", &form(record));
    context.insert("new", &new);
    context.insert("encryption_labels", &encryption);
    context.insert("ial_labels", &ial);
    context.insert("aal_labels", &aal);
}

/// The certificates of an SP as its page lists them.
pub fn certificates(sp: &ServiceProvider, now: DateTime<Utc>) -> Vec<CertView> {
    sp.certs
        .iter()
        .map(|c| {
            let CertificateInfo {
                subject,
                serial,
                sha256,
                not_after,
                expired,
                expires_soon,
            } = describe(c, now);
            CertView {
                subject,
                serial,
                sha256,
                not_after: not_after
                    .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                    .unwrap_or_default(),
                expired,
                expires_soon,
            }
        })
        .collect()
}

/// The words for the form's choices, in `locale`: (encryption, IAL, default AAL).
pub fn choice_labels(
    locale: Locale,
) -> [std::collections::BTreeMap<&'static str, &'static str>; 3] {
    let encryption = BlockEncryption::names()
        .map(|n| (n, locale.t(&format!("console.enc_{}", n.replace('-', "_")))))
        .collect();
    let ial = [
        ("1", locale.t("console.ial_1")),
        ("2", locale.t("console.ial_2")),
    ]
    .into_iter()
    .collect();
    let aal = [
        ("", locale.t("console.aal_default")),
        ("2", locale.t("console.aal_2")),
        ("3", locale.t("console.aal_3")),
    ]
    .into_iter()
    .collect();
    [encryption, ial, aal]
}

/// An error code of a refused request, explained in the page's language.
#[derive(Debug, Serialize)]
pub struct CodeView {
    pub code: String,
    pub message: String,
    pub help: String,
    pub help_url: String,
}

#[derive(Debug, Serialize)]
pub struct EventView {
    pub at: String,
    pub event: String,
    /// "3 times" when the minute saw more than one; empty otherwise.
    pub times: String,
    /// The binding, in words (empty when not recorded).
    pub binding: String,
    pub codes: Vec<CodeView>,
}

pub fn event(refused: &RefusedRequest, locale: Locale) -> EventView {
    EventView {
        at: refused.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        event: refused.kind.as_str().to_string(),
        binding: refused
            .binding
            .map(|b| {
                let key = format!("console.binding_{}", b.as_str().replace('-', "_"));
                locale.t(&key).to_string()
            })
            .unwrap_or_default(),
        times: match refused.count {
            0 | 1 => String::new(),
            n => locale
                .t("console.events_times")
                .replace("{count}", &n.to_string()),
        },
        codes: refused
            .codes
            .iter()
            .map(|code| match intake_errors::explain(code, locale, "") {
                Some((message, help, help_url)) => CodeView {
                    code: code.clone(),
                    message,
                    help,
                    help_url,
                },
                None => CodeView {
                    code: code.clone(),
                    message: String::new(),
                    help: String::new(),
                    help_url: String::new(),
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_pem_splits_into_blocks_and_other_text_stays_whole() {
        let two = "junk\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n\
                   -----BEGIN CERTIFICATE-----\r\nBBB\r\n-----END CERTIFICATE-----\n";
        let blocks = pem_blocks(two);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[1].contains("BBB") && !blocks[1].contains('\r'));
        assert_eq!(pem_blocks("hello"), ["hello"]);
        assert!(pem_blocks("  \n").is_empty());
    }

    #[test]
    fn the_form_reads_back_what_it_shows() {
        let record = SpRecord {
            issuer: "urn:x".into(),
            friendly_name: Some("X".into()),
            active: true,
            acs_urls: vec!["https://a/acs".into(), "https://b/acs".into()],
            attribute_bundle: vec!["email".into()],
            default_aal: Some(2),
            ..SpRecord::default()
        };
        let shown = form(&record);
        let mut pairs = vec![
            ("issuer".to_string(), shown.issuer.clone()),
            ("friendly_name".into(), shown.friendly_name.clone()),
            ("active".into(), "on".into()),
            ("acs_urls".into(), shown.acs_urls.clone()),
            ("default_aal".into(), "2".into()),
            ("ial".into(), "1".into()),
            ("block_encryption".into(), "aes256-cbc".into()),
        ];
        pairs.push(("attribute_bundle".into(), "email".into()));
        let mut back = SpRecord::default();
        Posted(pairs).apply(&mut back, true, true);
        assert_eq!(back.acs_urls, record.acs_urls);
        assert_eq!(back.attribute_bundle, record.attribute_bundle);
        assert_eq!(back.default_aal, Some(2));
        assert_eq!(back.ial, Some(1));
        assert!(back.active && back.certs.is_empty());
    }
}
