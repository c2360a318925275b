//! Logout (SPEC 9) with LogoutRequests made by independent software: python3-saml (its own
//! signed Redirect URL and its enveloped signature) and the `xmlsec1` command; the
//! LogoutResponses checked by python3-saml. Every refusal leaves the sessions untouched.

use crate::common;

use chrono::Duration;
use saml_idp::sessions::AuditKind;
use serde_json::{json, Value};

use common::flow::*;

const SP1: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1";
const SP1_LOGOUT: &str = "http://localhost:9001/logout";

/// Runs the python3-saml logout helper; `key` signs as SP1 (sp1 or another SP's key).
fn sp(mode: &str, key: &str, extra: Value) -> Value {
    let cert = key.replace(".key", ".crt");
    let mut job = json!({
        "mode": mode, "sp_entity_id": SP1, "sp_slo_url": SP1_LOGOUT, "sp_cert": common::pem(&cert), "sp_key": common::pem(key),
        "idp_entity_id": format!("{}/api/saml", common::BASE_URL),
        "idp_slo_url": format!("{}/api/saml/logout2026", common::BASE_URL), "idp_cert": common::pem("idp-2026-test-only.crt"),
        "name_id": "unused", "session_index": "unused", "relay_state": "https://sp.example/bye?a=1&b=ü",
    });
    if let (Some(job), Some(extra)) = (job.as_object_mut(), extra.as_object()) {
        job.extend(extra.clone());
    }
    common::oracles::python3_saml("python3_saml_logout.py", &job)
}

const REMOTE: &str = "https://idp.test.example.gov/api/saml/remotelogout2026";

/// A LogoutRequest signed by python3-saml for the remote (back-channel) endpoint: its
/// Destination is `/api/saml/remotelogout2026`.
fn remote_signed(key: &str, session_index: Option<&str>) -> Value {
    sp(
        "signed-xml",
        key,
        json!({"name_id": session_index.unwrap_or("unused"), "session_index": session_index, "idp_slo_url": REMOTE}),
    )
}

/// Signs a fresh LogoutRequest for the remote endpoint with the `xmlsec1` command.
fn xmlsec1_signed(session_index: &str) -> String {
    common::oracles::xmlsec1_signed_logout(REMOTE, SP1, session_index)
}

/// Signs in through sp1 and returns the user's persistent UUID for sp1's agency.
async fn signed_in(f: &mut Flow) -> String {
    let page = f
        .sign_in_fully(
            &authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]),
            false,
        )
        .await;
    assert_eq!(page.status, 200);
    let user = f.state.stores.accounts.list().expect("users")[0].id;
    f.state
        .stores
        .identities
        .agency_uuid(user, "agency:Test Agency", "unused", f.state.clock.now())
        .expect("uuid")
}

/// Whether this browser still has an authenticated session.
async fn still_signed_in(f: &mut Flow) -> bool {
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    !f.get("/api/saml/complete")
        .await
        .location
        .starts_with("/sign-in")
}

async fn remote(f: &mut Flow, value: &str) -> (u16, String) {
    let a = f
        .post(
            &format!(
                "/api/saml/remotelogout2026?SAMLRequest={}",
                common::form(value)
            ),
            &[],
        )
        .await;
    (a.status, a.body)
}

fn field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    Some(body[start..].split('"').next()?.replace("&amp;", "&"))
}

#[actix_web::test]
async fn front_channel_logout_from_a_python3_saml_redirect() {
    let mut f = start_at(common::wall_clock());
    let uuid = signed_in(&mut f).await;
    let made = sp(
        "redirect",
        "sp1-test-only.key",
        json!({"name_id": uuid, "session_index": uuid}),
    );
    let url = made["url"].as_str().expect("url");
    let query = url.split_once('?').map(|(_, q)| q).expect("query");
    let page = f.get(&format!("/api/saml/logout2026?{query}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("action=\"{SP1_LOGOUT}\"")));
    assert_eq!(
        field(&page.body, "RelayState").as_deref(),
        Some("https://sp.example/bye?a=1&b=ü")
    );
    let response = field(&page.body, "SAMLResponse").expect("LogoutResponse");
    let request_id = made["request_id"].as_str().expect("id");
    let checked = sp(
        "validate",
        "sp1-test-only.key",
        json!({"saml_response": response, "request_id": request_id, "current_url": SP1_LOGOUT}),
    );
    assert_eq!(checked["valid"], true, "{checked}");
    assert_eq!(
        checked["status"],
        "urn:oasis:names:tc:SAML:2.0:status:Success"
    );
    assert!(!still_signed_in(&mut f).await, "the IdP session ended");
    assert!(f
        .state
        .stores
        .audit
        .recent(10)
        .expect("audit")
        .iter()
        .any(|e| e.event == AuditKind::LogoutInitiated && e.success));
}

