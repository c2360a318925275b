//! The decode tool (SPEC 12): `saml-idp decode`, the `/tools/saml-request` page and the
//! SSO endpoint give the same verdict for every fixture (the endpoint's answer is the
//! expectation, never a hard-coded list); whole URLs with query signatures, POST bodies,
//! garbage, hostile input escaped on the page, and a page that stores nothing.

use crate::common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, App};
use serde_json::Value;

use saml_idp::saml::codec::{encode_post, encode_redirect};
use saml_idp::web::{self, AppState};

const TOOL: &str = "/tools/saml-request";
const SP1: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1";

/// accepted, or refused with these codes (in order).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Accepted,
    Refused(Vec<String>),
}

async fn call(state: &AppState, req: test::TestRequest) -> ServiceResponse {
    let app = test::init_service(App::new().configure(web::configure(state.clone()))).await;
    app.call(req.to_request()).await.expect("no service error")
}

async fn body_text(response: ServiceResponse) -> String {
    String::from_utf8_lossy(&test::read_body(response).await).into_owned()
}

// ---- the endpoint -------------------------------------------------------------------

/// What `/api/saml/auth2026` (or `authpost2026`, the POST binding proper) answers.
async fn endpoint(state: &AppState, input: &Input) -> Verdict {
    let req = match input {
        Input::Url(url) => {
            let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
            test::TestRequest::get().uri(&format!("/api/saml/auth2026?{query}"))
        }
        Input::Value(b64) => test::TestRequest::post()
            .uri("/api/saml/authpost2026")
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(format!("SAMLRequest={}", common::form(b64))),
    };
    let response = call(state, req.insert_header(("Accept", "application/json"))).await;
    let status = response.status().as_u16();
    let body = test::read_body(response).await;
    if status == 303 {
        return Verdict::Accepted;
    }
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
    let json: Value = serde_json::from_slice(&body).expect("JSON errors");
    Verdict::Refused(codes(&json["errors"]))
}

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["code"].as_str().map(str::to_string))
        .collect()
}

// ---- the page -----------------------------------------------------------------------

/// The form's CSRF token and its cookie.
async fn csrf(state: &AppState) -> (String, String) {
    let response = call(state, test::TestRequest::get().uri(TOOL)).await;
    assert_eq!(response.status().as_u16(), 200);
    let cookie = response
        .response()
        .cookies()
        .next()
        .expect("csrf cookie")
        .into_owned();
    let page = body_text(response).await;
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf field")
        .to_string();
    (token, format!("{}={}", cookie.name(), cookie.value()))
}

/// The page's HTML for a pasted input.
async fn page(state: &AppState, input: &str) -> (u16, String) {
    let (token, cookie) = csrf(state).await;
    let req = test::TestRequest::post()
        .uri(TOOL)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("Cookie", cookie))
        .set_payload(format!(
            "csrf={}&input={}",
            common::form(&token),
            common::form(input)
        ));
    let response = call(state, req).await;
    (response.status().as_u16(), body_text(response).await)
}

/// The verdict the page shows: the codes listed under "Errors".
fn page_verdict(html: &str) -> Verdict {
    let verdict = html
        .split("class=\"ok\">")
        .nth(1)
        .is_some_and(|rest| rest.starts_with("Accepted"));
    if verdict {
        return Verdict::Accepted;
    }
    let list = html
        .split("<ul class=\"errors\">")
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .unwrap_or_default();
    let codes = list
        .split("<li><code>")
        .skip(1)
        .filter_map(|item| item.split("</code>").next())
        .map(str::to_string)
        .collect();
    Verdict::Refused(codes)
}

// ---- the command line ---------------------------------------------------------------

/// A data directory with the fixture SPs imported through `saml-idp sp import`.
fn cli_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::fixture("service_providers.toml");
    let (ok, out, err) = common::run(saml_idp_cmd(dir.path()).args(["sp", "import"]).arg(&file));
    assert!(ok, "import: {out} {err}");
    dir
}

fn saml_idp_cmd(dir: &Path) -> std::process::Command {
    let mut cmd = common::saml_idp(dir);
    cmd.args(["--base-url", common::BASE_URL]);
    cmd
}

