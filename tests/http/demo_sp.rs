//! The demo SP (SPEC 20), from the outside: it signs in through the IdP with signed Redirect
//! requests, checks the Response as an SP library does (python3-saml reaches the same verdict
//! on the same Responses), refuses tampered, replayed, unsolicited, DOCTYPE'd and expired ones
//! naming the check, logs out SP-initiated, gives a working remote-logout request, and is
//! absent (404) when off; production refuses to turn it on.

use crate::common;

use common::flow::*;

const IDP: &str = common::BASE_URL;

/// A flow at the wall clock (python3-saml checks windows against its own) with the demo SP,
/// its key in a data directory of its own.
fn demo_flow(data_dir: &std::path::Path) -> Flow {
    let dir = data_dir.to_path_buf();
    let mut f = start_configured(common::sqlite_db(), common::wall_clock(), move |c| {
        c.data_dir = dir;
    });
    f.state = f.state.clone().with_demo_sp().expect("demo SP starts");
    f
}

fn path_of(url: &str) -> String {
    url.strip_prefix(IDP).unwrap_or(url).to_string()
}

/// Through `/demo-sp/login?{query}` to the IdP's hand-off page (signed in with TOTP).
async fn hand_off(f: &mut Flow, query: &str) -> Answer {
    let start = f.get(&format!("/demo-sp/login?{query}")).await;
    assert_eq!(start.status, 303, "{}", start.body);
    assert!(
        start
            .location
            .starts_with(&format!("{IDP}/api/saml/auth2026?SAMLRequest=")),
        "{}",
        start.location
    );
    assert!(start.location.contains("&SigAlg=") && start.location.contains("&Signature="));
    let at_idp = f.get(&path_of(&start.location)).await;
    assert!(
        at_idp.status == 200 || at_idp.status == 303,
        "the IdP accepts the signed request: {} {}",
        at_idp.status,
        at_idp.body
    );
    if at_idp.location.starts_with("/sign-in") {
        f.password("ada@example.gov", PASSWORD).await;
        let code = f.code();
        f.second_factor(&code, false).await;
    }
    let page = f.complete().await;
    assert_eq!(
        page.status, 200,
        "{} {} {}",
        at_idp.location, page.location, page.body
    );
    assert!(
        page.body.contains(&format!("{IDP}/demo-sp/acs")),
        "{}",
        page.body
    );
    page
}

/// Through `/demo-sp/login?{query}` to a verified Response at AAL2 on the demo SP's page.
async fn signed_in_at_aal2(f: &mut Flow, query: &str) {
    let page = hand_off(f, query).await;
    let response = form_field(&page.body, "SAMLResponse").expect("SAMLResponse");
    let result = f.post("/demo-sp/acs", &[("SAMLResponse", &response)]).await;
    assert_eq!(result.status, 200, "{}", result.body);
    assert!(result.body.contains(ns_aal2()), "{}", result.body);
}

fn ns_aal2() -> &'static str {
    "http://idmanagement.gov/ns/assurance/aal/2"
}

/// The hand-off page's SAMLResponse, and the request ID the demo SP's cookie waits on.
fn posted_and_waiting(f: &Flow, page: &Answer) -> (String, String) {
    let response = form_field(&page.body, "SAMLResponse").expect("SAMLResponse");
    let waiting = f
        .jar
        .get("demo_sp_waiting")
        .cloned()
        .expect("waiting cookie");
    (response, waiting)
}

/// python3-saml's verdict on `response` as the demo SP (its key from `data_dir`) would take it.
fn python_verdict_as_demo(
    f: &Flow,
    data_dir: &std::path::Path,
    response: &str,
    request_id: &str,
) -> serde_json::Value {
    let demo = f.state.demo_sp.clone().expect("demo");
    let file = |name: &str| data_dir.join("dev-keys").join(name).display().to_string();
    let (cert, key) = (file("demo-sp.crt"), file("demo-sp.key"));
    let sp = PythonSp {
        issuer: &demo.issuer,
        acs: &demo.acs_url,
        cert: &cert,
        key: &key,
        encrypted: true,
    };
    python_verdict_of(response, &sp, request_id, IDP)
}