#[actix_web::test]
async fn front_channel_refusals_keep_the_user_signed_in() {
    let mut f = start_at(common::wall_clock());
    let uuid = signed_in(&mut f).await;
    let other_key = sp(
        "redirect",
        "sp2-test-only.key",
        json!({"name_id": uuid, "session_index": uuid}),
    );
    let query = other_key["url"]
        .as_str()
        .and_then(|u| u.split_once('?'))
        .map(|(_, q)| q.to_string())
        .expect("query");
    let bad_signature = f.get(&format!("/api/saml/logout2026?{query}")).await;
    assert_eq!(bad_signature.status, 400);
    assert!(
        bad_signature
            .body
            .contains("SAML request signature is invalid"),
        "{}",
        bad_signature.body
    );
    let now = common::wall_clock().format("%Y-%m-%dT%H:%M:%SZ");
    let unsigned = format!("<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_u\" Version=\"2.0\" IssueInstant=\"{now}\"><saml:Issuer>{SP1}</saml:Issuer></samlp:LogoutRequest>");
    let value = saml_idp::saml::codec::encode_redirect(unsigned.as_bytes());
    let refused = f
        .get(&format!(
            "/api/saml/logout2026?SAMLRequest={}",
            common::form(&value)
        ))
        .await;
    assert_eq!(refused.status, 400);
    assert!(refused
        .body
        .contains("This service provider must sign its SAML requests"));
    assert!(
        still_signed_in(&mut f).await,
        "refused logouts leave the session"
    );
    // No SAMLRequest: a link from any site (a top-level navigation carries the Lax cookie)
    // must not end the session; the page asks, and its button POSTs with the CSRF token.
    f.headers = vec![
        ("Sec-Fetch-Site".into(), "cross-site".into()),
        ("Referer".into(), "https://evil.example/".into()),
    ];
    for method in ["GET", "HEAD", "POST", "DELETE"] {
        let req = actix_web::test::TestRequest::default()
            .method(method.parse().expect("method"))
            .uri("/api/saml/logout2026");
        let asked = f.send(req).await;
        assert_eq!(asked.status, 200, "{method}: {}", asked.location);
        assert!(still_signed_in(&mut f).await, "{method}: still signed in");
    }
    f.headers.clear();
    let page = f.get("/api/saml/logout2026").await;
    assert!(page.body.contains("<h1>Sign out?</h1>"), "{}", page.body);
    let csrf = form_field(&page.body, "csrf").expect("csrf");
    let forged = f.post("/sign-out", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403, "a forged token signs nobody out");
    assert!(still_signed_in(&mut f).await);
    let out = f.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/"));
    assert!(!still_signed_in(&mut f).await);
    let anonymous = f.get("/api/saml/logout2026").await;
    assert_eq!(
        (anonymous.status, anonymous.location.as_str()),
        (303, "/"),
        "no session: nothing to ask"
    );
}

#[actix_web::test]
async fn remote_logout_ends_every_session_of_the_user() {
    let mut f = start_at(common::wall_clock());
    let uuid = signed_in(&mut f).await;
    let first_browser = std::mem::take(&mut f.jar);
    f.tick(31);
    signed_in(&mut f).await;
    let made = remote_signed("sp1-test-only.key", Some(&uuid));
    let xml = made["xml"].as_str().expect("xml");
    let (status, body) = remote(&mut f, &common::b64(xml.as_bytes())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("<samlp:LogoutResponse"), "raw XML: {body}");
    let checked = sp(
        "validate",
        "sp1-test-only.key",
        json!({"saml_response": common::b64(body.as_bytes()), "request_id": made["request_id"], "current_url": SP1_LOGOUT}),
    );
    assert_eq!(checked["valid"], true, "{checked}");
    assert!(!still_signed_in(&mut f).await, "second browser signed out");
    f.jar = first_browser;
    assert!(
        !still_signed_in(&mut f).await,
        "first browser signed out: the next request asks for the password"
    );
    let events: Vec<AuditKind> = f
        .state
        .stores
        .audit
        .recent(20)
        .expect("audit")
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(
        events.contains(&AuditKind::RemoteLogoutInitiated)
            && events.contains(&AuditKind::RemoteLogoutCompleted)
    );
}

