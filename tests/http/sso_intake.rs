//! SSO request intake through HTTP (SPEC 1, 3–6): requests made by independent SP software
//! (python3-saml, the xmlsec1 command; see fixtures/requests/README.md) and hostile variants,
//! each with its exact status and error codes; every row of SPEC 4's catalogue; deflate
//! bombs and oversized bodies; JSON, HTML and languages; and no pending request left by any
//! refused request.

use crate::common;

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, App};
use serde_json::Value;

use saml_idp::idp::intake::catalogue::IntakeCode;
use saml_idp::idp::sso::pending::PendingStore;
use saml_idp::saml::codec::{encode_post, encode_redirect, Limits};
use saml_idp::store::DieselPendingStore;
use saml_idp::web::{self, AppState};

const AUTH: &str = "/api/saml/auth2026";
const AUTHPOST: &str = "/api/saml/authpost2026";
const SP1: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1";

struct Idp {
    db: common::TestDb,
    state: AppState,
}

fn idp() -> Idp {
    idp_with(|_| {})
}

fn idp_with(change: impl FnOnce(&mut saml_idp::config::Config)) -> Idp {
    let db = common::sqlite_db();
    common::seed_fixture_sps(&db);
    let mut state = common::app_state(&db);
    let mut config = (*state.config).clone();
    change(&mut config);
    state.config = Arc::new(config);
    Idp { db, state }
}

impl Idp {
    fn pending(&self) -> i64 {
        DieselPendingStore::new(self.db.db.clone())
            .count()
            .expect("count")
    }

    async fn call(&self, req: test::TestRequest) -> ServiceResponse {
        let app =
            test::init_service(App::new().configure(web::configure(self.state.clone()))).await;
        app.call(req.to_request()).await.expect("no service error")
    }

    async fn get(&self, path_and_query: &str) -> ServiceResponse {
        self.call(
            test::TestRequest::get()
                .uri(path_and_query)
                .insert_header(("Accept", "application/json")),
        )
        .await
    }

    async fn post(&self, path: &str, body: String) -> ServiceResponse {
        let req = test::TestRequest::post()
            .uri(path)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .insert_header(("Accept", "application/json"))
            .set_payload(body);
        self.call(req).await
    }
}

/// A response body as a browser reads it back (tera escapes `/` in attribute values).
async fn text(response: ServiceResponse) -> String {
    let body = test::read_body(response).await;
    String::from_utf8_lossy(&body).replace("&#x2F;", "/")
}

/// (status, error codes) of a response; codes from the JSON body.
async fn outcome(response: ServiceResponse) -> (u16, Vec<String>, bool) {
    let status = response.status().as_u16();
    let sets_cookie = response.headers().contains_key("set-cookie");
    let body = test::read_body(response).await;
    let codes = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["errors"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["code"].as_str().map(str::to_string))
        .collect();
    (status, codes, sets_cookie)
}

/// Sends one fixture the way its binding says: POST to authpost, or the Redirect URL's query.
async fn send_fixture(idp: &Idp, entry: &Value) -> ServiceResponse {
    let files: Vec<&str> = entry["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if let Some(url) = files.iter().find(|f| f.ends_with(".url")) {
        let url = common::request_fixture(url);
        let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        return idp.get(&format!("{AUTH}?{query}")).await;
    }
    let b64 = files
        .iter()
        .find(|f| f.ends_with(".b64"))
        .expect("a .b64 file");
    idp.post(
        AUTHPOST,
        format!(
            "SAMLRequest={}",
            common::form(common::request_fixture(b64).trim())
        ),
    )
    .await
}

