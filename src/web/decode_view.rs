//! How a decode report (`idp::decode`) reads: localised labels and messages, the same
//! structure for `/tools/saml-request` (as the template's context) and for
//! `saml-idp decode --json` (in English).

use serde::Serialize;

use super::i18n::Locale;
use crate::idp::decode::Report;
use crate::idp::intake::catalogue::IntakeError;
use crate::idp::intake::facts::SignatureVerdict;

/// The texts of `/tools/saml-request`, inserted in its context with dots as underscores.
pub const PAGE_LABELS: &[&str] = &[
    "decode.intro",
    "decode.input_label",
    "decode.input_hint",
    "decode.submit",
    "decode.verdict",
    "decode.kind",
    "decode.issuer",
    "decode.sp",
    "decode.sp_not_registered",
    "decode.sp_inactive",
    "decode.signature",
    "decode.relay_state",
    "decode.errors",
    "decode.no_errors",
    "decode.xml",
    "error.more_info",
];

#[derive(Debug, Serialize)]
pub struct View {
    pub xml: Option<String>,
    pub kind: Option<&'static str>,
    pub relay_state: Option<String>,
    pub issuer: Option<String>,
    /// The registered SP; null when the issuer is not registered (or there is none).
    pub sp: Option<SpView>,
    pub signature: SignatureView,
    pub errors: Vec<ErrorView>,
    pub accepted: bool,
    pub inactive: bool,
    /// One line: accepted, refused, or refused because the SP is inactive.
    pub verdict: String,
    /// The endpoint the message was judged as, and when (UTC).
    pub endpoint: Option<String>,
    pub judged_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SpView {
    pub issuer: String,
    pub friendly_name: String,
    pub active: bool,
}

#[derive(Debug, Serialize)]
pub struct SignatureView {
    /// `not_checked`, `unsigned`, `verified` or `invalid`.
    pub status: &'static str,
    /// 1-based position of the matching certificate among the SP's registered ones.
    pub certificate: Option<usize>,
    pub serial: Option<String>,
    /// Why an invalid signature is invalid, in the IdP's fixed words.
    pub reasons: Vec<ErrorView>,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct ErrorView {
    pub code: &'static str,
    pub field: &'static str,
    pub field_label: &'static str,
    /// The catalogue message, then the IdP's detail in parentheses (as the endpoints' JSON).
    pub message: String,
}

fn error_view(e: &IntakeError, locale: Locale) -> ErrorView {
    let message = locale.t(&format!("code.{}", e.code.as_str()));
    ErrorView {
        code: e.code.as_str(),
        field: e.code.field().as_str(),
        field_label: locale.t(&format!("field.{}", e.code.field().as_str())),
        message: match &e.detail {
            Some(detail) => format!("{message} ({detail})"),
            None => message.to_string(),
        },
    }
}

fn signature_view(verdict: &SignatureVerdict, locale: Locale) -> SignatureView {
    let view = |status, summary: &str| SignatureView {
        status,
        certificate: None,
        serial: None,
        reasons: Vec::new(),
        summary: summary.to_string(),
    };
    match verdict {
        SignatureVerdict::NotChecked => view("not_checked", locale.t("decode.sig_not_checked")),
        SignatureVerdict::Unsigned => view("unsigned", locale.t("decode.sig_unsigned")),
        SignatureVerdict::Verified {
            certificate,
            serial,
        } => SignatureView {
            certificate: Some(certificate + 1),
            serial: Some(serial.clone()),
            ..view(
                "verified",
                &locale
                    .t("decode.sig_verified")
                    .replace("{n}", &(certificate + 1).to_string())
                    .replace("{serial}", serial),
            )
        },
        SignatureVerdict::Invalid(reasons) => SignatureView {
            reasons: reasons.iter().map(|e| error_view(e, locale)).collect(),
            ..view("invalid", locale.t("decode.sig_invalid"))
        },
    }
}

pub fn view(report: &Report, locale: Locale) -> View {
    let verdict = if report.accepted {
        "decode.accepted"
    } else if report.inactive {
        "decode.inactive"
    } else {
        "decode.refused"
    };
    View {
        xml: report.xml.clone(),
        kind: report.kind,
        relay_state: report.relay_state.clone(),
        issuer: report.issuer.clone(),
        sp: report.sp.as_ref().map(|sp| SpView {
            issuer: sp.issuer.clone(),
            friendly_name: sp.friendly_name.clone(),
            active: sp.active,
        }),
        signature: signature_view(&report.signature, locale),
        errors: report
            .errors
            .iter()
            .map(|e| error_view(e, locale))
            .collect(),
        accepted: report.accepted,
        inactive: report.inactive,
        verdict: locale.t(verdict).to_string(),
        endpoint: report.endpoint.clone(),
        judged_at: report
            .judged_at
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
    }
}
