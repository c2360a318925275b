//! The console's templates (SPEC 19), with the contexts `web::console` gives them: every
//! name, issuer, agency, URL and certificate subject there was typed by an SP administrator
//! or read from an SP's metadata, so each case gives them hostile values.

use serde_json::json;
use tera::Context;

use super::{esc, flow_context, hostile, Case, CSRF, EN};
use crate::registry::SpRecord;
use crate::web::console_view as view;

fn console_context(title_key: &str) -> Context {
    let mut context = flow_context(title_key, false);
    context.insert("csrf", CSRF);
    context
}

fn hostile_record() -> SpRecord {
    SpRecord {
        issuer: hostile("urn:sp"),
        friendly_name: Some(hostile("Benefits")),
        agency: Some(hostile("GSA")),
        active: true,
        acs_urls: vec![hostile("https://sp.example.gov/acs")],
        logout_url: Some(hostile("https://sp.example.gov/slo")),
        attribute_bundle: vec!["email".into()],
        certs: vec![hostile("-----BEGIN CERTIFICATE-----")],
        ..SpRecord::default()
    }
}

fn certificate() -> serde_json::Value {
    json!({
        "subject": hostile("CN=sp"), "serial": "0A1B", "sha256": "ab".repeat(32),
        "not_after": "2036-11-19 04:31 UTC", "expired": false, "expires_soon": true,
    })
}

/// `pages::list`: one SP of each certificate state, and none.
pub(super) fn list() -> Vec<Case> {
    let mut context = console_context("console.title");
    let row = |state: &str, expiry: Option<&str>| {
        json!({"id": "dXJu", "name": hostile("Benefits"), "issuer": hostile("urn:sp"),
               "agency": hostile("GSA"), "active": state != "expired", "expiry": expiry,
               "expiry_state": state})
    };
    context.insert(
        "sps",
        &json!([
            row("ok", Some("2036-11-19")),
            row("soon", Some("2026-12-20")),
            row("expired", Some("2026-01-01")),
            row("none", None)
        ]),
    );
    let mut empty = console_context("console.title");
    empty.insert("sps", &json!([]));
    vec![
        Case {
            label: "every state",
            context,
            expect: vec![
                "href=\"/console/sps/dXJu?locale=en\"".into(),
                "href=\"/console/new?locale=en\"".into(),
                "Valid until 2036-11-19".into(),
                "Expires 2026-12-20: rotate it now".into(),
                "Expired 2026-01-01".into(),
                EN.t("console.expiry_none").into(),
                "<th scope=\"col\">".into(),
            ],
        },
        Case {
            label: "none",
            context: empty,
            expect: vec![EN.t("console.empty").into()],
        },
    ]
}

/// `pages::sp_page`: the settings form with a field refused, the certificates.
pub(super) fn sp() -> Vec<Case> {
    let page = |error_field: Option<&str>| {
        let mut context = console_context("console.sp_title");
        context.insert("title", &hostile("Benefits"));
        context.insert("id", "dXJu");
        context.insert("version", &3);
        view::insert_form(&mut context, EN, &hostile_record(), false);
        context.insert("certificates", &json!([certificate()]));
        if let Some(field) = error_field {
            context.insert("error_field", field);
            context.insert("error", &hostile("refused"));
        }
        context
    };
    vec![
        Case {
            label: "a field refused",
            context: page(Some("acs_urls")),
            expect: vec![
                "action=\"/console/sps/dXJu?locale=en\"".into(),
                "name=\"version\" value=\"3\"".into(),
                "id=\"acs_urls-error\"".into(),
                "aria-invalid=\"true\"".into(),
                format!("{}</textarea>", esc(&hostile("https://sp.example.gov/acs"))),
                "href=\"/console/sps/dXJu/certificates/".into(),
                EN.t("console.cert_soon").into(),
                "<legend>".into(),
                "<option value=\"aes256-cbc\" selected>".into(),
            ],
        },
        Case {
            label: "a certificate refused",
            context: page(Some("pem")),
            expect: vec!["id=\"pem-error\"".into()],
        },
        Case {
            label: "stale",
            context: page(Some("")),
            expect: vec!["<p class=\"error\" role=\"alert\">".into()],
        },
    ]
}