#[actix_web::test]
async fn every_fixture_gets_its_expected_outcome() {
    let manifest: Vec<Value> =
        serde_json::from_str(&common::request_fixture("manifest.json")).expect("manifest");
    assert!(manifest.len() >= 25, "the manifest lists the fixtures");
    for entry in &manifest {
        let idp = idp();
        let (status, codes, cookie) = outcome(send_fixture(&idp, entry).await).await;
        let name = &entry["files"][0];
        let expected: Vec<String> = entry["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|c| c.as_str().map(str::to_string))
            .collect();
        if entry["status"] == 200 {
            assert_eq!(
                (status, cookie, idp.pending()),
                (303, true, 1),
                "{name} is accepted: {codes:?}"
            );
        } else {
            assert_eq!(status, 400, "{name}");
            assert_eq!(codes, expected, "{name}");
            assert_eq!(
                (cookie, idp.pending()),
                (false, 0),
                "{name} leaves no pending request"
            );
        }
    }
}

#[actix_web::test]
async fn python3_saml_redirect_keeps_relay_state_verbatim() {
    let idp = idp();
    let url = common::request_fixture("redirect-signed-python3-saml.url");
    let query = url.split_once('?').map(|(_, q)| q).expect("query");
    let response = idp.get(&format!("{AUTH}?{query}")).await;
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response
        .response()
        .cookies()
        .next()
        .expect("pending cookie")
        .value()
        .to_string();
    let store = DieselPendingStore::new(idp.db.db.clone());
    let pending = store
        .get(
            &saml_idp::idp::token::TokenHash::of(&cookie),
            common::wall_clock() - chrono::Duration::days(365 * 10),
        )
        .expect("store")
        .expect("pending request");
    assert_eq!(
        pending.relay_state.as_deref(),
        Some("https://sp.example/after?x=1&y=ä")
    );
    assert_eq!(pending.issuer, SP1);
    let first =
        saml_idp::crypto::cert::Certificate::from_pem(common::pem("sp1-test-only.crt").as_bytes())
            .expect("cert");
    assert_eq!(
        pending.matching_certificate,
        Some(first.sha256_fingerprint().to_string()),
        "the matching certificate is remembered by fingerprint"
    );
    assert_eq!(pending.year, 2026);
}

fn authn_request(issuer: &str, extra_attrs: &str, body: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_t1" Version="2.0" IssueInstant="2026-03-15T12:00:00Z" {extra_attrs}><saml:Issuer>{issuer}</saml:Issuer>{body}</samlp:AuthnRequest>"#
    )
}

async fn redirect(idp: &Idp, xml: &str) -> (u16, Vec<String>, bool) {
    outcome(
        idp.get(&format!(
            "{AUTH}?SAMLRequest={}",
            common::form(&encode_redirect(xml.as_bytes()))
        ))
        .await,
    )
    .await
}

/// Which case below produces each intake code over HTTP. No wildcard arm: a new code does
/// not compile here until a case producing it is named (and then added).
fn produced_by(code: IntakeCode) -> &'static str {
    use IntakeCode::*;
    match code {
        IssuerMissingOrInvalid
        | InvalidSignature
        | BlankCertElementReq
        | RequestCertNotRegistered
        | UnauthorizedServiceProvider
        | AcsUrlNotRegistered
        | SignatureRequired
        | DestinationMismatch
        | MalformedRequest => "a fixture of fixtures/requests/manifest.json",
        RequestExpired => "a crafted request in every_intake_code_is_produced_over_http",
        BothAuthAndLogoutRequest
        | NoAuthOrLogoutRequest
        | UnauthorizedAuthnContext
        | UnauthorizedNameidFormat
        | RequestTooLarge => "a crafted request in every_intake_code_is_produced_over_http",
        NoResponseUrl | NoCertRegistered => "no_response_url_and_no_cert",
    }
}