#[actix_rt::test]
async fn the_demo_sp_signs_in_checks_like_a_library_and_logs_out() {
    let dir = tempfile::tempdir().expect("dir");
    let mut f = demo_flow(dir.path());
    let home = f.get("/demo-sp/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home
        .body
        .contains("name=\"level\" value=\"phishing_resistant\""));
    assert!(
        f.get("/").await.body.contains("href=\"/demo-sp/"),
        "the home page links it"
    );
    let sp = f
        .state
        .sp_cache
        .get(&format!("{IDP}/demo-sp"))
        .expect("registered");
    assert!(sp.require_signed_requests && !sp.certs.is_empty());

    let page = hand_off(&mut f, "level=default").await;
    let (response, request_id) = posted_and_waiting(&f, &page);
    let result = f.post("/demo-sp/acs", &[("SAMLResponse", &response)]).await;
    assert_eq!(result.status, 200, "{}", result.body);
    for shown in [
        "Verified Response",
        "Response signed and verified",
        "assertion signed and verified",
        "http://www.w3.org/2009/xmlenc11#aes256-gcm",
        "ada@example.gov",
        "urn:acr.login.gov:auth-only",
        "SessionIndex",
        "&lt;saml:Assertion",
    ] {
        assert!(result.body.contains(shown), "{shown}: {}", result.body);
    }
    assert!(
        !f.jar.contains_key("demo_sp_waiting"),
        "the request is answered"
    );
    assert!(f.jar.contains_key("demo_sp_session"));

    // python3-saml, given the demo SP's key, reaches the same verdict on the same Response.
    let verdict = python_verdict_as_demo(&f, dir.path(), &response, &request_id);
    assert_eq!(verdict["valid"], true, "{verdict}");

    // The same Response again: nothing is waiting for it any more.
    let again = f.post("/demo-sp/acs", &[("SAMLResponse", &response)]).await;
    assert_eq!(again.status, 400);
    assert!(again.body.contains("unsolicited"), "{}", again.body);

    // Remote logout: the page's curl request, sent as written, ends the IdP session.
    let page = f.get("/demo-sp/").await;
    let start = page.body.find("SAMLRequest=").expect("curl example") + "SAMLRequest=".len();
    // As the browser shows it: tera wrote the quote as an entity.
    let body = page.body[start..]
        .split("&#x27;")
        .next()
        .expect("value")
        .to_string();
    assert!(page
        .body
        .contains(&format!("{IDP}/api/saml/remotelogout2026")));
    let remote = f
        .post("/api/saml/remotelogout2026", &[("SAMLRequest", &body)])
        .await;
    assert_eq!(remote.status, 200, "{}", remote.body);
    assert!(f.get("/").await.body.contains("You are not signed in"));

    // Signed out at the IdP: the next request (with ForceAuthn, at AAL2) signs in again,
    // with the next TOTP code (a code is accepted once).
    f.tick(30);
    signed_in_at_aal2(&mut f, "level=aal2&force_authn=1").await;
}