/// `new_sp::new_page`: filled from metadata, with the metadata refused.
pub(super) fn new_sp() -> Vec<Case> {
    let mut context = console_context("console.new_title");
    view::insert_form(&mut context, EN, &hostile_record(), true);
    context.insert("notice", EN.t("console.review"));
    context.insert("error_field", "metadata");
    context.insert("error", &hostile("not XML"));
    vec![Case {
        label: "from metadata",
        context,
        expect: vec![
            "action=\"/console/new/metadata?locale=en\"".into(),
            "action=\"/console/new?locale=en\"".into(),
            format!("name=\"issuer\" value=\"{}\"", esc(&hostile("urn:sp"))),
            "id=\"metadata-error\"".into(),
            "name=\"certs\"".into(),
        ],
    }]
}

/// `pages::confirm_removal`.
pub(super) fn remove_cert() -> Vec<Case> {
    let mut context = console_context("console.remove_title");
    context.insert("id", "dXJu");
    context.insert("version", &2);
    context.insert("sp_name", &hostile("Benefits"));
    context.insert("cert", &certificate());
    context.insert("last", &true);
    vec![Case {
        label: "the last one",
        context,
        expect: vec![
            format!(
                "action=\"/console/sps/dXJu/certificates/{}/remove?locale=en\"",
                "ab".repeat(32)
            ),
            esc(EN.t("console.remove_last")),
            "name=\"version\" value=\"2\"".into(),
        ],
    }]
}

/// `pages::remove_certificate`, refused.
pub(super) fn refused() -> Vec<Case> {
    let mut context = console_context("console.remove_title");
    context.insert("error", &hostile("refused"));
    context.insert("back", "/console/sps/dXJu");
    vec![Case {
        label: "refused",
        context,
        expect: vec![esc("/console/sps/dXJu")],
    }]
}

/// `reports::events`.
pub(super) fn events() -> Vec<Case> {
    let mut context = console_context("console.events_title");
    context.insert("sp_name", &hostile("Benefits"));
    context.insert("id", "dXJu");
    context.insert(
        "events",
        &json!([{"at": "2026-03-15 12:00:00 UTC", "event": "SAML Auth Request", "times": "3 times", "binding": hostile("HTTP-Redirect"),
                 "codes": [{"code": "acs_url_not_registered", "message": hostile("m"),
                            "help": hostile("h"), "help_url": "/help/errors?locale=en#acs_url_not_registered"},
                           {"code": hostile("other"), "message": "", "help": "", "help_url": ""}]}]),
    );
    let mut none = console_context("console.events_title");
    none.insert("sp_name", "Benefits");
    none.insert("id", "dXJu");
    none.insert("events", &json!([]));
    vec![
        Case {
            label: "one refusal",
            context,
            expect: vec![
                "3 times".into(),
                esc(&hostile("HTTP-Redirect")),
                esc("/help/errors?locale=en#acs_url_not_registered"),
                "href=\"/tools/saml-request?locale=en\"".into(),
            ],
        },
        Case {
            label: "none",
            context: none,
            expect: vec![EN.t("console.events_none").into()],
        },
    ]
}

/// `reports::idp_metadata`.
pub(super) fn metadata() -> Vec<Case> {
    let mut context = console_context("console.idp_title");
    context.insert("entity_id", &hostile("https://idp.example.gov/api/saml"));
    context.insert(
        "years",
        &json!([{"year": "2026", "url": "https://idp.example.gov/api/saml/metadata2026",
                 "not_after": "2036-11-19", "sha256": "cd".repeat(32)}]),
    );
    vec![Case {
        label: "one year",
        context,
        expect: vec!["2036-11-19".into(), "cd".repeat(32)],
    }]
}