#[actix_web::test]
async fn every_intake_code_is_produced_over_http() {
    let mut seen = BTreeSet::new();
    let manifest: Vec<Value> =
        serde_json::from_str(&common::request_fixture("manifest.json")).expect("manifest");
    for entry in manifest.iter().filter(|e| e["status"] == 400) {
        let (_, codes, _) = outcome(send_fixture(&idp(), entry).await).await;
        seen.extend(codes);
    }
    let idp = idp();
    let cases: Vec<(String, &str)> = vec![
        (authn_request(SP1, "", "<samlp:LogoutRequest/>"), "both_auth_and_logout_request"),
        ("<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>".into(), "no_auth_or_logout_request"),
        (
            authn_request(SP1, "", "<samlp:RequestedAuthnContext><saml:AuthnContextClassRef>urn:unknown</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"),
            "unauthorized_authn_context",
        ),
        (
            authn_request(SP1, "", "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\"/>"),
            "unauthorized_nameid_format",
        ),
        (authn_request(SP1, "", "").replace("2026-03-15T12:00:00Z", "2025-03-15T12:00:00Z"), "request_expired"),
        (authn_request(SP1, &"a=\"1\" ".repeat(0), &"<x/>".repeat(0)).replace("ID=\"_t1\"", &(0..70).map(|i| format!("a{i}=\"1\" ")).collect::<String>()), "request_too_large"),
    ];
    for (xml, code) in cases {
        let (status, codes, _) = redirect(&idp, &xml).await;
        assert_eq!(
            (status, codes.as_slice()),
            (400, [code.to_string()].as_slice()),
            "{code}"
        );
        seen.insert(code.to_string());
    }
    seen.extend(no_response_url_and_no_cert().await);
    // From the enum (`all()` is checked against every variant by the unit tests).
    let missing: Vec<String> = IntakeCode::all()
        .filter(|c| !seen.contains(c.as_str()))
        .map(|c| format!("{} (expected from {})", c.as_str(), produced_by(c)))
        .collect();
    assert!(
        missing.is_empty(),
        "codes never produced over HTTP: {missing:?}"
    );
    let known: BTreeSet<&str> = IntakeCode::all().map(IntakeCode::as_str).collect();
    assert!(
        seen.iter().all(|c| known.contains(c.as_str())),
        "unknown codes: {seen:?}"
    );
}

/// Database states validation would not allow: an SP without ACS URLs, and an encrypting SP
/// without certificates.
async fn no_response_url_and_no_cert() -> Vec<String> {
    let db = common::sqlite_db();
    let registry = common::registry(&db);
    let keys = common::root().join("fixtures/keys");
    let record = |issuer: &str| saml_idp::registry::SpRecord {
        issuer: issuer.into(),
        acs_urls: vec!["https://sp.example.gov/acs".into()],
        active: true,
        ..Default::default()
    };
    let no_encryption = saml_idp::registry::SpRecord {
        block_encryption: Some("none".into()),
        ..record("urn:no-acs")
    };
    let mut no_acs = saml_idp::registry::validate(&no_encryption, &keys).expect("valid");
    no_acs.acs_urls.clear();
    registry.add(&no_acs).expect("add");
    registry
        .add(&saml_idp::registry::validate(&record("urn:no-cert"), &keys).expect("valid"))
        .expect("add");
    let idp = Idp {
        state: common::app_state(&db),
        db,
    };
    let mut out = Vec::new();
    for (issuer, code) in [
        ("urn:no-acs", "no_response_url"),
        ("urn:no-cert", "no_cert_registered"),
    ] {
        let (status, codes, _) = redirect(&idp, &authn_request(issuer, "", "")).await;
        assert_eq!((status, codes), (400, vec![code.to_string()]), "{issuer}");
        out.push(code.to_string());
    }
    out
}

#[actix_web::test]
async fn all_errors_are_reported_together_in_catalogue_order() {
    let idp = idp();
    let body = "<samlp:NameIDPolicy Format=\"urn:x\"/><samlp:RequestedAuthnContext><saml:AuthnContextClassRef>urn:unknown</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>";
    let attrs = "AssertionConsumerServiceURL=\"https://evil.example/acs\" Destination=\"https://elsewhere.example/sso\"";
    let sp2 = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp2";
    let (status, codes, _) = redirect(&idp, &authn_request(sp2, attrs, body)).await;
    assert_eq!(status, 400);
    assert_eq!(
        codes,
        [
            "unauthorized_authn_context",
            "unauthorized_nameid_format",
            "acs_url_not_registered",
            "signature_required",
            "destination_mismatch"
        ]
    );
}