#[actix_web::test]
async fn remote_logout_refusals_are_400_with_an_empty_body() {
    let mut f = start_at(common::wall_clock());
    let uuid = signed_in(&mut f).await;
    let other = add_user(&f.state, "grace@example.gov", None, None);
    assert!(!other.is_empty());
    let made = |key: &str, index: &str| remote_signed(key, Some(index));
    let signed = |v: &Value| common::b64(v["xml"].as_str().expect("xml").as_bytes());
    let cases = vec![
        (
            "signed by another SP's key",
            signed(&made("sp2-test-only.key", &uuid)),
        ),
        (
            "unknown SessionIndex",
            signed(&made(
                "sp1-test-only.key",
                "00000000-0000-4000-8000-000000000000",
            )),
        ),
        (
            "unsigned",
            common::b64(
                made("sp1-test-only.key", &uuid)["xml"]
                    .as_str()
                    .expect("xml")
                    .split("<ds:Signature")
                    .next()
                    .map(|head| {
                        let tail = made("sp1-test-only.key", &uuid)["xml"]
                            .as_str()
                            .expect("xml")
                            .split("</ds:Signature>")
                            .nth(1)
                            .unwrap_or_default()
                            .to_string();
                        format!("{head}{tail}")
                    })
                    .unwrap_or_default()
                    .as_bytes(),
            ),
        ),
        (
            "missing SessionIndex",
            signed(&remote_signed("sp1-test-only.key", None)),
        ),
        (
            "a front-channel request (Destination /logout2026) replayed here",
            signed(&sp(
                "signed-xml",
                "sp1-test-only.key",
                json!({"name_id": uuid, "session_index": uuid}),
            )),
        ),
        (
            "Destination another IdP",
            signed(&sp(
                "signed-xml",
                "sp1-test-only.key",
                json!({"name_id": uuid, "session_index": uuid, "idp_slo_url": "https://idp.other.example/api/saml/remotelogout2026"}),
            )),
        ),
        (
            "Destination another year",
            signed(&sp(
                "signed-xml",
                "sp1-test-only.key",
                json!({"name_id": uuid, "session_index": uuid, "idp_slo_url": REMOTE.replace("2026", "2025")}),
            )),
        ),
    ];
    for (name, value) in cases {
        let (status, body) = remote(&mut f, &value).await;
        assert_eq!((status, body.as_str()), (400, ""), "{name}");
    }
    let fresh = signed(&made("sp1-test-only.key", &uuid));
    f.tick(11 * 60);
    assert_eq!(remote(&mut f, &fresh).await, (400, String::new()), "stale");
    f.clock.advance(Duration::minutes(-11));
    assert!(still_signed_in(&mut f).await, "refusals leave the session");
    let xmlsec = xmlsec1_signed(&uuid);
    assert_eq!(
        remote(&mut f, &xmlsec).await.0,
        200,
        "a request signed by xmlsec1"
    );
    assert_eq!(
        remote(&mut f, &xmlsec).await,
        (400, String::new()),
        "replayed"
    );
    let get = f.get("/api/saml/remotelogout2026").await;
    assert_eq!(get.status, 405);
}

#[actix_web::test]
async fn another_agencys_uuid_does_not_sign_the_user_out() {
    let mut f = start_at(common::wall_clock());
    signed_in(&mut f).await;
    let user = f.state.stores.accounts.list().expect("users")[0].id;
    let foreign = f
        .state
        .stores
        .identities
        .agency_uuid(
            user,
            "agency:Other Agency",
            &common::random_uuid(),
            common::wall_clock(),
        )
        .expect("uuid");
    let made = remote_signed("sp1-test-only.key", Some(&foreign));
    let (status, body) = remote(
        &mut f,
        &common::b64(made["xml"].as_str().expect("xml").as_bytes()),
    )
    .await;
    assert_eq!((status, body.as_str()), (400, ""));
    assert!(still_signed_in(&mut f).await);
}

/// A front-channel Redirect LogoutRequest signed by python3-saml as sp1, with `extra` job
/// fields; returns its query.
fn front_query(uuid: &str, extra: Value) -> String {
    let mut job = json!({"name_id": uuid, "session_index": uuid});
    if let (Some(job), Some(extra)) = (job.as_object_mut(), extra.as_object()) {
        job.extend(extra.clone());
    }
    let made = sp("redirect", "sp1-test-only.key", job);
    made["url"]
        .as_str()
        .and_then(|u| u.split_once('?'))
        .map(|(_, q)| q.to_string())
        .expect("query")
}

