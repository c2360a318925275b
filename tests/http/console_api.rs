//! The console's JSON API (SPEC 19) from the outside, on every backend: bearer tokens (401,
//! 403 without a role), an agency administrator's scope (another agency's SP is 404 and
//! cannot be created), every change with its refusals (stale edits 412, `If-Match` required,
//! named field errors, certificates that are keys, weak, or not PEM), the audit trail and the
//! notices to the agency's administrators, the refused-request events, the OpenAPI document,
//! and an SP created on one node serving single sign-on on another.

use crate::common;

use actix_web::test;
use serde_json::{json, Value};

use common::flow::*;
use saml_idp::accounts::roles::Role;
use saml_idp::clock::Clock;
use saml_idp::idp::api_tokens::{self, CreateOutcome};
use saml_idp::mail::Mail;
use saml_idp::sessions::AuditKind;

const NEW_SP: &str = "urn:test:console:benefits";

/// Grants `role` to `email` and returns a new API token of that account.
fn token_for(f: &Flow, email: &str, role: Option<Role>) -> String {
    let s = &f.state;
    if let Some(role) = role {
        grant_role(f, email, role);
    }
    match api_tokens::create(&s.token_ports(), email, "tests", None).expect("token") {
        CreateOutcome::Created { token, .. } => token,
        other => panic!("no token: {other:?}"),
    }
}

fn agency(name: &str) -> Option<Role> {
    Some(Role::AgencyAdmin {
        agency: name.into(),
    })
}

/// A JSON request with `token` (and `If-Match` when given).
async fn call(
    f: &mut Flow,
    method: &str,
    uri: &str,
    token: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> (u16, Value, Answer) {
    let mut req = match method {
        "GET" => test::TestRequest::get(),
        "POST" => test::TestRequest::post(),
        "PATCH" => test::TestRequest::patch(),
        "DELETE" => test::TestRequest::delete(),
        other => panic!("{other}"),
    }
    .uri(uri)
    .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(body) = body {
        req = req
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body.to_string());
    }
    if let Some(tag) = if_match {
        req = req.insert_header(("If-Match", tag));
    }
    let answer = f.send(req).await;
    let value = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer.status, value, answer)
}

fn first_error(v: &Value) -> (String, String) {
    let e = &v["errors"][0];
    (
        e["field"].as_str().unwrap_or("?").to_string(),
        e["code"].as_str().unwrap_or("?").to_string(),
    )
}

fn id_of(issuer: &str) -> String {
    saml_idp::registry::public_id(issuer)
}