/// Streams `n` zero bytes through raw DEFLATE at the best ratio without holding them.
fn deflate_zeros(n: usize) -> String {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..n / chunk.len() {
        encoder.write_all(&chunk).expect("deflate");
    }
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        encoder.finish().expect("finish"),
    )
}

#[actix_web::test]
async fn a_one_gigabyte_deflate_bomb_stops_at_the_inflate_cap() {
    let bomb = deflate_zeros(1 << 30);
    // Let the bomb through the parameter limit, so that inflation itself must stop it.
    let roomy = idp_with(|c| {
        c.limits.saml_param = 4 << 20;
        c.limits.body = 8 << 20;
    });
    let (status, codes, cookie) = outcome(
        roomy
            .post(AUTHPOST, format!("SAMLRequest={}", common::form(&bomb)))
            .await,
    )
    .await;
    assert_eq!(
        (status, codes.as_slice(), cookie),
        (400, ["request_too_large".to_string()].as_slice(), false)
    );
    // With the default limits the same bomb is refused before inflating at all.
    let idp = idp();
    let (status, codes, _) = outcome(
        idp.post(AUTHPOST, format!("SAMLRequest={}", common::form(&bomb)))
            .await,
    )
    .await;
    assert_eq!(
        (status, codes),
        (400, vec!["request_too_large".to_string()])
    );
    assert_eq!(idp.pending(), 0);
}

#[actix_web::test]
async fn a_ten_megabyte_body_is_refused_without_being_buffered() {
    let idp = idp();
    let body = format!("SAMLRequest={}", "A".repeat(10 << 20));
    for path in [AUTH, AUTHPOST] {
        let (status, codes, _) = outcome(idp.post(path, body.clone()).await).await;
        assert_eq!(
            (status, codes),
            (400, vec!["request_too_large".to_string()]),
            "{path}"
        );
    }
    let long_relay = format!(
        "SAMLRequest={}&RelayState={}",
        common::form(&encode_post(authn_request(SP1, "", "").as_bytes())),
        "r".repeat(1025)
    );
    let (status, codes, _) = outcome(idp.post(AUTHPOST, long_relay).await).await;
    assert_eq!(
        (status, codes),
        (400, vec!["request_too_large".to_string()])
    );
    assert_eq!(Limits::default().relay_state, 1024);
}

#[actix_web::test]
async fn html_errors_are_localised_and_echo_nothing() {
    let idp = idp();
    let xml = authn_request("urn:<script>alert(1)</script>", "", "").replace(
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    );
    for (locale, title, message) in [
        ("en", "Error", "Unauthorized Service Provider"),
        ("es", "Error", "Proveedor de servicios no autorizado"),
        ("fr", "Erreur", "Fournisseur de services non autorisé"),
    ] {
        let uri = format!(
            "{AUTH}?SAMLRequest={}&RelayState=%3Cscript%3E&locale={locale}",
            common::form(&encode_redirect(xml.as_bytes()))
        );
        let response = idp.call(test::TestRequest::get().uri(&uri)).await;
        assert_eq!(response.status().as_u16(), 400);
        let html = text(response).await;
        assert!(html.contains(&format!("<h1>{title}</h1>")), "{locale}");
        assert!(html.contains(message), "{locale}: {html}");
        assert!(
            html.contains(&format!(
                "/help/errors?locale={locale}#unauthorized_service_provider"
            )),
            "{locale}"
        );
        assert!(
            !html.contains("<script>") && !html.contains("alert(1)"),
            "{locale}: nothing echoed"
        );
    }
}

