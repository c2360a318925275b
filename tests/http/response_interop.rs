//! The SAML Response checked by independent software (SPEC 8): python3-saml acting as the
//! SP (strict: signatures, audience, destination, recipient, validity, decryption) and the
//! `xmlsec1` command (decrypt with the SP key, then each signature pinned to the year's
//! certificate). Responses come from the real HTTP flow. Tampering makes both refuse.

use crate::common;

use base64::Engine;
use serde_json::{json, Value};

use common::flow::*;
use common::oracles;
use saml_idp::accounts::sealing::VerifiedProfile;

const SP1_ACS: &str = "http://localhost:9001/acs";
const PLAIN_SP: &str = "urn:test:plain-sp";
const GCM_SP: &str = "urn:test:gcm-sp";

/// An SP as python3-saml sees it.
struct Sp<'a> {
    issuer: &'a str,
    acs: &'a str,
    cert: &'a str,
    key: &'a str,
    response_signed: bool,
    encrypted: bool,
}

const SP1: Sp<'static> = Sp {
    issuer: "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1",
    acs: SP1_ACS,
    cert: "sp1-test-only.crt",
    key: "sp1-test-only.key",
    response_signed: false,
    encrypted: true,
};

fn python3_saml(sp: &Sp<'_>, saml_response: &str, request_id: &str) -> Value {
    let job = json!({
        "sp_entity_id": sp.issuer, "acs_url": sp.acs, "sp_cert": common::pem(sp.cert), "sp_key": common::pem(sp.key),
        "idp_entity_id": format!("{}/api/saml", common::BASE_URL), "idp_cert": common::pem("idp-2026-test-only.crt"),
        "saml_response": saml_response, "request_id": request_id,
        "want_response_signed": sp.response_signed, "want_encrypted": sp.encrypted,
    });
    common::oracles::python3_saml("python3_saml_acs.py", &job)
}

/// Why python3-saml refused a Response: `process_response` listed `invalid_response` with
/// this `get_last_error_reason()`, or it raised this exception before it could list one.
#[derive(Debug, Clone, Copy)]
enum Refusal<'a> {
    Reason(&'a str),
    Raised(&'a str),
}

/// python3-saml's own texts (python3-saml 1.16, python-xmlsec 1.3).
const BAD_SIGNATURE: &str = "Signature validation failed. SAML Response rejected";
const NOT_SCHEMA_VALID: &str = "Invalid SAML Response. Not match the saml-schema-protocol-2.0.xsd";
const CANNOT_DECRYPT: &str = "xmlsec.Error: (1, 'failed to decrypt')";
/// python-xmlsec's `decrypt` when the decrypted content parsed as no element at all.
const DECRYPTED_NOTHING: &str = "builtins.IndexError: list index out of range";

fn wrong_audience(sp_entity_id: &str) -> String {
    format!("{sp_entity_id} is not a valid audience for this Response")
}

/// Refusing is not enough: python3-saml must refuse for the expected reason.
#[track_caller]
fn assert_refused(checked: &Value, why: Refusal<'_>, case: &str) {
    assert_eq!(checked["valid"], false, "{case}: {checked}");
    let (errors, field, text) = match why {
        Refusal::Reason(text) => (json!(["invalid_response"]), "reason", text),
        Refusal::Raised(text) => (json!([]), "exception", text),
    };
    assert_eq!(checked["errors"], errors, "{case}: {checked}");
    assert!(
        checked[field].as_str().is_some_and(|s| s.contains(text)),
        "{case}: refused, but not because {text:?}: {checked}"
    );
}

/// Decrypts (when encrypted) with `sp_key`, then verifies the Assertion's signature, and the
/// Response's when `response_signed`, each against `cert` only.
fn xmlsec1_accepts(xml: &[u8], sp_key: &str, cert: &str, response_signed: bool) -> bool {
    let plain = if String::from_utf8_lossy(xml).contains("EncryptedAssertion") {
        match oracles::xmlsec1_decrypts(xml, sp_key) {
            Some(plain) => plain,
            None => return false,
        }
    } else {
        xml.to_vec()
    };
    let ids = [oracles::ASSERTION, oracles::RESPONSE];
    let verify = |xpath| oracles::xmlsec1_verifies(&plain, cert, &ids, Some(xpath));
    let assertion = verify(oracles::ASSERTION_SIGNATURE);
    let response = !response_signed || verify(oracles::RESPONSE_SIGNATURE);
    assertion && response
}

fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden form fields of the hand-off page.
fn form_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    Some(unescape(body[start..].split('"').next()?))
}