#[actix_web::test]
async fn tokens_and_roles_decide_who_sees_what() {
    for (backend, mut f, _) in every_backend_recording_mail() {
        add_user(&f.state, "nobody@example.gov", None, None);
        add_user(&f.state, "irs@example.gov", None, None);
        let no_role = token_for(&f, "nobody@example.gov", None);
        let gsa = token_for(&f, "ada@example.gov", agency("GSA"));
        let irs = token_for(&f, "irs@example.gov", agency("IRS"));

        let anonymous = f.get("/console/api/v1/sps").await;
        assert_eq!(anonymous.status, 401, "{backend}");
        assert!(anonymous.header("www-authenticate").starts_with("Bearer"));
        assert_eq!(
            first_error(&serde_json::from_str(&anonymous.body).expect("json")).1,
            "unauthorized"
        );
        let (status, _, _) = call(
            &mut f,
            "GET",
            "/console/api/v1/sps",
            "sidp_forged",
            None,
            None,
        )
        .await;
        assert_eq!(status, 401, "{backend}: a forged token");
        let (status, v, _) = call(&mut f, "GET", "/console/api/v1/sps", &no_role, None, None).await;
        assert_eq!(
            (status, first_error(&v).1.as_str()),
            (403, "no_role"),
            "{backend}"
        );

        // An agency administrator creates in its own agency (named or not), never another.
        let record = json!({
            "issuer": NEW_SP,
            "friendly_name": "Benefits <b>Portal</b>",
            "acs_urls": ["https://benefits.gsa.example/acs"],
            "certs": [common::pem("sp1-test-only.crt")],
        });
        let mut elsewhere = record.clone();
        elsewhere["agency"] = json!("IRS");
        let (status, v, _) = call(
            &mut f,
            "POST",
            "/console/api/v1/sps",
            &gsa,
            Some(elsewhere),
            None,
        )
        .await;
        assert_eq!(status, 403, "{backend}: {v}");
        assert_eq!(first_error(&v), ("agency".into(), "not_your_agency".into()));
        let (status, v, created) = call(
            &mut f,
            "POST",
            "/console/api/v1/sps",
            &gsa,
            Some(record.clone()),
            None,
        )
        .await;
        assert_eq!(status, 201, "{backend}: {v}");
        assert_eq!(v["agency"], "GSA");
        assert_eq!(v["id"], id_of(NEW_SP));
        assert_eq!(v["version"], 1);
        assert_eq!(created.header("etag"), "\"v1\"");
        assert_eq!(
            created.header("location"),
            format!("/console/api/v1/sps/{}", id_of(NEW_SP))
        );
        assert_eq!(
            v["friendly_name"], "Benefits <b>Portal</b>",
            "stored as text"
        );
        let cert = &v["certificates"][0];
        assert_eq!(cert["sha256"].as_str().map(str::len), Some(64));
        assert_eq!(cert["expired"], false);
        let (status, v, _) = call(
            &mut f,
            "POST",
            "/console/api/v1/sps",
            &gsa,
            Some(record),
            None,
        )
        .await;
        assert_eq!(
            (status, first_error(&v).1.as_str()),
            (422, "duplicate_issuer"),
            "{backend}"
        );

        // Another agency's SP does not exist for IRS: 404, and absent from its list.
        let uri = format!("/console/api/v1/sps/{}", id_of(NEW_SP));
        let (status, v, _) = call(&mut f, "GET", &uri, &irs, None, None).await;
        assert_eq!(
            (status, first_error(&v).1.as_str()),
            (404, "not_found"),
            "{backend}"
        );
        let (status, v, _) = call(&mut f, "GET", "/console/api/v1/sps", &irs, None, None).await;
        assert_eq!(status, 200);
        assert_eq!(v["sps"].as_array().map(Vec::len), Some(0), "{backend}: {v}");
        let (status, _, _) = call(
            &mut f,
            "PATCH",
            &uri,
            &irs,
            Some(json!({"active": false})),
            Some("*"),
        )
        .await;
        assert_eq!(status, 404, "{backend}");
        let (status, v, _) = call(&mut f, "GET", "/console/api/v1/sps", &gsa, None, None).await;
        assert_eq!(status, 200);
        let issuers: Vec<&str> = v["sps"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|s| s["issuer"].as_str())
            .collect();
        assert_eq!(issuers, [NEW_SP], "{backend}");
    }
}