#[actix_web::test]
async fn json_errors_have_field_code_and_message() {
    let idp = idp();
    let response = idp
        .get(&format!(
            "{AUTH}?SAMLRequest={}",
            common::form(&encode_redirect(
                authn_request("urn:nobody", "", "").as_bytes()
            ))
        ))
        .await;
    assert_eq!(
        response.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"application/json"[..])
    );
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    let body: Value = serde_json::from_slice(&test::read_body(response).await).expect("json");
    assert_eq!(
        body,
        // The reference of its audit event (the test ID source's first UUID).
        serde_json::json!({"errors": [{"field": "service_provider", "code": "unauthorized_service_provider", "message": "Unauthorized Service Provider"}], "reference": "0000000000"})
    );
}

#[actix_web::test]
async fn an_inactive_sp_gets_the_no_longer_in_service_page() {
    let idp = idp();
    let registry = common::registry(&idp.db);
    let mut sp = registry.find(SP1).expect("find").expect("sp1");
    sp.active = false;
    registry.update(&sp).expect("update");
    idp.state.sp_cache.refresh().expect("refresh");
    let (status, _, cookie) = outcome(
        idp.post(
            AUTHPOST,
            format!(
                "SAMLRequest={}",
                common::form(common::request_fixture("post-signed-xmlsec1.b64").trim())
            ),
        )
        .await,
    )
    .await;
    assert_eq!((status, cookie, idp.pending()), (403, false, 0));
    let response = idp
        .call(
            test::TestRequest::post()
                .uri(AUTHPOST)
                .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
                .set_payload(format!(
                    "SAMLRequest={}",
                    common::form(common::request_fixture("post-unsigned.b64").trim())
                )),
        )
        .await;
    let html = text(response).await;
    assert!(html.contains("This agency no longer uses this service"));
}

