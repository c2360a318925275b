//! Unauthenticated (and authenticated) traffic cannot make the database grow faster than a
//! bound (SPEC 7), from the outside, on SQLite and on PostgreSQL when `TEST_DATABASE_URL` is
//! set: the throttle stops at its first refusal, a replayed AuthnRequest reuses its pending
//! row, a user holds at most a few ceremony tokens however often they start one, and refused
//! SAML requests are audited in aggregate. (The in-process limiter in front of all of this
//! is in `request_guard`.)

use crate::common;

use common::flow::*;
use saml_idp::idp::token::MAX_OUTSTANDING;

fn rows(f: &Flow, table: &str) -> i64 {
    // Reading the trail stores what the audit buffer holds first.
    f.state.stores.audit.recent(1).expect("audit");
    common::stores::count_table(&f._db, table)
}

/// Behind the limiter, the database throttle (per address, account, session) stops at its
/// first refusal: sign-in posts refused for their address add no row for the account they
/// name, however many fresh addresses they try.
#[actix_web::test]
async fn the_throttle_stops_at_its_first_refusal() {
    for (backend, mut f) in every_backend() {
        let mut refused = 0;
        for n in 0..30 {
            let email = format!("guess{n}@example.gov");
            if f.password(&email, "wrong").await.status == 429 {
                refused += 1;
            }
        }
        assert_eq!(refused, 0, "{backend}: 30 per address per minute");
        let before = rows(&f, "rate_limits");
        for n in 30..50 {
            let email = format!("guess{n}@example.gov");
            assert_eq!(f.password(&email, "wrong").await.status, 429, "{backend}");
        }
        assert_eq!(
            rows(&f, "rate_limits"),
            before,
            "{backend}: no row per new address"
        );
    }
}

#[actix_web::test]
async fn a_replayed_authn_request_reuses_its_pending_row() {
    for (backend, mut f) in every_backend() {
        let xml = stamped(
            &authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]),
            f.state.clock.now(),
        );
        let value = common::form(&saml_idp::saml::codec::encode_redirect(xml.as_bytes()));
        for _ in 0..5 {
            let answer = f
                .get(&format!("/api/saml/auth2026?SAMLRequest={value}"))
                .await;
            assert_eq!(answer.status, 303, "{backend}");
        }
        assert_eq!(
            rows(&f, "pending_requests"),
            1,
            "{backend}: one row per request"
        );
        // The latest browser holds it: signing in completes the request.
        let after = f.password("ada@example.gov", PASSWORD).await;
        assert!(
            after.location.starts_with("/api/saml/complete"),
            "{backend}"
        );
        let other = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
        f.jar.clear();
        f.request(&other.replace("ID=\"", "ID=\"_other")).await;
        assert_eq!(
            rows(&f, "pending_requests"),
            2,
            "{backend}: another ID, another row"
        );
    }
}

#[actix_web::test]
async fn a_user_holds_a_few_ceremony_tokens_however_often_they_start() {
    for (backend, mut f) in every_backend() {
        let xml = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
        f.sign_in_fully(&xml, false).await;
        let csrf = f.csrf("/account/security-keys").await;
        for _ in 0..10 {
            let options = f
                .post("/account/security-keys/options", &[("csrf", &csrf)])
                .await;
            assert_eq!(options.status, 200, "{backend}: {}", options.body);
        }
        let tokens = rows(&f, "one_time_tokens");
        assert_eq!(
            tokens, MAX_OUTSTANDING as i64,
            "{backend}: the {MAX_OUTSTANDING} newest ceremonies"
        );
    }
}

#[actix_web::test]
async fn refused_saml_requests_are_audited_in_aggregate() {
    for (backend, mut f) in every_backend() {
        let before = rows(&f, "audit_events");
        for n in 0..20 {
            f.tick(1);
            let refused = f
                .get(&format!("/api/saml/auth2026?SAMLRequest=AAAA{n}"))
                .await;
            assert_eq!(refused.status, 400, "{backend}");
        }
        f.peer = Some("198.51.100.9:4000".parse().expect("address"));
        for n in 0..3 {
            f.get(&format!("/api/saml/auth2026?SAMLRequest=AAAA{n}"))
                .await;
        }
        let events = f.state.stores.audit.recent(10).expect("audit");
        let counts: Vec<u32> = events.iter().map(|e| e.count).collect();
        assert_eq!(
            rows(&f, "audit_events") - before,
            2,
            "{backend}: one row per client and code: {counts:?}"
        );
        let mut counts = counts[..2].to_vec();
        counts.sort();
        assert_eq!(counts, [3, 20], "{backend}: with their counts");
        assert!(
            events[..2]
                .iter()
                .all(|e| !e.success && e.detail.as_deref() == Some("malformed_request")),
            "{backend}: {events:?}"
        );
        // A minute later, the same client's next refusal is a row of its own.
        f.tick(61);
        f.get("/api/saml/auth2026?SAMLRequest=AAAA").await;
        assert_eq!(rows(&f, "audit_events") - before, 3, "{backend}");
    }
}
