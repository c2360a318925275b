//! The demo SP's page (SPEC 20), with the contexts `web::demo_sp` gives it. Attribute
//! values, the NameID, the XML and a refusal's text come from a Response someone posted, so
//! each case gives them hostile values.

use tera::Context;

use super::{esc, flow_context, hostile, Case, EN};

fn base() -> Context {
    let mut context = flow_context("demo.title", false);
    context.insert("issuer", "http://localhost:8080/demo-sp");
    context.insert("acs_url", "http://localhost:8080/demo-sp/acs");
    context.insert("idp_entity_id", "http://localhost:8080/api/saml");
    context.insert(
        "idp_metadata",
        "http://localhost:8080/api/saml/metadata2026",
    );
    context.insert("refusal", &None::<String>);
    context.insert("signed_out", &None::<String>);
    context
}

fn verified() -> Context {
    let mut context = base();
    context.insert("status", "urn:oasis:names:tc:SAML:2.0:status:Success");
    context.insert("sub_status", &None::<String>);
    context.insert("succeeded", &true);
    context.insert("response_signed", &true);
    context.insert("response_xml", &hostile("<samlp:Response>"));
    context.insert("assertion_xml", &Some(hostile("<saml:Assertion>")));
    context.insert("result_name_id", &hostile("uuid"));
    context.insert(
        "name_id_format",
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    );
    context.insert("session_index", &Some("_session"));
    context.insert("assertion_signed", &true);
    context.insert("encryption", "http://www.w3.org/2009/xmlenc11#aes256-gcm");
    context.insert("authn_context", &Some("urn:acr.login.gov:auth-only"));
    context.insert("authn_instant", &Some("2026-12-07T06:00:00Z"));
    context.insert("not_on_or_after", &Some("2026-12-07T07:00:00Z"));
    context.insert(
        "attributes",
        &vec![("email".to_string(), vec![hostile("ada@example.gov")])],
    );
    context.insert("name_id", &hostile("uuid"));
    context.insert(
        "curl",
        &hostile("curl -X POST --data-urlencode 'SAMLRequest=x'"),
    );
    context
}

pub(super) fn demo_sp() -> Vec<Case> {
    let mut refused = base();
    refused.insert("title", EN.t("demo.refused"));
    refused.insert("refusal", &Some(hostile("Destination is")));
    let mut failed = base();
    failed.insert("status", "urn:oasis:names:tc:SAML:2.0:status:Responder");
    failed.insert(
        "sub_status",
        &Some("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
    );
    failed.insert("succeeded", &false);
    failed.insert("response_signed", &true);
    failed.insert("response_xml", "<samlp:Response/>");
    failed.insert("assertion_xml", &None::<String>);
    let mut signed_out = base();
    signed_out.insert(
        "signed_out",
        &Some("urn:oasis:names:tc:SAML:2.0:status:Success"),
    );
    vec![
        Case {
            label: "home",
            context: base(),
            expect: vec![
                "<form method=\"get\" action=\"/demo-sp/login\">".into(),
                "name=\"level\" value=\"phishing_resistant\"".into(),
                "name=\"force_authn\"".into(),
                "name=\"is_passive\"".into(),
                EN.t("demo.level_ial2").into(),
            ],
        },
        Case {
            label: "verified",
            context: verified(),
            expect: vec![
                EN.t("demo.verified").into(),
                esc(&hostile("ada@example.gov")),
                esc(&hostile("uuid")),
                esc(&hostile("<saml:Assertion>")),
                "<form method=\"post\" action=\"/demo-sp/logout\">".into(),
                esc(&hostile("curl -X POST --data-urlencode 'SAMLRequest=x'")),
            ],
        },
        Case {
            label: "refused",
            context: refused,
            expect: vec![
                "role=\"alert\"".into(),
                esc(&hostile("Destination is")),
                EN.t("demo.refused_check").into(),
            ],
        },
        Case {
            label: "failure status",
            context: failed,
            expect: vec![
                EN.t("demo.status_failed").into(),
                "urn:oasis:names:tc:SAML:2.0:status:NoPassive".into(),
            ],
        },
        Case {
            label: "signed out",
            context: signed_out,
            expect: vec![EN.t("demo.signed_out").into()],
        },
    ]
}
