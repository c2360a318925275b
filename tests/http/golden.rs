//! Golden files (crewjam/saml's habit): what the IdP sends, byte for byte, with the clock
//! fixed and identifiers sequential (`common::clock`, the flow's `ManualClock`,
//! `SequentialIds`). RSA PKCS#1 v1.5 signatures are deterministic, so signed output is
//! stable too. Each file in `tests/golden/` is named after its test; the signed ones are
//! also checked by the `xmlsec1` command. tests/golden/README.md says what each file is.
//!
//! A difference fails with the first differing line and byte. When the change is intended:
//! `UPDATE_GOLDEN=1 cargo test --test http golden::`, then review the diff of `tests/golden/`.

use crate::common;

use actix_web::{test as actix_test, App};
use base64::Engine;

use common::flow::*;
use common::oracles;

/// An SP registered without encryption that asks for signed messages: its Response carries
/// two signatures (the Assertion's and the Response's), its LogoutResponse one. It signs with
/// sp1's test-only key.
const GOLDEN_SP: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:golden";
const IDP_CERT: &str = "idp-2026-test-only.crt";
const REGENERATE: &str = "UPDATE_GOLDEN=1 cargo test --test http golden::";

/// Compares `actual` with `tests/golden/NAME` byte for byte; with `UPDATE_GOLDEN=1`, writes
/// it instead.
fn assert_golden(name: &str, actual: &[u8]) {
    let path = common::root().join("tests/golden").join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("golden file written");
        eprintln!("golden: wrote {}", path.display());
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}\nto create it: {REGENERATE}", path.display()));
    if expected != actual {
        panic!(
            "{} differs from the output\n{}\nif the change is intended: {REGENERATE}",
            path.display(),
            first_difference(&expected, actual)
        );
    }
}

/// The first line that differs (line and column of the first differing byte), with some
/// context on each side: XML output is written on one line, so a whole line may be long.
fn first_difference(expected: &[u8], actual: &[u8]) -> String {
    let at = expected
        .iter()
        .zip(actual)
        .position(|(e, a)| e != a)
        .unwrap_or(expected.len().min(actual.len()));
    let line = expected[..at].iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = expected[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let from = at.saturating_sub(60).max(line_start);
    let excerpt = |bytes: &[u8]| {
        let end = bytes.len().min(at + 60);
        let text = String::from_utf8_lossy(&bytes[from.min(end)..end]);
        text.lines().next().unwrap_or_default().to_string()
    };
    format!(
        "first difference: line {line}, column {}, byte {at} (lengths {} and {})\n\
         - expected: …{}…\n+ actual:   …{}…",
        at - line_start + 1,
        expected.len(),
        actual.len(),
        excerpt(expected),
        excerpt(actual)
    )
}

/// The base64 value of the hidden field `name` of an auto-post page, decoded.
fn posted_xml(body: &str, name: &str) -> Vec<u8> {
    let value = form_field(body, name).unwrap_or_else(|| panic!("no {name} field: {body}"));
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("base64")
}

/// (status, body) of `GET uri` as the IdP sends them (`Flow::get` reads bodies as a browser
/// does, with `&#x2F;` unescaped).
async fn raw_get(f: &Flow, uri: &str) -> (u16, Vec<u8>) {
    let app =
        actix_test::init_service(App::new().configure(saml_idp::web::configure(f.state.clone())))
            .await;
    let response =
        actix_test::call_service(&app, actix_test::TestRequest::get().uri(uri).to_request()).await;
    let status = response.status().as_u16();
    (status, actix_test::read_body(response).await.to_vec())
}

fn add_golden_sp(f: &Flow) -> saml_idp::registry::ServiceProvider {
    let record = saml_idp::registry::SpRecord {
        issuer: GOLDEN_SP.into(),
        friendly_name: Some("Golden SP".into()),
        acs_urls: vec![SP1_ACS.into()],
        logout_url: Some("http://localhost:9001/logout".into()),
        certs: vec!["sp1-test-only.crt".into()],
        block_encryption: Some("none".into()),
        signed_response_message_requested: true,
        attribute_bundle: vec!["email".into(), "locale".into(), "ial".into(), "aal".into()],
        active: true,
        ..Default::default()
    };
    f.register_sp(&record)
}

/// Registers the golden SP and signs Ada in to it from a fresh browser (password, code,
/// consent): the SP and the Response XML it receives.
async fn signed_in_at_golden_sp(f: &mut Flow) -> (saml_idp::registry::ServiceProvider, Vec<u8>) {
    let sp = add_golden_sp(f);
    let request = authn_request(GOLDEN_SP, "", &["urn:acr.login.gov:auth-only"]);
    let page = f.sign_in_fully(&request, false).await;
    assert_eq!(page.status, 200, "{}", page.body);
    (sp, posted_xml(&page.body, "SAMLResponse"))
}

#[actix_web::test]
async fn metadata_2026() {
    let f = start();
    let (status, xml) = raw_get(&f, "/api/saml/metadata2026").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&xml));
    assert!(oracles::metadata_verifies(&xml, &common::key(IDP_CERT)));
    oracles::schema_valid(&xml, oracles::METADATA_SCHEMA).expect("metadata schema");
    assert_golden("metadata_2026.xml", &xml);
}