#[actix_web::test]
async fn the_public_post_endpoint_bounces_to_authpost_without_cookies() {
    let idp = idp();
    let b64 = common::request_fixture("post-signed-xmlsec1.b64");
    let response = idp
        .post(
            AUTH,
            format!("SAMLRequest={}&RelayState=a%22b", common::form(b64.trim())),
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    assert!(!response.headers().contains_key("set-cookie"));
    let html = text(response).await;
    assert!(html.contains("action=\"/api/saml/authpost2026\""), "{html}");
    assert!(html.contains(&format!("name=\"SAMLRequest\" value=\"{}\"", b64.trim())));
    assert!(
        html.contains("name=\"RelayState\" value=\"a&quot;b\""),
        "escaped: {html}"
    );
    assert!(html.contains("/static/auto-submit.js") && html.contains("<button"));
    assert_eq!(idp.pending(), 0);
}

#[actix_web::test]
async fn head_and_query_on_post_work_and_unknown_years_are_404() {
    let idp = idp();
    let query = format!(
        "SAMLRequest={}",
        common::form(&encode_redirect(authn_request(SP1, "", "").as_bytes()))
    );
    let head = idp
        .call(
            test::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(&format!("{AUTH}?{query}")),
        )
        .await;
    assert_eq!(head.status().as_u16(), 303);
    let via_query = idp
        .call(test::TestRequest::post().uri(&format!("{AUTHPOST}?{query}")))
        .await;
    assert_eq!(
        via_query.status().as_u16(),
        303,
        "query string on a POST route"
    );
    for path in [
        "/api/saml/auth1999",
        "/api/saml/auth2026x",
        "/api/saml/authpost2024",
    ] {
        let response = idp
            .call(test::TestRequest::get().uri(&format!("{path}?{query}")))
            .await;
        assert_eq!(response.status().as_u16(), 404, "{path}");
    }
}

#[actix_web::test]
async fn the_sign_in_page_names_the_service_and_offers_cancel() {
    let idp = idp();
    let response = idp
        .get(&format!(
            "{AUTH}?SAMLRequest={}",
            common::form(&encode_redirect(authn_request(SP1, "", "").as_bytes()))
        ))
        .await;
    let cookie = response
        .response()
        .cookies()
        .next()
        .expect("cookie")
        .into_owned();
    assert!(cookie.http_only().unwrap_or(false));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    let page = idp
        .call(test::TestRequest::get().uri("/sign-in").cookie(cookie))
        .await;
    let html = text(page).await;
    assert!(html.contains("Test SP One"), "{html}");
    assert!(
        html.contains("href=\"/cancel?locale=en\""),
        "Cancel is offered: {html}"
    );
}

#[actix_web::test]
async fn the_help_page_explains_every_code() {
    let idp = idp();
    let response = idp
        .call(test::TestRequest::get().uri("/help/errors?locale=fr"))
        .await;
    let html = text(response).await;
    for code in IntakeCode::all() {
        assert!(
            html.contains(&format!("id=\"{}\"", code.as_str())),
            "{}",
            code.as_str()
        );
    }
    assert!(html.contains("Erreurs d’intégration"));
}

/// (status, codes) of an unsigned Redirect request carrying `xml`.
async fn codes_of(idp: &Idp, xml: &str) -> (u16, Vec<String>) {
    let (status, codes, _) = redirect(idp, xml).await;
    (status, codes)
}

fn expect(codes: &[&str]) -> (u16, Vec<String>) {
    let status = if codes.is_empty() { 303 } else { 400 };
    (status, codes.iter().map(|c| c.to_string()).collect())
}

#[actix_web::test]
async fn issue_instant_must_be_a_utc_date_time_inside_the_window() {
    let idp = idp();
    let with = |instant: &str| authn_request(SP1, "", "").replace("2026-03-15T12:00:00Z", instant);
    let missing = authn_request(SP1, "", "").replace(" IssueInstant=\"2026-03-15T12:00:00Z\"", "");
    let cases = [
        (missing, vec!["malformed_request"]),
        (with("2026-13-45T99:00:00Z"), vec!["malformed_request"]),
        (with("yesterday"), vec!["malformed_request"]),
        (with("2026-03-15T12:00:00+01:00"), vec!["malformed_request"]),
        (with("2025-03-15T12:00:00Z"), vec!["request_expired"]),
        (with("2026-03-16T12:00:00Z"), vec!["request_expired"]),
        (with("2026-03-15T11:49:59Z"), vec!["request_expired"]),
        (with("2026-03-15T12:03:01Z"), vec!["request_expired"]),
        (with("2026-03-15T11:50:00Z"), vec![]),
        (with("2026-03-15T12:03:00+00:00"), vec![]),
    ];
    for (xml, codes) in cases {
        assert_eq!(codes_of(&idp, &xml).await, expect(&codes), "{xml}");
    }
}

#[actix_web::test]
async fn a_stale_request_is_reported_with_the_other_errors() {
    let idp = idp();
    let xml = authn_request(
        "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp2",
        "AssertionConsumerServiceURL=\"https://evil.example/acs\"",
        "",
    )
    .replace("2026-03-15T12:00:00Z", "2025-03-15T12:00:00Z");
    assert_eq!(
        codes_of(&idp, &xml).await,
        expect(&[
            "acs_url_not_registered",
            "signature_required",
            "request_expired"
        ])
    );
}

#[actix_web::test]
async fn ids_must_be_ncnames() {
    let idp = idp();
    for id in ["123abc", "a b", " _t1", "a&quot;b", "a&lt;x&gt;b", "a:b"] {
        let xml = authn_request(SP1, "", "").replace("ID=\"_t1\"", &format!("ID=\"{id}\""));
        assert_eq!(
            codes_of(&idp, &xml).await,
            expect(&["malformed_request"]),
            "{id}"
        );
    }
}

#[actix_web::test]
async fn values_are_compared_exactly() {
    let idp = idp();
    for issuer in [
        format!("{SP1} "),
        format!("{SP1}\n"),
        format!("\n  {SP1}\n"),
        format!("{SP1}\u{a0}"),
        format!("{SP1}&#160;"),
    ] {
        assert_eq!(
            codes_of(&idp, &authn_request(&issuer, "", "")).await,
            expect(&["unauthorized_service_provider"]),
            "{issuer:?}"
        );
    }
    let context = |value: &str| {
        format!("<samlp:RequestedAuthnContext><saml:AuthnContextClassRef>{value}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>")
    };
    for (value, codes) in [
        ("urn:acr.login.gov:auth-only", vec![]),
        (
            "urn:acr.login.gov:auth-only ",
            vec!["unauthorized_authn_context"],
        ),
        (
            "\nurn:acr.login.gov:auth-only\n",
            vec!["unauthorized_authn_context"],
        ),
    ] {
        let xml = authn_request(SP1, "", &context(value));
        assert_eq!(codes_of(&idp, &xml).await, expect(&codes), "{value:?}");
    }
}

/// base64 of raw DEFLATE(`xml`) followed by `tail`.
fn deflated_with(xml: &str, tail: &[u8]) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut bytes = engine
        .decode(encode_redirect(xml.as_bytes()))
        .expect("base64");
    bytes.extend_from_slice(tail);
    engine.encode(bytes)
}