fn decoded(saml_response: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(saml_response)
        .expect("base64")
}

fn add_sp(f: &Flow, issuer: &str, encryption: &str, sign_response: bool) {
    let record = saml_idp::registry::SpRecord {
        issuer: issuer.into(),
        acs_urls: vec![SP1_ACS.into()],
        certs: vec!["sp1-test-only.crt".into()],
        block_encryption: Some(encryption.into()),
        signed_response_message_requested: sign_response,
        email_nameid_format_allowed: true,
        attribute_bundle: vec!["uuid".into(), "email".into(), "locale".into(), "aal".into()],
        active: true,
        ..Default::default()
    };
    f.register_sp(&record);
}

/// Signs in fully and returns (SAMLResponse, RelayState) from the hand-off page.
async fn response_for(f: &mut Flow, xml: &str) -> (String, Option<String>) {
    let page = f.sign_in_fully(xml, false).await;
    assert_eq!(page.status, 200, "{}", page.body);
    (
        form_field(&page.body, "SAMLResponse").expect("SAMLResponse field"),
        form_field(&page.body, "RelayState"),
    )
}

#[actix_web::test]
async fn encrypted_assertion_for_sp1_is_accepted_and_read_back() {
    let mut f = start_at(common::wall_clock());
    let (response, relay) = response_for(
        &mut f,
        &authn_request(SP1.issuer, "", &["urn:acr.login.gov:auth-only"]),
    )
    .await;
    assert_eq!(relay, None, "no RelayState was sent");
    let sp = python3_saml(&SP1, &response, "_flow");
    assert_eq!(sp["valid"], true, "{sp}");
    assert_eq!(
        sp["name_id_format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    );
    assert_eq!(sp["attributes"]["email"], json!(["ada@example.gov"]));
    assert_eq!(
        sp["attributes"]["ial"],
        json!(["urn:acr.login.gov:auth-only"])
    );
    assert_eq!(
        sp["attributes"]["aal"],
        json!(["urn:gov:gsa:ac:classes:sp:PasswordProtectedTransport:duo"])
    );
    let xml = decoded(&response);
    assert!(String::from_utf8_lossy(&xml).contains("xmlenc#aes256-cbc"));
    assert!(xmlsec1_accepts(
        &xml,
        SP1.key,
        "idp-2026-test-only.crt",
        false
    ));
    assert!(
        !xmlsec1_accepts(&xml, SP1.key, "idp-2025-test-only.crt", false),
        "pinned to the 2026 certificate"
    );
    let other_sp = Sp {
        issuer: "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp2",
        ..SP1
    };
    assert_refused(
        &python3_saml(&other_sp, &response, "_flow"),
        Refusal::Reason(&wrong_audience(other_sp.issuer)),
        "audience: SP B refuses SP A's response",
    );
}

#[actix_web::test]
async fn signed_response_with_email_name_id_and_gcm_are_accepted() {
    let mut f = start_at(common::wall_clock());
    add_sp(&f, PLAIN_SP, "none", true);
    add_sp(&f, GCM_SP, "aes256-gcm", false);
    let email =
        "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\"/>";
    let xml = authn_request(PLAIN_SP, "", &["urn:acr.login.gov:auth-only"]).replace(
        "<samlp:RequestedAuthnContext>",
        &format!("{email}<samlp:RequestedAuthnContext>"),
    );
    let (response, _) = response_for(&mut f, &xml).await;
    let plain = Sp {
        issuer: PLAIN_SP,
        response_signed: true,
        encrypted: false,
        ..SP1
    };
    let sp = python3_saml(&plain, &response, "_flow");
    assert_eq!(
        (sp["valid"].clone(), sp["name_id"].clone()),
        (json!(true), json!("ada@example.gov")),
        "{sp}"
    );
    assert!(xmlsec1_accepts(
        &decoded(&response),
        SP1.key,
        "idp-2026-test-only.crt",
        true
    ));
    f.tick(60);
    f.jar.clear();
    let (response, _) = response_for(
        &mut f,
        &authn_request(GCM_SP, "", &["urn:acr.login.gov:auth-only"]),
    )
    .await;
    let gcm = Sp {
        issuer: GCM_SP,
        ..SP1
    };
    assert_eq!(python3_saml(&gcm, &response, "_flow")["valid"], true);
    assert!(String::from_utf8_lossy(&decoded(&response)).contains("xmlenc11#aes256-gcm"));
    assert!(xmlsec1_accepts(
        &decoded(&response),
        SP1.key,
        "idp-2026-test-only.crt",
        false
    ));
}

#[actix_web::test]
async fn awkward_attribute_values_come_back_byte_for_byte() {
    let mut f = start_at(common::wall_clock());
    let awkward = "Zoë & <Ann> \"Q\" 'x'\tend\nnext";
    let profile = VerifiedProfile {
        first_name: Some(awkward.into()),
        ..Default::default()
    };
    add_user(&f.state, "grace@example.gov", Some(profile), None);
    let xml = authn_request(VERIFIED_SP, "", &["urn:acr.login.gov:verified"]);
    assert_eq!(f.request(&xml).await.status, 303);
    f.password("grace@example.gov", PASSWORD).await;
    let code = f.code();
    f.second_factor(&code, false).await;
    let page = f.complete().await;
    let response = form_field(&page.body, "SAMLResponse").expect("response");
    let verified = Sp {
        issuer: VERIFIED_SP,
        acs: "http://localhost:9003/acs",
        encrypted: false,
        ..SP1
    };
    let sp = python3_saml(&verified, &response, "_flow");
    assert_eq!(sp["valid"], true, "{sp}");
    assert_eq!(sp["attributes"]["first_name"], json!([awkward]));
    assert!(xmlsec1_accepts(
        &decoded(&response),
        SP1.key,
        "idp-2026-test-only.crt",
        false
    ));
}

/// Flips one byte of the base64 payload's XML at `at` (a position inside a signed region or
/// the ciphertext) and re-encodes.
fn tampered(response: &str, needle: &str, offset: usize) -> String {
    let mut xml = decoded(response);
    let at = String::from_utf8_lossy(&xml).find(needle).expect("needle") + offset;
    xml[at] = if xml[at] == b'A' { b'B' } else { b'A' };
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[actix_web::test]
async fn one_changed_byte_is_refused_by_both() {
    let mut f = start_at(common::wall_clock());
    add_sp(&f, PLAIN_SP, "none", true);
    let (plain, _) = response_for(
        &mut f,
        &authn_request(PLAIN_SP, "", &["urn:acr.login.gov:auth-only"]),
    )
    .await;
    let plain_sp = Sp {
        issuer: PLAIN_SP,
        response_signed: true,
        encrypted: false,
        ..SP1
    };
    // python3-saml checks the schema and the audience before any signature: a byte there is
    // refused for that. Bytes only the signatures guard must be refused for the signature.
    let audience = wrong_audience(PLAIN_SP);
    for (needle, offset, why) in [
        ("<saml:Audience>", 16, audience.as_str()),
        ("<saml:AttributeValue>", 21, BAD_SIGNATURE),
        ("AuthnInstant=\"", 15, NOT_SCHEMA_VALID),
        ("<ds:DigestValue>", 20, BAD_SIGNATURE),
        ("<ds:SignatureValue>", 20, BAD_SIGNATURE),
    ] {
        let bad = tampered(&plain, needle, offset);
        assert_refused(
            &python3_saml(&plain_sp, &bad, "_flow"),
            Refusal::Reason(why),
            needle,
        );
        assert!(
            !xmlsec1_accepts(&decoded(&bad), SP1.key, "idp-2026-test-only.crt", true),
            "{needle}"
        );
    }
    f.tick(60);
    f.jar.clear();
    let (encrypted, _) = response_for(
        &mut f,
        &authn_request(SP1.issuer, "", &["urn:acr.login.gov:auth-only"]),
    )
    .await;
    let marker = "</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>";
    let cipher_start = String::from_utf8_lossy(&decoded(&encrypted))
        .rfind("<xenc:CipherValue>")
        .expect("content")
        + 40;
    assert!(String::from_utf8_lossy(&decoded(&encrypted)).contains(marker));
    let mut xml = decoded(&encrypted);
    xml[cipher_start] = if xml[cipher_start] == b'A' {
        b'B'
    } else {
        b'A'
    };
    let bad = base64::engine::general_purpose::STANDARD.encode(xml);
    // The changed character is in the first ciphertext block (the IV is the 16 bytes before
    // it): that block's plaintext becomes 16 random bytes, here `<saml:Assertion `. xmlsec
    // almost always refuses to parse what it decrypted; when the garbage happens to decrypt
    // and parse, python3-saml refuses what it reads (the schema or the signature). When the
    // garbage starts with a NUL byte (1 time in 256; the key and IV are new in every
    // Response), libxml2 reads the decrypted content as empty, xmlsec puts nothing in place
    // of the EncryptedData, and python-xmlsec's `decrypt` raises IndexError looking for the
    // element it expected there. Each is a refusal at decryption, schema or signature.
    let checked = python3_saml(&SP1, &bad, "_flow");
    let text = checked.to_string();
    assert_eq!(checked["valid"], false, "ciphertext: {checked}");
    assert!(
        [
            CANNOT_DECRYPT,
            BAD_SIGNATURE,
            NOT_SCHEMA_VALID,
            "failed to decrypt"
        ]
        .iter()
        .any(|reason| text.contains(reason))
            || checked["exception"]
                .as_str()
                .is_some_and(|e| e.contains("xmlsec") || e == DECRYPTED_NOTHING),
        "ciphertext: refused, but not for a decryption, schema or signature reason: {checked}"
    );
    assert!(
        !xmlsec1_accepts(&decoded(&bad), SP1.key, "idp-2026-test-only.crt", false),
        "ciphertext"
    );
}

#[actix_web::test]
async fn a_request_signed_with_the_second_certificate_is_answered_to_that_certificate() {
    // Not the stored fixture post-signed-second-cert (stamped at the fixed test time, so
    // stale at the real time this test needs): the same request, signed now with the second
    // key (query signature).
    let mut f = start_at(common::wall_clock());
    let request_id = "_second-cert";
    let xml = authn_request(SP1.issuer, "", &["urn:acr.login.gov:auth-only"])
        .replace("ID=\"_flow\"", &format!("ID=\"{request_id}\""));
    let query = signed_redirect(
        &stamped(&xml, f.state.clock.now()),
        "sp1-second-test-only.key",
    );
    assert_eq!(
        f.get(&format!("/api/saml/auth2026?{query}")).await.status,
        303
    );
    f.password("ada@example.gov", PASSWORD).await;
    let code = f.code();
    f.second_factor(&code, false).await;
    let page = f.complete().await;
    let response = form_field(&page.body, "SAMLResponse").expect("response");
    let second = Sp {
        cert: "sp1-second-test-only.crt",
        key: "sp1-second-test-only.key",
        ..SP1
    };
    assert_eq!(python3_saml(&second, &response, request_id)["valid"], true);
    assert_refused(
        &python3_saml(&SP1, &response, request_id),
        Refusal::Raised(CANNOT_DECRYPT),
        "the first key cannot decrypt it",
    );
    assert!(xmlsec1_accepts(
        &decoded(&response),
        second.key,
        "idp-2026-test-only.crt",
        false
    ));
    assert!(!xmlsec1_accepts(
        &decoded(&response),
        SP1.key,
        "idp-2026-test-only.crt",
        false
    ));
}

#[actix_web::test]
async fn relay_state_comes_back_verbatim_from_a_python3_saml_redirect() {
    // A fresh python3-saml Redirect URL, made like fixtures/requests/redirect-signed-python3-saml.url
    // (whose IssueInstant is the fixed test time, stale at the real time this test needs).
    let mut f = start_at(common::wall_clock());
    let made = common::oracles::python3_saml(
        "python3_saml_login.py",
        &json!({
            "sp_entity_id": SP1.issuer, "acs_url": SP1_ACS, "sp_cert": common::pem(SP1.cert), "sp_key": common::pem(SP1.key),
            "idp_entity_id": format!("{}/api/saml", common::BASE_URL),
            "idp_sso_url": format!("{}/api/saml/auth2026", common::BASE_URL),
            "idp_cert": common::pem("idp-2026-test-only.crt"),
            "relay_state": "https://sp.example/after?x=1&y=ä",
            "authn_contexts": ["urn:acr.login.gov:auth-only", "http://idmanagement.gov/ns/assurance/aal/2"],
        }),
    );
    let url = made["url"].as_str().expect("url").to_string();
    let query = url
        .split_once('?')
        .map(|(_, q)| q.to_string())
        .expect("query");
    assert_eq!(
        f.get(&format!("/api/saml/auth2026?{query}")).await.status,
        303
    );
    f.password("ada@example.gov", PASSWORD).await;
    let code = f.code();
    f.second_factor(&code, false).await;
    let page = f.complete().await;
    assert_eq!(
        form_field(&page.body, "RelayState").as_deref(),
        Some("https://sp.example/after?x=1&y=ä")
    );
    let response = form_field(&page.body, "SAMLResponse").expect("response");
    let xml = String::from_utf8_lossy(&decoded(&response)).into_owned();
    let request_id = xml
        .split("InResponseTo=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("InResponseTo")
        .to_string();
    assert_eq!(python3_saml(&SP1, &response, &request_id)["valid"], true);
}

#[actix_web::test]
async fn is_passive_without_a_session_gets_no_passive() {
    let mut f = start_at(common::wall_clock());
    let page = f
        .request(&authn_request(
            SP1.issuer,
            "IsPassive=\"true\"",
            &["urn:acr.login.gov:auth-only"],
        ))
        .await;
    let response = form_field(&page.body, "SAMLResponse").expect("response");
    let xml = String::from_utf8_lossy(&decoded(&response)).into_owned();
    assert!(
        xml.contains("urn:oasis:names:tc:SAML:2.0:status:Responder")
            && xml.contains("status:NoPassive"),
        "{xml}"
    );
    assert!(!xml.contains("Assertion"));
    assert!(
        page.body.contains("action=\"http://localhost:9001/acs\""),
        "posted to the registered ACS"
    );
}

/// How a request reaches the IdP.
#[derive(Debug, Clone, Copy)]
enum Sent {
    RedirectUnsigned,
    RedirectSigned,
    PostUnsigned,
    PostSigned,
}

/// Query signature over `SAMLRequest=…&RelayState=…&SigAlg=…` (saml-bindings §3.4.4.1) with
/// sp1's key, made with openssl.
fn signed_redirect_query(xml: &str) -> String {
    signed_redirect(xml, "sp1-test-only.key")
}

/// An enveloped signature added by the `xmlsec1` command with sp1's key.
fn xmlsec1_signed_request(xml: &str) -> Vec<u8> {
    let template = xml.replacen(
        "</saml:Issuer>",
        "</saml:Issuer><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"#_flow\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>",
        1,
    );
    oracles::xmlsec1_signed(template.as_bytes(), "sp1-test-only", oracles::AUTHN_REQUEST)
}

async fn send(f: &mut Flow, xml: &str, how: Sent) -> Answer {
    let xml = &stamped(xml, f.state.clock.now());
    let enc = |v: &str| -> String { url::form_urlencoded::byte_serialize(v.as_bytes()).collect() };
    let post = |body: &[u8]| {
        format!(
            "SAMLRequest={}",
            enc(&saml_idp::saml::codec::encode_post(body))
        )
    };
    let answer = match how {
        Sent::RedirectUnsigned => return f.request(xml).await,
        Sent::RedirectSigned => {
            f.get(&format!(
                "/api/saml/auth2026?{}",
                signed_redirect_query(xml)
            ))
            .await
        }
        Sent::PostUnsigned => {
            f.post_raw("/api/saml/authpost2026", post(xml.as_bytes()))
                .await
        }
        Sent::PostSigned => {
            f.post_raw("/api/saml/authpost2026", post(&xmlsec1_signed_request(xml)))
                .await
        }
    };
    answer
}

#[actix_web::test]
async fn every_variant_answers_redirect_and_post_requests_signed_and_unsigned() {
    let mut f = start_at(common::wall_clock());
    add_sp(&f, PLAIN_SP, "none", true);
    add_sp(&f, GCM_SP, "aes256-gcm", false);
    let email =
        "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\"/>";
    let variants: Vec<(Sp<'static>, String)> = vec![
        (
            SP1,
            authn_request(SP1.issuer, "", &["urn:acr.login.gov:auth-only"]),
        ),
        (
            Sp {
                issuer: PLAIN_SP,
                response_signed: true,
                encrypted: false,
                ..SP1
            },
            authn_request(PLAIN_SP, "", &["urn:acr.login.gov:auth-only"]).replace(
                "<samlp:RequestedAuthnContext>",
                &format!("{email}<samlp:RequestedAuthnContext>"),
            ),
        ),
        (
            Sp {
                issuer: GCM_SP,
                ..SP1
            },
            authn_request(GCM_SP, "", &["urn:acr.login.gov:auth-only"]),
        ),
    ];
    assert_eq!(f.sign_in_fully(&variants[0].1, false).await.status, 200);
    for (sp, xml) in &variants {
        for how in [
            Sent::RedirectUnsigned,
            Sent::RedirectSigned,
            Sent::PostUnsigned,
            Sent::PostSigned,
        ] {
            // Signed in: answered at once, or after consent the first time for an SP.
            let first = send(&mut f, xml, how).await;
            let page = match first.status {
                303 => {
                    assert!(first.location.starts_with("/consent"), "{how:?}");
                    f.complete().await
                }
                _ => first,
            };
            let response = form_field(&page.body, "SAMLResponse")
                .unwrap_or_else(|| panic!("{} {how:?}: {}", sp.issuer, page.body));
            let checked = python3_saml(sp, &response, "_flow");
            assert_eq!(checked["valid"], true, "{} {how:?}: {checked}", sp.issuer);
            assert!(
                xmlsec1_accepts(
                    &decoded(&response),
                    sp.key,
                    "idp-2026-test-only.crt",
                    sp.response_signed
                ),
                "{} {how:?}",
                sp.issuer
            );
            let relay = matches!(how, Sent::RedirectSigned).then(|| "relay".to_string());
            assert_eq!(
                form_field(&page.body, "RelayState"),
                relay,
                "{} {how:?}",
                sp.issuer
            );
        }
    }
}