#[actix_rt::test]
async fn sp_initiated_logout_round_trips_through_the_idp() {
    let dir = tempfile::tempdir().expect("dir");
    let mut f = demo_flow(dir.path());
    signed_in_at_aal2(&mut f, "level=aal2").await;

    let out = f.post("/demo-sp/logout", &[]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(
        out.location
            .starts_with(&format!("{IDP}/api/saml/logout2026?SAMLRequest=")),
        "{}",
        out.location
    );
    let answer = f.get(&path_of(&out.location)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.contains(&format!("{IDP}/demo-sp/slo")),
        "{}",
        answer.body
    );
    let logout_response = form_field(&answer.body, "SAMLResponse").expect("LogoutResponse");
    let done = f
        .post("/demo-sp/slo", &[("SAMLResponse", &logout_response)])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done
        .body
        .contains("urn:oasis:names:tc:SAML:2.0:status:Success"));
    assert!(
        !f.jar.contains_key("demo_sp_session"),
        "the demo SP's session ended"
    );
    assert!(f.get("/").await.body.contains("You are not signed in"));

    // IsPassive without a session: the IdP answers NoPassive, which the demo SP shows.
    let start = f.get("/demo-sp/login?level=default&is_passive=1").await;
    let page = f.get(&path_of(&start.location)).await;
    let response = form_field(&page.body, "SAMLResponse").expect("a NoPassive Response");
    let shown = f.post("/demo-sp/acs", &[("SAMLResponse", &response)]).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(
        shown
            .body
            .contains("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
        "{}",
        shown.body
    );
}

/// Each altered Response is refused by the check an SP library would name, and python3-saml
/// refuses it too.
#[actix_rt::test]
async fn altered_unsolicited_and_expired_responses_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    let mut f = demo_flow(dir.path());
    let page = hand_off(&mut f, "level=default").await;
    let (response, request_id) = posted_and_waiting(&f, &page);
    let xml = String::from_utf8(common::b64_decode(&response)).expect("UTF-8");

    let destination = xml.replacen(
        &format!("Destination=\"{IDP}/demo-sp/acs\""),
        "Destination=\"https://elsewhere.example/acs\"",
        1,
    );
    let doctype = format!("<!DOCTYPE r [<!ENTITY e \"x\">]>{xml}");
    let cases: [(&str, String, &str); 4] = [
        ("altered Destination", destination, "signature check failed"),
        ("DOCTYPE", doctype, "DOCTYPE"),
        ("not XML", "<samlp:Response".into(), "XML was refused"),
        (
            "another root",
            "<a xmlns=\"urn:x\"/>".into(),
            "not the samlp:Response",
        ),
    ];
    for (name, altered, named) in cases {
        f.jar.insert("demo_sp_waiting".into(), request_id.clone());
        let encoded = common::b64(altered.as_bytes());
        let answer = f.post("/demo-sp/acs", &[("SAMLResponse", &encoded)]).await;
        assert_eq!(answer.status, 400, "{name}: {}", answer.body);
        assert!(answer.body.contains(named), "{name}: {}", answer.body);
        assert!(answer.body.contains("role=\"alert\""), "{name}");
        if name == "altered Destination" {
            let verdict = python_verdict_as_demo(&f, dir.path(), &encoded, &request_id);
            assert_eq!(verdict["valid"], false, "python3-saml agrees: {verdict}");
        }
    }

    // Not base64, and nothing posted.
    f.jar.insert("demo_sp_waiting".into(), request_id.clone());
    let answer = f.post("/demo-sp/acs", &[("SAMLResponse", "%%%")]).await;
    assert!(answer.status == 400 && answer.body.contains("not base64"));
    let answer = f.post("/demo-sp/acs", &[]).await;
    assert!(answer.status == 400 && answer.body.contains("no SAMLResponse"));

    // Another request's ID is waiting: InResponseTo does not match.
    f.jar.insert("demo_sp_waiting".into(), "_another".into());
    let answer = f.post("/demo-sp/acs", &[("SAMLResponse", &response)]).await;
    assert!(
        answer.status == 400 && answer.body.contains("InResponseTo"),
        "{}",
        answer.body
    );

    // Two hours later, the genuine Response has expired.
    f.tick(2 * 3600);
    f.jar.insert("demo_sp_waiting".into(), request_id.clone());
    let answer = f.post("/demo-sp/acs", &[("SAMLResponse", &response)]).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.contains("bearer SubjectConfirmation") || answer.body.contains("validity"),
        "{}",
        answer.body
    );

    // An unknown level is a named 400, not a request.
    let answer = f.get("/demo-sp/login?level=ial9").await;
    assert_eq!(answer.status, 400, "{}", answer.body);
}

#[actix_rt::test]
async fn without_the_demo_sp_every_path_is_not_found() {
    let mut f = start();
    assert!(f.state.demo_sp.is_none());
    for path in ["/demo-sp", "/demo-sp/", "/demo-sp/login?level=default"] {
        assert_eq!(f.get(path).await.status, 404, "{path}");
    }
    for path in ["/demo-sp/acs", "/demo-sp/slo", "/demo-sp/logout"] {
        assert_eq!(
            f.post(path, &[("SAMLResponse", "x")]).await.status,
            404,
            "{path}"
        );
    }
    assert!(!f.get("/").await.body.contains("/demo-sp/"));
}

/// The "check your email" pages say where mail went in development mode, and only there.
#[actix_rt::test]
async fn development_names_the_outbox_on_check_your_email_pages() {
    let dir = tempfile::tempdir().expect("dir");
    for (mode, named) in [
        (saml_idp::config::Mode::Development, true),
        (saml_idp::config::Mode::Production, false),
    ] {
        let data_dir = dir.path().to_path_buf();
        let mut f = start_configured(common::sqlite_db(), common::now(), move |c| {
            c.mode = mode;
            c.data_dir = data_dir;
        });
        for (form, email) in [
            ("/sign-up", "new.person@example.gov"),
            ("/forgot-password", "ada@example.gov"),
        ] {
            let csrf = f.csrf(form).await;
            let sent = f.post(form, &[("csrf", &csrf), ("email", email)]).await;
            assert_eq!(sent.status, 200, "{form}: {}", sent.body);
            assert!(sent.body.contains("Check your email"), "{form}");
            assert_eq!(
                sent.body
                    .contains("Development mode: this server sends no email"),
                named,
                "{mode:?} {form}: {}",
                sent.body
            );
            assert_eq!(
                sent.body.contains("outbox</code>"),
                named,
                "{mode:?} {form}"
            );
        }
    }
}