#[actix_web::test]
async fn data_after_the_deflate_stream_is_malformed() {
    use base64::Engine;
    let idp = idp();
    let xml = authn_request(SP1, "", "");
    let second = base64::engine::general_purpose::STANDARD
        .decode(encode_redirect(
            authn_request("urn:evil", "", "").as_bytes(),
        ))
        .expect("base64");
    for (name, value, codes) in [
        ("nothing after", deflated_with(&xml, b""), vec![]),
        (
            "garbage",
            deflated_with(&xml, b"garbage"),
            vec!["malformed_request"],
        ),
        (
            "a zero byte",
            deflated_with(&xml, b"\0"),
            vec!["malformed_request"],
        ),
        (
            "a second stream",
            deflated_with(&xml, &second),
            vec!["malformed_request"],
        ),
        ("not deflated at all", encode_post(xml.as_bytes()), vec![]),
    ] {
        let response = idp
            .get(&format!("{AUTH}?SAMLRequest={}", common::form(&value)))
            .await;
        let (status, got, _) = outcome(response).await;
        assert_eq!((status, got), expect(&codes), "{name}");
    }
}

#[actix_web::test]
async fn schema_order_and_one_way_to_name_the_acs() {
    let idp = idp();
    let signature_first = authn_request(SP1, "", "").replace(
        "<saml:Issuer>",
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/><saml:Issuer>",
    );
    let extensions_first =
        authn_request(SP1, "", "").replace("<saml:Issuer>", "<samlp:Extensions/><saml:Issuer>");
    let both_acs = authn_request(
        SP1,
        "AssertionConsumerServiceIndex=\"0\" AssertionConsumerServiceURL=\"http://localhost:9001/acs\"",
        "",
    );
    for xml in [signature_first, extensions_first, both_acs] {
        assert_eq!(
            codes_of(&idp, &xml).await,
            expect(&["malformed_request"]),
            "{xml}"
        );
    }
    // A real xmlsec1 signature moved before the Issuer.
    let signed = common::request_fixture("post-signed-xmlsec1.xml");
    let issuer = format!("<saml:Issuer>{SP1}</saml:Issuer>");
    let moved = signed.replacen(&issuer, "", 1).replacen(
        "</ds:Signature>",
        &format!("</ds:Signature>{issuer}"),
        1,
    );
    assert!(moved.find("<ds:Signature") < moved.find("<saml:Issuer"));
    let (status, codes, _) = outcome(
        idp.post(
            AUTHPOST,
            format!(
                "SAMLRequest={}",
                common::form(&encode_post(moved.as_bytes()))
            ),
        )
        .await,
    )
    .await;
    assert_eq!((status, codes), expect(&["malformed_request"]));
}