/// (exit status, JSON report, stderr) of `saml-idp decode --json -` with `input` on stdin.
fn cli(dir: &Path, input: &str) -> (i32, Value, String) {
    let mut child = saml_idp_cmd(dir)
        .args(["decode", "--json", "--at", "2026-03-15T12:00:00Z", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("finishes");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().expect("exit code"), json, stderr)
}

fn cli_verdict((status, json, stderr): &(i32, Value, String)) -> Verdict {
    match json["accepted"].as_bool() {
        Some(true) => {
            assert_eq!(*status, 0);
            Verdict::Accepted
        }
        Some(false) => {
            assert_eq!(*status, 1, "refused is exit 1");
            Verdict::Refused(codes(&json["errors"]))
        }
        None => panic!("no report (exit {status}): {stderr}"),
    }
}

// ---- the fixtures -------------------------------------------------------------------

enum Input {
    /// A whole Redirect-binding URL, query signature included.
    Url(String),
    /// A POST-binding `SAMLRequest` value.
    Value(String),
}

impl Input {
    fn pasted(&self) -> &str {
        match self {
            Input::Url(s) | Input::Value(s) => s,
        }
    }
}

fn fixture_input(entry: &Value) -> Input {
    let files: Vec<&str> = entry["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if let Some(url) = files.iter().find(|f| f.ends_with(".url")) {
        return Input::Url(common::request_fixture(url).trim().to_string());
    }
    let b64 = files.iter().find(|f| f.ends_with(".b64")).expect(".b64");
    Input::Value(common::request_fixture(b64).trim().to_string())
}

fn idp() -> (common::TestDb, AppState) {
    let db = common::sqlite_db();
    common::seed_fixture_sps(&db);
    let state = common::app_state(&db);
    (db, state)
}

#[actix_web::test]
async fn cli_page_and_endpoint_agree_on_every_fixture() {
    let manifest: Vec<Value> =
        serde_json::from_str(&common::request_fixture("manifest.json")).expect("manifest");
    assert!(manifest.len() >= 25, "the manifest lists the fixtures");
    let dir = cli_dir();
    let mut accepted = 0;
    for entry in &manifest {
        let name = &entry["files"][0];
        let input = fixture_input(entry);
        // A fresh application per fixture: an accepted request stores a pending request.
        let (_db, state) = idp();
        let expected = endpoint(&state, &input).await;
        let (status, html) = page(&state, input.pasted()).await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(page_verdict(&html), expected, "{name}: page");
        assert_eq!(
            cli_verdict(&cli(dir.path(), input.pasted())),
            expected,
            "{name}: CLI"
        );
        accepted += usize::from(expected == Verdict::Accepted);
    }
    assert!(accepted >= 5, "some fixtures are accepted ({accepted})");
}

#[actix_web::test]
async fn a_whole_url_with_a_query_signature_is_verified() {
    let dir = cli_dir();
    let url = common::request_fixture("redirect-signed-python3-saml.url");
    let (status, json, _) = cli(dir.path(), url.trim());
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["kind"], "AuthnRequest");
    assert_eq!(json["issuer"], SP1);
    assert_eq!(json["sp"]["friendly_name"], "Test SP One");
    // It says what it judged against, and when (SPEC 20).
    assert!(
        json["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with("/api/saml/auth2026")),
        "{json}"
    );
    assert_eq!(json["judged_at"], "2026-03-15T12:00:00Z");
    assert_eq!(json["signature"]["status"], "verified");
    assert_eq!(json["signature"]["certificate"], 1);
    assert!(json["signature"]["serial"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert_eq!(json["relay_state"], "https://sp.example/after?x=1&y=ä");
    assert!(json["xml"]
        .as_str()
        .is_some_and(|x| x.contains("\n  <saml:Issuer>")));

    let (_db, state) = idp();
    let (_, html) = page(&state, url.trim()).await;
    assert!(
        html.contains("Verified with certificate 1 (serial"),
        "{html}"
    );
    assert!(html.contains("Test SP One"));

    // The same URL with its signature bytes changed: invalid, and why.
    let tampered = url.trim().replacen("Signature=", "Signature=AAAA", 1);
    let (status, json, _) = cli(dir.path(), &tampered);
    assert_eq!(status, 1);
    assert_eq!(json["signature"]["status"], "invalid", "{json}");
    assert_eq!(json["signature"]["reasons"][0]["code"], "invalid_signature");
}

#[actix_web::test]
async fn a_post_body_and_bare_values_are_read() {
    let dir = cli_dir();
    let b64 = common::request_fixture("post-unsigned.b64");
    let body = format!(
        "SAMLRequest={}&RelayState=state-1",
        common::form(b64.trim())
    );
    let (status, json, _) = cli(dir.path(), &body);
    assert_eq!(status, 0, "{json}");
    assert_eq!(json["relay_state"], "state-1");
    assert_eq!(json["signature"]["status"], "unsigned");
    assert_eq!(json["errors"], serde_json::json!([]));

    // The raw XML and a Redirect-binding value (deflated) are read too.
    let xml = common::request_fixture("post-unsigned.xml");
    assert_eq!(cli(dir.path(), &xml).0, 0);
    let deflated = encode_redirect(xml.as_bytes());
    assert_eq!(cli(dir.path(), &deflated).0, 0);
    assert_eq!(
        cli(dir.path(), &common::form(&deflated)).0,
        0,
        "url-encoded value"
    );
    assert_eq!(cli(dir.path(), &encode_post(xml.as_bytes())).0, 0);
}

#[actix_web::test]
async fn garbage_is_a_clear_error_never_a_panic() {
    let dir = cli_dir();
    for garbage in [
        "%%%not-saml",
        "https://sp.example/no-query",
        "\u{1}\u{2}",
        "SAMLRequest=",
    ] {
        let (status, json, stderr) = cli(dir.path(), garbage);
        assert_eq!(status, 1, "{garbage:?}: {stderr}");
        assert_eq!(json["accepted"], false);
        assert!(!codes(&json["errors"]).is_empty(), "{garbage:?}: {json}");
    }
    let (status, json, stderr) = cli(dir.path(), "  \n");
    assert_eq!(
        (status, json),
        (2, Value::Null),
        "blank input is a usage error"
    );
    assert!(stderr.contains("no input"), "{stderr}");
    let (ok, _, stderr) =
        common::run(saml_idp_cmd(dir.path()).args(["decode", "--year", "1999", "x"]));
    assert!(!ok && stderr.contains("not live"), "{stderr}");
    let status = saml_idp_cmd(dir.path())
        .arg("decode")
        .output()
        .expect("runs")
        .status;
    assert_eq!(status.code(), Some(2), "missing INPUT");

    let (_db, state) = idp();
    let (status, html) = page(&state, "%%%not-saml").await;
    assert_eq!(status, 200);
    assert_eq!(
        page_verdict(&html),
        Verdict::Refused(vec!["malformed_request".into()])
    );
}

#[actix_web::test]
async fn hostile_input_is_escaped_on_the_page() {
    let (_db, state) = idp();
    let xml = common::request_fixture("post-unsigned.xml").replace(
        "<samlp:NameIDPolicy",
        "<samlp:Extensions><script>alert(1)</script></samlp:Extensions><samlp:NameIDPolicy",
    );
    let body = format!(
        "SAMLRequest={}&RelayState={}",
        common::form(&encode_post(xml.as_bytes())),
        common::form("<script>alert(2)</script>")
    );
    let (status, html) = page(&state, &body).await;
    assert_eq!(status, 200);
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"),
        "the XML"
    );
    assert!(
        html.contains("&lt;script&gt;alert(2)"),
        "the RelayState and the textarea"
    );
}

#[actix_web::test]
async fn the_page_stores_nothing_and_needs_its_csrf_token() {
    let (db, state) = idp();
    let before = common::row_counts(&db);
    let url = common::request_fixture("redirect-signed-python3-saml.url");
    let (status, html) = page(&state, url.trim()).await;
    assert_eq!(status, 200);
    assert_eq!(page_verdict(&html), Verdict::Accepted);
    assert_eq!(common::row_counts(&db), before, "no row written");

    let forged = test::TestRequest::post()
        .uri(TOOL)
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(format!("csrf=x&input={}", common::form(url.trim())));
    let response = call(&state, forged).await;
    assert_eq!(response.status().as_u16(), 403);

    for locale in ["es", "fr"] {
        let response = call(
            &state,
            test::TestRequest::get().uri(&format!("{TOOL}?locale={locale}")),
        )
        .await;
        let html = body_text(response).await;
        assert!(html.contains(&format!("lang=\"{locale}\"")), "{html}");
    }
}

#[actix_web::test]
async fn a_logout_request_gets_the_logout_endpoints_verdict() {
    let (_db, state) = idp();
    let xml = |id: &str| {
        format!("<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" IssueInstant=\"2026-03-15T12:00:00Z\" Destination=\"{}/api/saml/logout2026\"><saml:Issuer>{SP1}</saml:Issuer><saml:NameID>x</saml:NameID></samlp:LogoutRequest>", common::BASE_URL)
    };
    let signed = common::flow::signed_redirect(&xml("_signed"), "sp1-test-only.key");
    let unsigned = format!(
        "SAMLRequest={}",
        common::form(&encode_redirect(xml("_unsigned").as_bytes()))
    );
    let dir = cli_dir();
    for (query, want_sig) in [(signed, "verified"), (unsigned, "unsigned")] {
        let response = call(
            &state,
            test::TestRequest::get().uri(&format!("/api/saml/logout2026?{query}")),
        )
        .await;
        let endpoint_accepts = response.status().as_u16() == 200;
        assert_eq!(
            endpoint_accepts,
            want_sig == "verified",
            "signed only is accepted"
        );
        let url = format!("{}/api/saml/logout2026?{query}", common::BASE_URL);
        let (status, json, _) = cli(dir.path(), &url);
        assert_eq!(json["kind"], "LogoutRequest", "{json}");
        assert_eq!(json["signature"]["status"], want_sig, "{json}");
        assert_eq!(json["accepted"], endpoint_accepts, "{json}");
        assert_eq!(status, if endpoint_accepts { 0 } else { 1 });
        let (_, html) = page(&state, &url).await;
        assert!(html.contains("<dd>LogoutRequest</dd>"), "{html}");
    }
}
