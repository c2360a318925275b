//! The audit trail of incoming SAML messages (SPEC 12, issue 13): every AuthnRequest, every
//! fixture of `fixtures/requests/` accepted or not, leaves one `SAML Auth Request` event with
//! its outcome and error codes, on SQLite and PostgreSQL; refused logouts leave `Logout
//! Initiated` events. No event holds raw XML, an unregistered issuer or a user's email.

use crate::common;

use serde_json::Value;

use common::flow::*;
use saml_idp::sessions::{AuditEvent, AuditKind};

fn flows() -> Vec<(&'static str, Flow)> {
    common::every_backend()
        .into_iter()
        .map(|(name, db)| {
            let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 15, 12, 0, 10)
                .single()
                .expect("time");
            (name, start_on(db, now))
        })
        .collect()
}

fn last(f: &Flow) -> AuditEvent {
    f.state.stores.audit.recent(1).expect("audit").remove(0)
}

fn assert_clean(e: &AuditEvent) {
    let text = format!("{e:?}");
    for leak in ["<", "ada@", "SAMLRequest", "urn:unknown"] {
        assert!(!text.contains(leak), "the audit event holds {leak}: {text}");
    }
}

#[actix_web::test]
async fn every_fixture_request_leaves_one_event_with_its_outcome() {
    let manifest: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("requests/manifest.json")).expect("manifest"),
    )
    .expect("json");
    for (backend, mut f) in flows() {
        for entry in &manifest {
            let files: Vec<&str> = entry["files"]
                .as_array()
                .expect("files")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let Some(b64) = files.iter().find(|n| n.ends_with(".b64")) else {
                continue;
            };
            let value = std::fs::read_to_string(common::fixture(&format!("requests/{b64}")))
                .expect("fixture");
            let before = f.state.stores.audit.recent(1000).expect("audit").len();
            let body = format!(
                "SAMLRequest={}",
                url::form_urlencoded::byte_serialize(value.trim().as_bytes()).collect::<String>()
            );
            f.jar.clear();
            let answer = f.post_raw("/api/saml/authpost2026", body).await;
            let events = f.state.stores.audit.recent(1000).expect("audit");
            assert_eq!(events.len(), before + 1, "{backend} {b64}: one event");
            let event = &events[0];
            assert_eq!(event.event, AuditKind::SamlAuthRequest, "{backend} {b64}");
            let expected: Vec<&str> = entry["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            match expected.as_slice() {
                [] => {
                    assert!(
                        event.success,
                        "{backend} {b64}: {event:?} {}",
                        answer.status
                    );
                    assert_eq!(event.detail.as_deref(), Some("accepted"));
                    assert!(
                        event.issuer.is_some(),
                        "{backend} {b64}: a registered issuer"
                    );
                }
                codes => {
                    assert!(!event.success, "{backend} {b64}");
                    assert_eq!(
                        event.detail.as_deref(),
                        Some(codes.join(",").as_str()),
                        "{b64}"
                    );
                }
            }
            assert_clean(event);
        }
    }
}

#[actix_web::test]
async fn refusals_before_intake_are_audited_too() {
    for (backend, mut f) in flows() {
        f.get("/api/saml/auth2026?SAMLRequest=a&SAMLRequest=b")
            .await;
        let e = last(&f);
        assert_eq!(
            (e.event.as_str(), e.success, e.detail.as_deref()),
            ("SAML Auth Request", false, Some("malformed_request")),
            "{backend}"
        );
        f.get("/api/saml/auth2026").await;
        assert_eq!(
            last(&f).detail.as_deref(),
            Some("no_auth_or_logout_request")
        );
        let unknown = authn_request("urn:unknown", "", &["urn:acr.login.gov:auth-only"]);
        f.request(&unknown).await;
        let e = last(&f);
        assert_eq!(e.detail.as_deref(), Some("unauthorized_service_provider"));
        assert_eq!(
            e.issuer, None,
            "{backend}: an unregistered issuer is not recorded"
        );
        assert_clean(&e);
        f.get("/api/saml/logout2026?SAMLRequest=a&SAMLRequest=b")
            .await;
        let e = last(&f);
        assert_eq!(
            (e.event, e.success, e.detail.as_deref()),
            (AuditKind::LogoutInitiated, false, Some("malformed_request")),
            "{backend}"
        );
        // Unsigned LogoutRequest: refused, with its codes.
        let logout = "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_lo\" Version=\"2.0\" IssueInstant=\"2026-03-15T12:00:00Z\"><saml:Issuer>urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1</saml:Issuer><saml:NameID>x</saml:NameID></samlp:LogoutRequest>";
        let value: String = url::form_urlencoded::byte_serialize(
            saml_idp::saml::codec::encode_redirect(logout.as_bytes()).as_bytes(),
        )
        .collect();
        f.get(&format!("/api/saml/logout2026?SAMLRequest={value}"))
            .await;
        let e = last(&f);
        assert_eq!(e.event, AuditKind::LogoutInitiated);
        assert!(
            !e.success && e.detail.as_deref() == Some("signature_required"),
            "{e:?}"
        );
        assert_clean(&e);
    }
}