#[actix_web::test]
async fn front_channel_destination_and_issue_instant_rules() {
    let mut f = start_at(common::wall_clock());
    let uuid = signed_in(&mut f).await;
    let mismatch = "The request&#x27;s Destination is not this identity provider";
    let cases = [
        (
            "Destination another IdP",
            front_query(
                &uuid,
                json!({"idp_slo_url": "https://idp.other.example/api/saml/logout2026"}),
            ),
            mismatch,
        ),
        (
            "Destination the remote endpoint",
            front_query(&uuid, json!({"idp_slo_url": REMOTE})),
            mismatch,
        ),
        (
            "Destination another year",
            front_query(
                &uuid,
                json!({"idp_slo_url": format!("{}/api/saml/logout2025", common::BASE_URL)}),
            ),
            mismatch,
        ),
    ];
    for (name, query, message) in cases {
        let page = f.get(&format!("/api/saml/logout2026?{query}")).await;
        assert_eq!(page.status, 400, "{name}");
        assert!(
            page.body.replace("'", "&#x27;").contains(message),
            "{name}: {}",
            page.body
        );
    }
    let query = front_query(&uuid, json!({}));
    f.tick(11 * 60);
    let stale = f.get(&format!("/api/saml/logout2026?{query}")).await;
    assert_eq!(stale.status, 400);
    assert!(
        stale
            .body
            .contains("IssueInstant is more than 10 minutes old"),
        "{}",
        stale.body
    );
    f.clock.advance(Duration::minutes(-11));
    assert!(still_signed_in(&mut f).await, "refusals leave the session");
    let page = f.get(&format!("/api/saml/logout2026?{query}")).await;
    assert_eq!(
        page.status, 200,
        "the same request in its window: {}",
        page.body
    );
}

#[actix_web::test]
async fn front_channel_structure_rules() {
    let mut f = start_at(common::wall_clock());
    signed_in(&mut f).await;
    let now = common::wall_clock()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let request = |attrs: &str, children: &str| {
        format!("<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_u\" Version=\"2.0\" {attrs}>{children}</samlp:LogoutRequest>")
    };
    let issuer = format!("<saml:Issuer>{SP1}</saml:Issuer>");
    let instant = format!("IssueInstant=\"{now}\"");
    let cases = [
        ("no IssueInstant", request("", &issuer)),
        (
            "IssueInstant yesterday",
            request("IssueInstant=\"yesterday\"", &issuer),
        ),
        (
            "Signature before Issuer",
            request(
                &instant,
                &format!("<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>{issuer}"),
            ),
        ),
        (
            "ID 123abc",
            request(&instant, &issuer).replace("ID=\"_u\"", "ID=\"123abc\""),
        ),
    ];
    for (name, xml) in cases {
        let value = saml_idp::saml::codec::encode_redirect(xml.as_bytes());
        let page = f
            .get(&format!(
                "/api/saml/logout2026?SAMLRequest={}",
                common::form(&value)
            ))
            .await;
        assert_eq!(page.status, 400, "{name}");
        assert!(
            page.body.contains("The SAML request is malformed"),
            "{name}: {}",
            page.body
        );
    }
    assert!(still_signed_in(&mut f).await);
}

#[actix_web::test]
async fn remote_logout_needs_no_front_channel_logout_url() {
    let mut f = start_at(common::wall_clock());
    let uuid = signed_in(&mut f).await;
    let registry = common::registry_of(&f.state);
    let mut sp1 = registry.find(SP1).expect("find").expect("sp1");
    sp1.logout_url = None;
    registry.update(&sp1).expect("update");
    f.state.sp_cache.refresh().expect("refresh");
    let front = f
        .get(&format!(
            "/api/saml/logout2026?{}",
            front_query(&uuid, json!({}))
        ))
        .await;
    assert_eq!(
        front.status, 400,
        "front-channel still needs the logout URL"
    );
    assert!(
        front.body.contains("Assertion Consumer Logout Service URL"),
        "{}",
        front.body
    );
    let made = remote_signed("sp1-test-only.key", Some(&uuid));
    let (status, body) = remote(
        &mut f,
        &common::b64(made["xml"].as_str().expect("xml").as_bytes()),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("<samlp:LogoutResponse"), "{body}");
    assert!(
        !body.contains("Destination="),
        "no logout URL, no Destination: {body}"
    );
    assert!(!still_signed_in(&mut f).await);
}