#[actix_web::test]
async fn signed_response() {
    let mut f = start();
    let (_, xml) = signed_in_at_golden_sp(&mut f).await;
    let ids = [oracles::ASSERTION, oracles::RESPONSE];
    for signature in [oracles::ASSERTION_SIGNATURE, oracles::RESPONSE_SIGNATURE] {
        assert!(
            oracles::xmlsec1_verifies(&xml, IDP_CERT, &ids, Some(signature)),
            "xmlsec1 verifies {signature}"
        );
    }
    oracles::schema_valid(&xml, oracles::PROTOCOL_SCHEMA).expect("protocol schema");
    assert_golden("signed_response.xml", &xml);
}

/// A front-channel LogoutRequest from the golden SP for its signed-in user, signed over the
/// Redirect query with sp1's key, stamped with the flow's clock.
fn logout_query(f: &Flow, session_index: &str) -> String {
    let xml = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_golden-logout" Version="2.0" IssueInstant="{}" Destination="{}/api/saml/logout2026"><saml:Issuer>{GOLDEN_SP}</saml:Issuer><saml:NameID>{session_index}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#,
        f.state.clock.now().format("%Y-%m-%dT%H:%M:%SZ"),
        common::BASE_URL
    );
    signed_redirect(&xml, "sp1-test-only.key")
}

#[actix_web::test]
async fn signed_logout_response() {
    let mut f = start();
    let (sp, _) = signed_in_at_golden_sp(&mut f).await;
    let user = f.state.stores.accounts.list().expect("users")[0].id;
    let agency_uuid = f
        .state
        .stores
        .identities
        .agency_uuid(user, &sp.agency_key(), "unused", f.state.clock.now())
        .expect("agency UUID");
    let query = logout_query(&f, &agency_uuid);
    let page = f.get(&format!("/api/saml/logout2026?{query}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let xml = posted_xml(&page.body, "SAMLResponse");
    assert!(
        oracles::xmlsec1_verifies(&xml, IDP_CERT, &[oracles::LOGOUT_RESPONSE], None),
        "xmlsec1 verifies the LogoutResponse"
    );
    oracles::schema_valid(&xml, oracles::PROTOCOL_SCHEMA).expect("protocol schema");
    assert_golden("signed_logout_response.xml", &xml);
}

#[actix_web::test]
async fn error_page_unknown_sp() {
    let f = start();
    let request = authn_request(
        "urn:test:not-registered",
        "",
        &["urn:acr.login.gov:auth-only"],
    );
    let request = stamped(&request, f.state.clock.now());
    let value = common::form(&saml_idp::saml::codec::encode_redirect(request.as_bytes()));
    let (status, html) = raw_get(&f, &format!("/api/saml/auth2026?SAMLRequest={value}")).await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&html));
    assert_golden("error_page_unknown_sp.html", &html);
}

#[test]
fn a_difference_is_shown_by_line_column_and_byte() {
    let shown = first_difference(b"<a>\n<b x=\"1\"/>\n", b"<a>\n<b x=\"2\"/>\n");
    assert!(
        shown.starts_with("first difference: line 2, column 7, byte 10 (lengths 15 and 15)"),
        "{shown}"
    );
    assert!(shown.contains("- expected: …<b x=\"1\"/>…"), "{shown}");
    assert!(shown.contains("+ actual:   …<b x=\"2\"/>…"), "{shown}");
    let shorter = first_difference(b"<a/>", b"<a/>\n");
    assert!(shorter.contains("byte 4 (lengths 4 and 5)"), "{shorter}");
}