#[actix_web::test]
async fn edits_are_checked_versioned_audited_and_announced() {
    for (backend, mut f, mailer) in every_backend_recording_mail() {
        let gsa = token_for(&f, "ada@example.gov", agency("GSA"));
        let record = json!({
            "issuer": NEW_SP,
            "agency": "GSA",
            "acs_urls": ["https://benefits.gsa.example/acs"],
            "certs": [common::pem("sp1-test-only.crt")],
        });
        let (status, _, _) = call(
            &mut f,
            "POST",
            "/console/api/v1/sps",
            &gsa,
            Some(record),
            None,
        )
        .await;
        assert_eq!(status, 201, "{backend}");
        let uri = format!("/console/api/v1/sps/{}", id_of(NEW_SP));
        let two_acs = json!({"acs_urls": ["https://benefits.gsa.example/acs", "https://benefits.gsa.example/acs2"]});

        let (status, v, _) = call(&mut f, "PATCH", &uri, &gsa, Some(two_acs.clone()), None).await;
        assert_eq!(
            (status, first_error(&v).1.as_str()),
            (428, "if_match_required"),
            "{backend}"
        );
        let (status, v, changed) =
            call(&mut f, "PATCH", &uri, &gsa, Some(two_acs), Some("\"v1\"")).await;
        assert_eq!(status, 200, "{backend}: {v}");
        assert_eq!(changed.header("etag"), "\"v2\"");
        // A second administrator still holding version 1 is refused; nothing is lost.
        let mine = json!({"logout_url": "https://benefits.gsa.example/slo"});
        let (status, v, _) = call(&mut f, "PATCH", &uri, &gsa, Some(mine), Some("\"v1\"")).await;
        assert_eq!(
            (status, first_error(&v).1.as_str()),
            (412, "stale"),
            "{backend}"
        );
        let (_, v, _) = call(&mut f, "GET", &uri, &gsa, None, None).await;
        assert_eq!(v["acs_urls"].as_array().map(Vec::len), Some(2));
        assert!(v.get("logout_url").is_none(), "{backend}: {v}");

        for (patch, field, code) in [
            (
                json!({"acs_urls": ["/relative/acs"]}),
                "acs_urls",
                "not_absolute_url",
            ),
            (json!({"acs_urls": []}), "acs_urls", "required"),
            (json!({"ial": 3}), "ial", "out_of_range"),
            (json!({"default_aal": 1}), "default_aal", "out_of_range"),
            (
                json!({"block_encryption": "des"}),
                "block_encryption",
                "unknown_value",
            ),
            (
                json!({"attribute_bundle": ["shoe_size"]}),
                "attribute_bundle",
                "unknown_attribute",
            ),
            (json!({"issuer": "urn:test:other"}), "issuer", "immutable"),
            (json!({"agency": "IRS"}), "agency", "not_your_agency"),
            (json!({"shoe_size": 44}), "", "invalid_json"),
            (json!({"version": 9}), "", "read_only"),
        ] {
            let (status, v, _) =
                call(&mut f, "PATCH", &uri, &gsa, Some(patch.clone()), Some("*")).await;
            assert!(
                matches!(status, 403 | 422),
                "{backend} {patch}: {status} {v}"
            );
            assert_eq!(
                first_error(&v),
                (field.to_string(), code.to_string()),
                "{backend} {patch}"
            );
        }

        // An SP that could never sign anyone in (SPEC 20): encrypted assertions, no
        // certificate. Refused with its code, and the fix in the message.
        let (status, v, _) = call(
            &mut f,
            "POST",
            "/console/api/v1/sps",
            &gsa,
            Some(json!({"issuer": "urn:gsa:trap", "agency": "GSA", "acs_urls": ["https://trap.example.gov/acs"]})),
            None,
        )
        .await;
        assert_eq!(
            (status, first_error(&v)),
            (422, ("certs".into(), "certificate_needed".into())),
            "{backend}: {v}"
        );
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("block_encryption = none")),
            "{backend}: {v}"
        );

        // Certificates: a private key is refused and never repeated; weak, not PEM, refused.
        let certs = format!("{uri}/certificates");
        let key = common::pem("sp1-test-only.key");
        let (status, v, refused) = call(
            &mut f,
            "POST",
            &certs,
            &gsa,
            Some(json!({"pem": key})),
            None,
        )
        .await;
        assert_eq!(
            (status, first_error(&v)),
            (422, ("certs".into(), "private_key".into())),
            "{backend}"
        );
        let key_line = key.lines().nth(1).expect("a base64 line");
        assert!(!refused.body.contains(key_line), "the key is not echoed");
        for (pem, code) in [
            (common::pem("weak-1024-test-only.crt"), "key_too_small"),
            ("hello".to_string(), "not_pem"),
            (common::pem("ec-test-only.crt"), "not_rsa"),
        ] {
            let (status, v, _) = call(
                &mut f,
                "POST",
                &certs,
                &gsa,
                Some(json!({"pem": pem})),
                None,
            )
            .await;
            assert_eq!(
                (status, first_error(&v).1.as_str()),
                (422, code),
                "{backend}"
            );
        }
        let (status, v, _) = call(
            &mut f,
            "POST",
            &certs,
            &gsa,
            Some(json!({"pem": common::pem("sp2-test-only.crt")})),
            None,
        )
        .await;
        assert_eq!(status, 201, "{backend}: {v}");
        assert_eq!(
            v["certificates"].as_array().map(Vec::len),
            Some(2),
            "rotation: both"
        );
        let first = v["certificates"][0]["sha256"]
            .as_str()
            .expect("sha")
            .to_string();
        let (status, v, _) = call(
            &mut f,
            "DELETE",
            &format!("{certs}/{first}"),
            &gsa,
            None,
            None,
        )
        .await;
        assert_eq!(status, 200, "{backend}: {v}");
        assert_eq!(v["certificates"].as_array().map(Vec::len), Some(1));
        let (status, _, _) = call(
            &mut f,
            "DELETE",
            &format!("{certs}/{first}"),
            &gsa,
            None,
            None,
        )
        .await;
        assert_eq!(status, 404, "{backend}: removed already");

        // Not JSON: 415 with a JSON body.
        let req = test::TestRequest::post()
            .uri("/console/api/v1/sps")
            .insert_header(("Authorization", format!("Bearer {gsa}")))
            .insert_header(("Content-Type", "text/plain"))
            .set_payload("issuer=x");
        let answer = f.send(req).await;
        assert_eq!(answer.status, 415, "{backend}: {}", answer.body);
        assert!(answer.body.starts_with("{\"errors\""), "{}", answer.body);

        // DELETE deactivates.
        let (status, v, _) = call(&mut f, "DELETE", &uri, &gsa, None, None).await;
        assert_eq!((status, &v["active"]), (200, &json!(false)), "{backend}");

        // Audited: the actor, the SP and the field names, never a certificate body.
        let events = f.state.stores.audit.recent(200).expect("audit");
        let changes: Vec<&str> = events
            .iter()
            .filter(|e| e.event == AuditKind::SpChanged)
            .filter_map(|e| e.detail.as_deref())
            .collect();
        assert!(
            changes.contains(&"updated:acs_urls"),
            "{backend}: {changes:?}"
        );
        assert!(
            changes.contains(&"updated:active"),
            "{backend}: {changes:?}"
        );
        assert!(changes
            .iter()
            .any(|d| d.starts_with("created:") && d.contains("certs")));
        assert_eq!(changes.iter().filter(|d| **d == "updated:certs").count(), 2);
        assert!(events
            .iter()
            .all(|e| !e.detail.as_deref().unwrap_or("").contains("BEGIN")));
        // Announced to the agency's administrators.
        let notices: Vec<_> = mailer
            .sent()
            .into_iter()
            .filter(|s| matches!(s.mail, Mail::SpChanged { .. }))
            .collect();
        assert_eq!(
            notices.len(),
            changes.len(),
            "{backend}: one notice per change"
        );
        assert_eq!(notices[0].to, ["ada@example.gov"]);
        match &notices[1].mail {
            Mail::SpChanged { fields, link, .. } => {
                assert_eq!(fields, "acs_urls");
                assert!(
                    link.ends_with(&format!("/console/sps/{}", id_of(NEW_SP))),
                    "{link}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}

#[actix_web::test]
async fn refused_requests_are_listed_with_their_explanations() {
    for (backend, mut f, _) in every_backend_recording_mail() {
        let admin = token_for(&f, "ada@example.gov", Some(Role::Admin));
        let wrong_acs = authn_request(
            SP1,
            r#"AssertionConsumerServiceURL="https://evil.example/acs""#,
            &["urn:acr.login.gov:auth-only"],
        );
        let refused = f.request(&wrong_acs).await;
        assert_eq!(refused.status, 400, "{backend}: {}", refused.body);
        let uri = format!("/console/api/v1/sps/{}/events", id_of(SP1));
        let (status, v, _) = call(&mut f, "GET", &uri, &admin, None, None).await;
        assert_eq!(status, 200, "{backend}: {v}");
        let event = &v["events"][0];
        assert_eq!(event["event"], "SAML Auth Request", "{backend}: {v}");
        assert_eq!(event["binding"], "redirect", "{backend}: {v}");
        let code = &event["codes"][0];
        assert_eq!(code["code"], "acs_url_not_registered", "{v}");
        assert!(code["help"].as_str().is_some_and(|h| !h.is_empty()));
        assert!(code["help_url"]
            .as_str()
            .is_some_and(|u| u.contains("/help/errors")));
        assert!(!v.to_string().contains("ada@example.gov"));
        let (status, v, _) = call(
            &mut f,
            "GET",
            &format!("{uri}?limit=abc"),
            &admin,
            None,
            None,
        )
        .await;
        assert_eq!(
            (status, first_error(&v).1.as_str()),
            (400, "invalid_query"),
            "{backend}"
        );
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_every_operation() {
    let mut f = start();
    let answer = f.get("/console/api/v1/openapi.json").await;
    assert_eq!(answer.status, 200);
    let doc: Value = serde_json::from_str(&answer.body).expect("json");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{doc}"
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/console/api/v1/sps", "get"),
        ("/console/api/v1/sps", "post"),
        ("/console/api/v1/sps/{id}", "get"),
        ("/console/api/v1/sps/{id}", "patch"),
        ("/console/api/v1/sps/{id}", "delete"),
        ("/console/api/v1/sps/{id}/certificates", "post"),
        ("/console/api/v1/sps/{id}/certificates/{sha256}", "delete"),
        ("/console/api/v1/sps/{id}/events", "get"),
    ] {
        assert!(paths[path].get(method).is_some(), "{method} {path}");
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "SpRecord",
        "SpBody",
        "ApiErrors",
        "CertificateInfo",
        "EventList",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
}

#[actix_web::test]
async fn an_sp_created_on_one_node_serves_sign_in_on_another_after_its_refresh() {
    for (backend, mut a, _) in every_backend_recording_mail() {
        let admin = token_for(&a, "ada@example.gov", Some(Role::Admin));
        // Node B: its own state (and SP cache) over the same database.
        let b = common::app_state_at(&a._db, a.clock.clone());
        let record = json!({
            "issuer": NEW_SP,
            "acs_urls": ["https://benefits.example/acs"],
            "block_encryption": "none",
        });
        let (status, v, _) = call(
            &mut a,
            "POST",
            "/console/api/v1/sps",
            &admin,
            Some(record),
            None,
        )
        .await;
        assert_eq!(status, 201, "{backend}: {v}");
        let xml = stamped(
            &authn_request(NEW_SP, "", &["urn:acr.login.gov:auth-only"]),
            a.clock.now(),
        );
        let value: String = url::form_urlencoded::byte_serialize(
            saml_idp::saml::codec::encode_redirect(xml.as_bytes()).as_bytes(),
        )
        .collect();
        let uri = format!("/api/saml/auth2026?SAMLRequest={value}");
        let mut jar = std::collections::HashMap::new();
        let before = exchange(&b, &mut jar, test::TestRequest::get().uri(&uri)).await;
        assert_eq!(
            before.status, 400,
            "{backend}: node B has not refreshed yet"
        );
        // What node B's refresh loop does every `registry_refresh_seconds`.
        b.sp_cache.refresh().expect("refresh");
        let after = exchange(&b, &mut jar, test::TestRequest::get().uri(&uri)).await;
        assert_eq!(after.status, 303, "{backend}: {}", after.body);
        assert!(after.location.contains("/sign-in"), "{}", after.location);
    }
}

#[actix_web::test]
async fn revoked_and_expired_tokens_and_suspended_accounts_get_401() {
    for (backend, mut f, _) in every_backend_recording_mail() {
        grant_role(&f, "ada@example.gov", Role::Admin);
        let created = api_tokens::create(&f.state.token_ports(), "ada@example.gov", "ci", Some(1))
            .expect("token");
        let CreateOutcome::Created { token, record } = created else {
            panic!("{backend}: no token");
        };
        let (status, _, _) = call(&mut f, "GET", "/console/api/v1/sps", &token, None, None).await;
        assert_eq!(status, 200, "{backend}: live");
        f.tick(86_400 + 1);
        let (status, v, _) = call(&mut f, "GET", "/console/api/v1/sps", &token, None, None).await;
        assert_eq!(
            (status, first_error(&v).1.as_str()),
            (401, "unauthorized"),
            "{backend}: expired"
        );

        let other = token_for(&f, "ada@example.gov", None);
        let (status, _, _) = call(&mut f, "GET", "/console/api/v1/sps", &other, None, None).await;
        assert_eq!(status, 200, "{backend}");
        let listed = f.state.stores.api_tokens.list(None).expect("list");
        let live = listed
            .iter()
            .find(|t| t.id != record.id)
            .expect("the second token");
        assert!(api_tokens::revoke(&f.state.token_ports(), &live.id).expect("revoke"));
        let (status, _, _) = call(&mut f, "GET", "/console/api/v1/sps", &other, None, None).await;
        assert_eq!(status, 401, "{backend}: revoked");
    }
}

#[actix_web::test]
async fn production_takes_https_urls_and_http_only_on_loopback() {
    let mut f = start_configured(common::sqlite_db(), common::now(), |c| {
        c.mode = saml_idp::config::Mode::Production;
    });
    let admin = token_for(&f, "ada@example.gov", Some(Role::Admin));
    let record = |acs: &str, issuer: &str| json!({"issuer": issuer, "acs_urls": [acs], "block_encryption": "none"});
    let (status, v, _) = call(
        &mut f,
        "POST",
        "/console/api/v1/sps",
        &admin,
        Some(record("http://benefits.example.gov/acs", "urn:test:http")),
        None,
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        first_error(&v),
        ("acs_urls".into(), "http_in_production".into())
    );
    for (acs, issuer) in [
        ("https://benefits.example.gov/acs", "urn:test:https"),
        ("http://127.0.0.1:8000/acs", "urn:test:loopback"),
    ] {
        let (status, v, _) = call(
            &mut f,
            "POST",
            "/console/api/v1/sps",
            &admin,
            Some(record(acs, issuer)),
            None,
        )
        .await;
        assert_eq!(status, 201, "{acs}: {v}");
    }
}