#[actix_web::test]
async fn a_signed_request_must_name_the_endpoint_that_received_it() {
    let idp = idp();
    let destination = |d: &str| authn_request(SP1, &format!("Destination=\"{d}\""), "");
    let ours = format!("{}/api/saml/auth2026", common::BASE_URL);
    let cases = [
        ("signed, our endpoint", destination(&ours), vec![]),
        (
            "signed, no Destination",
            authn_request(SP1, "", ""),
            vec!["destination_mismatch"],
        ),
        (
            "signed, another year",
            destination(&format!("{}/api/saml/auth2025", common::BASE_URL)),
            vec!["destination_mismatch"],
        ),
        (
            "signed, another IdP",
            destination("https://idp.other.example/api/saml/auth2026"),
            vec!["destination_mismatch"],
        ),
        (
            "signed, the logout endpoint",
            destination(&format!("{}/api/saml/logout2026", common::BASE_URL)),
            vec!["destination_mismatch"],
        ),
    ];
    for (name, xml, codes) in cases {
        let query = common::flow::signed_redirect(&xml, "sp1-test-only.key");
        let (status, got, _) = outcome(idp.get(&format!("{AUTH}?{query}")).await).await;
        assert_eq!((status, got), expect(&codes), "{name}");
    }
    // Unsigned: may omit it, but a present one must still be exactly this endpoint.
    for (xml, codes) in [
        (authn_request(SP1, "", ""), vec![]),
        (destination(&ours), vec![]),
        (
            destination(&format!("{}/api/saml/auth2025", common::BASE_URL)),
            vec!["destination_mismatch"],
        ),
        (
            destination(&format!("{ours}/")),
            vec!["destination_mismatch"],
        ),
    ] {
        assert_eq!(codes_of(&idp, &xml).await, expect(&codes), "{xml}");
    }
    // An enveloped signature whose Destination was cut out afterwards.
    let signed = common::request_fixture("post-signed-xmlsec1.xml");
    let cut = signed.replace(&format!(" Destination=\"{ours}\""), "");
    assert_ne!(cut, signed);
    let (status, codes, _) = outcome(
        idp.post(
            AUTHPOST,
            format!("SAMLRequest={}", common::form(&encode_post(cut.as_bytes()))),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, codes),
        expect(&["invalid_signature", "destination_mismatch"])
    );
}

#[actix_web::test]
async fn error_details_never_quote_the_request() {
    let idp = idp();
    let hostile = [
        authn_request(SP1, "", "<x-atk-INJECTED></x-atk-OTHER>"),
        authn_request(SP1, "", "<INJECTED:x/>"),
        authn_request(SP1, "", "<x>&INJECTED;</x>"),
        authn_request(SP1, "", "<x-atk-INJECTED>"),
        authn_request(SP1, "", "<samlp:RequestedAuthnContext Comparison=\"INJECTED\"><saml:AuthnContextClassRef>urn:acr.login.gov:auth-only</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"),
        authn_request(SP1, "", "").replace("ID=\"_t1\"", "ID=\"_t1\" IssueInstant=\"INJECTED\""),
        format!(
            "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_t1\" Version=\"2.0\" IssueInstant=\"2026-03-15T12:00:00Z\"><x-atk-INJECTED {}/></samlp:AuthnRequest>",
            (0..70).map(|i| format!("a{i}=\"1\" ")).collect::<String>()
        ),
    ];
    for xml in hostile {
        let query = format!(
            "SAMLRequest={}",
            common::form(&encode_redirect(xml.as_bytes()))
        );
        let json = idp.get(&format!("{AUTH}?{query}")).await;
        assert_eq!(json.status().as_u16(), 400, "{xml}");
        let json = text(json).await;
        let html = text(
            idp.call(test::TestRequest::get().uri(&format!("{AUTH}?{query}")))
                .await,
        )
        .await;
        for body in [json, html] {
            assert!(!body.contains("INJECTED"), "{xml}: {body}");
            assert!(!body.contains("x-atk"), "{xml}: {body}");
        }
    }
}