#[test]
fn production_refuses_the_demo_sp_and_development_defaults_to_localhost() {
    use saml_idp::config::{Config, Overrides};
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("idp.toml");
    std::fs::write(
        &file,
        "mode = \"production\"\nbase_url = \"https://idp.example.gov\"\ndemo_sp = true\n\
         [[signing_keys]]\nyear = 2026\ncertificate = \"a.crt\"\nprivate_key = \"a.key\"\n",
    )
    .expect("write");
    let refused = Config::load(&Overrides {
        config_file: Some(file),
        ..Overrides::default()
    })
    .expect_err("refused");
    assert!(refused.to_string().contains("demo_sp"), "{refused}");

    let dev = Config::load(&Overrides {
        listen: Some("127.0.0.1:9123".into()),
        ..Overrides::default()
    })
    .expect("development");
    assert_eq!(dev.base_url, "http://localhost:9123");
    assert!(dev.demo_sp);
}

/// A SAML error page people can act on (SPEC 15): a request from a registered SP, signed
/// but 20 minutes old, names the SP and links back to it, says how far off the request was
/// and what time the IdP has, carries the audit reference (the same one for the same refusal
/// within the aggregation minute, and stored with the event), links partners to the request
/// tool, and its <title> names the error.
#[actix_rt::test]
async fn an_expired_request_gets_a_page_that_names_the_sp_the_time_and_a_reference() {
    use saml_idp::demo_sp::messages::{Level, RequestOptions};
    let dir = tempfile::tempdir().expect("dir");
    let mut f = demo_flow(dir.path());
    let demo = f.state.demo_sp.clone().expect("demo");
    let options = RequestOptions {
        level: Level::Default,
        force_authn: false,
        is_passive: false,
    };
    let now = f.state.clock.now();
    let mut references = Vec::new();
    for n in 0..2 {
        let old = now - chrono::Duration::minutes(20);
        let url = demo
            .authn_request_url(options, &format!("_old{n}"), old)
            .expect("request");
        let page = f.get(&path_of(&url)).await;
        assert_eq!(page.status, 400, "{}", page.body);
        let body = &page.body;
        assert!(
            body.contains("<title>Error: The request&#x27;s IssueInstant"),
            "{body}"
        );
        assert!(body.contains("<strong>Demo SP</strong>"), "{body}");
        assert!(
            body.contains(&format!("href=\"{IDP}/demo-sp/\">Return to Demo SP</a>")),
            "{body}"
        );
        let idp_time = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        assert!(
            body.contains(&format!(
                "IssueInstant is 20 min before the IdP&#x27;s time, {idp_time} (UTC)"
            )),
            "{body}"
        );
        assert!(body.contains("href=\"/tools/saml-request?locale=en\""));
        let reference = body
            .split("<code>")
            .nth(1)
            .and_then(|r| r.split("</code>").next())
            .expect("a reference")
            .to_string();
        assert_eq!(reference.len(), 10, "{reference}");
        references.push(reference);
    }
    assert_eq!(
        references[0], references[1],
        "counted in the same aggregated event"
    );
    f.state.stores.audit_buffer.flush().expect("flush");
    let filter = saml_idp::store::EventFilter {
        reference: Some(references[0].to_ascii_lowercase()),
        limit: 10,
        ..Default::default()
    };
    let db = saml_idp::store::Database::connect(&f._db.url).expect("db");
    let found = saml_idp::store::events(&db, &filter).expect("events");
    assert_eq!(found.len(), 1, "{found:?}");
    let event = &found[0].event;
    assert_eq!(
        event.issuer.as_deref(),
        Some(format!("{IDP}/demo-sp").as_str())
    );
    assert_eq!(event.count, 2);
    assert_eq!(event.detail.as_deref(), Some("request_expired"));

    // As JSON, the reference is there too.
    let url = demo
        .authn_request_url(options, "_old_json", now - chrono::Duration::minutes(30))
        .expect("request");
    let json = f
        .send(
            actix_web::test::TestRequest::get()
                .uri(&path_of(&url))
                .insert_header(("Accept", "application/json")),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&json.body).expect("JSON");
    assert_eq!(v["reference"].as_str().map(str::len), Some(10), "{v}");
}
