//! Single sign-on and the hardening of the sign-in flow (SPEC 7, issue 9), from the outside,
//! on SQLite and on PostgreSQL when `TEST_DATABASE_URL` is set: a signed-in browser is
//! answered at once for any SP (python3-saml checks each Response), only what is missing is
//! asked for, a stored request is answered once, one lock covers every step in every
//! browser, rate limits tell client addresses apart (behind trusted proxies too), nothing
//! is stored for oversized IDs or page views, and the hand-off re-checks the SP.

use crate::common;

use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Value};

use common::flow::*;

const SP_B: &str = "urn:test:sso-sp-b";
const SP_B_ACS: &str = "http://localhost:9004/acs";
const AUTH_ONLY: &str = "urn:acr.login.gov:auth-only";
const AAL2: &str = "http://idmanagement.gov/ns/assurance/aal/2";

/// An AuthnRequest with its own ID (python3-saml checks InResponseTo).
fn request(issuer: &str, id: &str, attrs: &str, contexts: &[&str]) -> String {
    authn_request(issuer, attrs, contexts).replace("ID=\"_flow\"", &format!("ID=\"{id}\""))
}

/// Flows on every backend, at the real time (python3-saml checks validity windows).
fn flows() -> Vec<(&'static str, Flow)> {
    common::every_backend()
        .into_iter()
        .map(|(name, db)| {
            let f = start_on(db, common::wall_clock());
            add_sp_b(&f);
            (name, f)
        })
        .collect()
}

/// Another agency's SP: unencrypted, its own ACS.
fn add_sp_b(f: &Flow) {
    let record = saml_idp::registry::SpRecord {
        issuer: SP_B.into(),
        friendly_name: Some("Second Service".into()),
        agency: Some("Other Agency".into()),
        acs_urls: vec![SP_B_ACS.into()],
        certs: vec!["sp2-test-only.crt".into()],
        block_encryption: Some("none".into()),
        attribute_bundle: vec!["email".into()],
        return_to_sp_url: Some("http://localhost:9004/".into()),
        active: true,
        ..Default::default()
    };
    f.register_sp(&record);
}

/// python3-saml's verdict on the hand-off page's Response for `issuer`.
fn verdict(page: &Answer, issuer: &str, request_id: &str) -> Value {
    let sp = match issuer {
        SP_B => PythonSp {
            issuer: SP_B,
            acs: SP_B_ACS,
            cert: "sp2-test-only.crt",
            key: "sp2-test-only.key",
            encrypted: false,
        },
        _ => PYTHON_SP1,
    };
    python_verdict(page, &sp, request_id)
}

fn assert_accepted(page: &Answer, issuer: &str, request_id: &str) {
    assert_eq!(page.status, 200, "{}", page.body);
    let v = verdict(page, issuer, request_id);
    assert_eq!(v["valid"], true, "python3-saml refused: {v}");
    assert_eq!(v["in_response_to"], request_id);
}

fn pending_rows(f: &Flow) -> i64 {
    f.state.stores.pending.count().expect("count")
}

#[actix_web::test]
async fn a_signed_in_browser_is_answered_at_once_for_any_sp() {
    for (backend, mut f) in flows() {
        let first = f
            .sign_in_fully(&request(SP1, "_a1", "", &[AUTH_ONLY]), false)
            .await;
        assert_accepted(&first, SP1, "_a1");
        // SP A again: the Response in the same HTTP request, nothing stored.
        let again = f.request(&request(SP1, "_a2", "", &[AUTH_ONLY])).await;
        assert_accepted(&again, SP1, "_a2");
        assert!(!again.body.contains("name=\"password\""), "{backend}");
        assert_eq!(
            pending_rows(&f),
            0,
            "{backend}: no pending row when answered"
        );
        // SP B: only consent is asked.
        let b = f.request(&request(SP_B, "_b1", "", &[AUTH_ONLY])).await;
        assert_eq!(
            (b.status, b.location.as_str()),
            (303, "/consent?locale=en"),
            "{backend}"
        );
        let done = f.complete().await;
        assert_accepted(&done, SP_B, "_b1");
        let b_again = f.request(&request(SP_B, "_b2", "", &[AUTH_ONLY])).await;
        assert_accepted(&b_again, SP_B, "_b2");
        // Each page may post to its own SP's origin alone, however often it was built.
        for (page, origin) in [
            (&first, "http://localhost:9001"),
            (&again, "http://localhost:9001"),
            (&done, "http://localhost:9004"),
            (&b_again, "http://localhost:9004"),
        ] {
            assert_eq!(
                page.header("content-security-policy"),
                format!(
                    "default-src 'self'; form-action 'self' {origin}; \
                     frame-ancestors 'none'; base-uri 'none'"
                ),
                "{backend}"
            );
        }
        // IsPassive with a live session: a real Response, not NoPassive.
        let passive = f
            .request(&request(SP1, "_p1", "IsPassive=\"true\"", &[AUTH_ONLY]))
            .await;
        assert_accepted(&passive, SP1, "_p1");
    }
}

#[actix_web::test]
async fn aal2_asks_only_the_code_and_force_authn_asks_both() {
    for (backend, mut f) in flows() {
        // Signed in with password + remembered browser: no second factor in this session.
        f.sign_in_fully(&request(SP1, "_r0", "", &[AUTH_ONLY]), true)
            .await;
        f.jar.remove("__Host-saml_idp_session");
        f.tick(31);
        f.request(&request(SP1, "_r1", "", &[AUTH_ONLY])).await;
        let pw = f.password("ada@example.gov", PASSWORD).await;
        let remembered = f.get(&pw.location).await;
        assert_accepted(&remembered, SP1, "_r1");
        // aal/2 now needs a second factor in this session: only the code is asked.
        let aal2 = f
            .request(&request(SP1, "_r2", "", &[AUTH_ONLY, AAL2]))
            .await;
        assert_eq!(
            (aal2.status, aal2.location.as_str()),
            (303, "/sign-in/mfa?locale=en"),
            "{backend}"
        );
        let code = f.code();
        let after = f.second_factor(&code, false).await;
        let done = f.get(&after.location).await;
        assert_accepted(&done, SP1, "_r2");
        // ForceAuthn: password and code again, then the Response.
        f.tick(31);
        let force = f
            .request(&request(SP1, "_r3", "ForceAuthn=\"true\"", &[AUTH_ONLY]))
            .await;
        assert_eq!(force.location, "/sign-in?locale=en", "{backend}");
        let pw = f.password("ada@example.gov", PASSWORD).await;
        let ask = f.get(&pw.location).await;
        assert!(
            ask.location.starts_with("/sign-in/mfa"),
            "{backend}: {} {} {} {}",
            pw.status,
            pw.location,
            ask.status,
            ask.location
        );
        let code = f.code();
        let after = f.second_factor(&code, false).await;
        assert_accepted(&f.get(&after.location).await, SP1, "_r3");
    }
}

#[actix_web::test]
async fn a_pending_cookie_replayed_after_its_hand_off_gives_no_second_response() {
    for (backend, mut f) in flows() {
        f.request(&request(SP1, "_once", "", &[AUTH_ONLY])).await;
        let cookie = f
            .jar
            .get("__Host-saml_idp_pending")
            .cloned()
            .expect("pending cookie");
        let done = f.sign_in_rest().await;
        assert_accepted(&done, SP1, "_once");
        assert!(!f.jar.contains_key("__Host-saml_idp_pending"), "{backend}");
        assert_eq!(pending_rows(&f), 0, "{backend}: deleted at hand-off");
        f.jar.insert("__Host-saml_idp_pending".into(), cookie);
        let replay = f.get("/api/saml/complete").await;
        assert_eq!(replay.status, 400, "{backend}");
        assert!(form_field(&replay.body, "SAMLResponse").is_none());
        assert!(replay.body.contains("No sign-in in progress"));
    }
}

#[actix_web::test]
async fn cancel_deletes_the_pending_request() {
    for (backend, mut f) in flows() {
        f.request(&request(SP1, "_c", "", &[AUTH_ONLY])).await;
        assert_eq!(pending_rows(&f), 1, "{backend}");
        let cookie = f
            .jar
            .get("__Host-saml_idp_pending")
            .cloned()
            .expect("cookie");
        assert_eq!(f.get("/cancel").await.location, "http://localhost:9001/");
        assert_eq!(pending_rows(&f), 0, "{backend}");
        f.jar.insert("__Host-saml_idp_pending".into(), cookie);
        assert_eq!(f.get("/api/saml/complete").await.status, 400);
    }
}

/// Sends each browser (a cookie jar) through `request` + password.
async fn past_the_password(
    f: &mut Flow,
    n: usize,
) -> Vec<std::collections::HashMap<String, String>> {
    let mut jars = Vec::new();
    for i in 0..n {
        f.jar.clear();
        f.request(&request(SP1, &format!("_l{i}"), "", &[AUTH_ONLY]))
            .await;
        let pw = f.password("ada@example.gov", PASSWORD).await;
        assert!(
            pw.location.starts_with("/api/saml/complete"),
            "{}",
            pw.status
        );
        jars.push(std::mem::take(&mut f.jar));
    }
    jars
}

#[actix_web::test]
async fn ten_wrong_codes_over_several_browsers_lock_every_step_everywhere() {
    for (backend, mut f) in flows() {
        let mut jars = past_the_password(&mut f, 3).await;
        // 4 + 3 + 3 wrong codes: under the per-session limit in each browser.
        for (i, jar) in jars.iter_mut().enumerate() {
            std::mem::swap(&mut f.jar, jar);
            for _ in 0..(if i == 0 { 4 } else { 3 }) {
                let wrong = f.second_factor("000000", false).await;
                assert!(
                    matches!(wrong.status, 401 | 403),
                    "{backend}: {}",
                    wrong.status
                );
            }
            std::mem::swap(&mut f.jar, jar);
        }
        let code = f.code();
        for jar in jars.iter_mut() {
            std::mem::swap(&mut f.jar, jar);
            let page = f.get("/sign-in/mfa").await;
            let right = f
                .post("/sign-in/mfa", &[("csrf", "x"), ("code", &code)])
                .await;
            assert!(
                page.location.starts_with("/sign-in") && right.status == 401,
                "{backend}: the locked account's half-signed-in sessions are gone: {} {}",
                page.status,
                right.status
            );
            std::mem::swap(&mut f.jar, jar);
        }
        // A new sign-in gets the same answer as a wrong password, for the lock period.
        f.jar.clear();
        f.request(&request(SP1, "_l9", "", &[AUTH_ONLY])).await;
        let locked = f.password("ada@example.gov", PASSWORD).await;
        let unknown = f.password("nobody@example.gov", PASSWORD).await;
        assert_eq!((locked.status, unknown.status), (401, 401), "{backend}");
        assert_eq!(
            locked.body.replace("ada@example.gov", "TYPED"),
            unknown.body.replace("nobody@example.gov", "TYPED"),
            "{backend}: locked looks like unknown (but for the address typed)"
        );
        f.tick(9 * 60);
        assert_eq!(f.password("ada@example.gov", PASSWORD).await.status, 401);
        f.tick(2 * 60);
        let open = f.password("ada@example.gov", PASSWORD).await;
        assert!(open.location.starts_with("/api/saml/complete"), "{backend}");
    }
}

#[actix_web::test]
async fn a_lock_reached_at_the_password_step_stops_a_browser_already_past_it() {
    for (backend, mut f) in flows() {
        let mut jars = past_the_password(&mut f, 1).await;
        f.jar.clear();
        for _ in 0..10 {
            f.password("ada@example.gov", "wrong").await;
        }
        std::mem::swap(&mut f.jar, &mut jars[0]);
        let code = f.code();
        let csrf = "stale";
        let right = f
            .post("/sign-in/mfa", &[("csrf", csrf), ("code", &code)])
            .await;
        assert_eq!(
            right.status, 401,
            "{backend}: the session was ended by the lock"
        );
        assert!(right.body.contains("Your session has expired"));
    }
}

#[actix_web::test]
async fn the_failure_count_resets_only_after_a_complete_sign_in() {
    for (backend, mut f) in flows() {
        for _ in 0..9 {
            f.password("ada@example.gov", "wrong").await;
        }
        // The right password alone does not reset the count ...
        f.request(&request(SP1, "_f1", "", &[AUTH_ONLY])).await;
        f.password("ada@example.gov", PASSWORD).await;
        assert_eq!(
            f.second_factor("000000", false).await.status,
            403,
            "{backend}: the tenth failure locks, at the code step"
        );
        f.tick(11 * 60);
        // ... a complete sign-in does.
        let done = f
            .sign_in_fully(&request(SP1, "_f2", "", &[AUTH_ONLY]), false)
            .await;
        assert_eq!(done.status, 200);
        f.jar.clear();
        for _ in 0..9 {
            assert_eq!(f.password("ada@example.gov", "wrong").await.status, 401);
        }
        let pw = f.password("ada@example.gov", PASSWORD).await;
        assert_eq!(
            pw.status, 303,
            "{backend}: 9 failures after the reset do not lock"
        );
    }
}

#[actix_web::test]
async fn wrong_codes_end_the_session_after_the_per_session_limit() {
    for (backend, mut f) in flows() {
        if let Some(jar) = past_the_password(&mut f, 1).await.pop() {
            f.jar = jar;
        }
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(f.second_factor("000000", false).await.status);
        }
        assert_eq!(statuses[..4], [401, 401, 401, 401], "{backend}");
        let code = f.code();
        let after = f
            .post("/sign-in/mfa", &[("csrf", "x"), ("code", &code)])
            .await;
        assert_eq!(after.status, 401, "{backend}: the session is gone");
    }
}

fn with_proxies(f: &mut Flow, proxies: &[&str]) {
    let mut config = (*f.state.config).clone();
    config.trusted_proxies = proxies.iter().map(|p| p.parse().expect("net")).collect();
    f.state.config = Arc::new(config);
}

/// 31 password posts (distinct unknown emails) from the current address: the statuses.
async fn hammer(f: &mut Flow, tag: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..31 {
        out.push(
            f.password(&format!("{tag}{i}@example.gov"), "x")
                .await
                .status,
        );
    }
    out
}

#[actix_web::test]
async fn rate_limits_count_per_client_address() {
    for (backend, mut f) in flows() {
        f.peer = Some("203.0.113.5:4000".parse().expect("addr"));
        let a = hammer(&mut f, "a").await;
        assert!(a[..30].iter().all(|s| *s == 401), "{backend}: {a:?}");
        assert_eq!(a[30], 429, "{backend}");
        f.peer = Some("203.0.113.6:4000".parse().expect("addr"));
        assert_eq!(
            f.password("b@example.gov", "x").await.status,
            401,
            "another address"
        );
        // The same /64 is one address.
        f.peer = Some("[2001:db8:1:2::1]:4000".parse().expect("addr"));
        let v6 = hammer(&mut f, "c").await;
        assert_eq!(v6[30], 429);
        f.peer = Some("[2001:db8:1:2::99]:4000".parse().expect("addr"));
        assert_eq!(
            f.password("d@example.gov", "x").await.status,
            429,
            "same /64"
        );
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_the_forwarded_address_counts_and_otherwise_not() {
    for (backend, mut f) in flows() {
        with_proxies(&mut f, &["10.0.0.0/8"]);
        f.peer = Some("10.0.0.2:4000".parse().expect("addr"));
        f.headers = vec![("X-Forwarded-For".into(), "198.51.100.1".into())];
        let first = hammer(&mut f, "e").await;
        assert_eq!(first[30], 429, "{backend}");
        f.headers = vec![("X-Forwarded-For".into(), "198.51.100.2, 10.0.0.9".into())];
        assert_eq!(
            f.password("f@example.gov", "x").await.status,
            401,
            "{backend}: another client behind the same proxy"
        );
        // An untrusted peer's X-Forwarded-For is ignored: changing it does not help.
        f.peer = Some("203.0.113.7:4000".parse().expect("addr"));
        let mut statuses = Vec::new();
        for i in 0..31 {
            f.headers = vec![("X-Forwarded-For".into(), format!("192.0.2.{i}"))];
            statuses.push(f.password(&format!("g{i}@example.gov"), "x").await.status);
        }
        assert_eq!(statuses[30], 429, "{backend}: {statuses:?}");
    }
}

#[actix_web::test]
async fn an_oversized_request_id_is_refused_and_stores_nothing() {
    for (backend, mut f) in flows() {
        let id = format!("_{}", "a".repeat(250_000));
        let answer = f.request(&request(SP1, &id, "", &[AUTH_ONLY])).await;
        assert_eq!(answer.status, 400, "{backend}");
        assert!(answer.body.contains("malformed_request") || answer.body.contains("malformed"));
        assert!(
            !answer.body.contains(&"a".repeat(300)),
            "the ID is not echoed"
        );
        assert_eq!(pending_rows(&f), 0, "{backend}");
        for bad in ["123abc", "a b", "x\"y"] {
            let a = f.request(&request(SP1, bad, "", &[AUTH_ONLY])).await;
            assert_eq!(a.status, 400, "{backend}: {bad}");
        }
    }
}

#[actix_web::test]
async fn showing_pages_stores_nothing() {
    for (backend, mut f) in flows() {
        let before = common::row_counts(&f._db);
        for _ in 0..1_000 {
            f.jar.clear();
            assert_eq!(f.get("/sign-in").await.status, 200);
            assert_eq!(f.get("/").await.status, 200);
        }
        assert_eq!(common::row_counts(&f._db), before, "{backend}");
    }
}

/// Deactivated, ACS removed, certificates reordered or removed between the request and
/// its hand-off: the matching page, never a Response to a stale target.
#[actix_web::test]
async fn the_hand_off_rechecks_the_sp() {
    for (backend, mut f) in flows() {
        let change = |f: &Flow, edit: &dyn Fn(&mut saml_idp::registry::ServiceProvider)| {
            let registry = common::registry_of(&f.state);
            let mut sp = registry.find(SP1).expect("find").expect("sp1");
            edit(&mut sp);
            registry.update(&sp).expect("update");
            f.state.sp_cache.refresh().expect("refresh");
        };
        // Deactivated.
        f.request(&request(SP1, "_h1", "", &[AUTH_ONLY])).await;
        change(&f, &|sp| sp.active = false);
        let page = f.sign_in_rest().await;
        assert_eq!(page.status, 403, "{backend}");
        assert!(page.body.contains("no longer uses this service"));
        assert!(form_field(&page.body, "SAMLResponse").is_none());
        change(&f, &|sp| sp.active = true);
        // The ACS the request named was removed.
        f.jar.clear();
        f.request(&request(SP1, "_h2", "", &[AUTH_ONLY])).await;
        change(&f, &|sp| sp.acs_urls.retain(|u| u != SP1_ACS));
        let page = f.sign_in_rest().await;
        assert_eq!(page.status, 400, "{backend}");
        assert!(
            page.body.contains("acs_url_not_registered"),
            "{}",
            page.body
        );
        assert!(form_field(&page.body, "SAMLResponse").is_none());
        change(&f, &|sp| sp.acs_urls.insert(0, SP1_ACS.into()));
        // Signed with the second certificate; the list is reordered: still that one.
        f.jar.clear();
        let query = signed_redirect(
            &stamped(&request(SP1, "_h3", "", &[AUTH_ONLY]), f.state.clock.now()),
            "sp1-second-test-only.key",
        );
        f.get(&format!("/api/saml/auth2026?{query}")).await;
        change(&f, &|sp| sp.certs.reverse());
        let page = f.sign_in_rest().await;
        let v = verdict_with(
            &page,
            "sp1-second-test-only.crt",
            "sp1-second-test-only.key",
            "_h3",
        );
        assert_eq!(
            v["valid"], true,
            "{backend}: encrypted to the matching certificate: {v}"
        );
        // Signed with the second certificate, which is then removed.
        f.jar.clear();
        let query = signed_redirect(
            &stamped(&request(SP1, "_h4", "", &[AUTH_ONLY]), f.state.clock.now()),
            "sp1-second-test-only.key",
        );
        f.get(&format!("/api/saml/auth2026?{query}")).await;
        change(&f, &|sp| {
            sp.certs
                .retain(|c| !c.to_pem().is_empty() && sp_first_is(c))
        });
        let page = f.sign_in_rest().await;
        assert_eq!(page.status, 400, "{backend}");
        assert!(form_field(&page.body, "SAMLResponse").is_none());
    }
}

/// True for sp1's first (not the second) test certificate.
fn sp_first_is(cert: &saml_idp::crypto::cert::Certificate) -> bool {
    let first =
        saml_idp::crypto::cert::Certificate::from_pem(common::pem("sp1-test-only.crt").as_bytes())
            .expect("cert");
    cert.sha256_fingerprint() == first.sha256_fingerprint()
}

fn verdict_with(page: &Answer, cert: &str, key: &str, request_id: &str) -> Value {
    assert_eq!(page.status, 200, "{}", page.body);
    let job = json!({
        "sp_entity_id": SP1, "acs_url": SP1_ACS, "sp_cert": common::pem(cert), "sp_key": common::pem(key),
        "idp_entity_id": format!("{}/api/saml", common::BASE_URL), "idp_cert": common::pem("idp-2026-test-only.crt"),
        "saml_response": form_field(&page.body, "SAMLResponse").expect("field"), "request_id": request_id,
        "want_response_signed": false, "want_encrypted": true,
    });
    common::oracles::python3_saml("python3_saml_acs.py", &job)
}

/// One full sign-in from a fresh browser: request, password, code (and consent the first
/// time), Response.
async fn one_sign_in(f: &mut Flow, id: &str) {
    f.jar.clear();
    f.tick(31); // a new TOTP step: a code works once
    let first = f.request(&request(SP1, id, "", &[AUTH_ONLY])).await;
    assert_eq!(first.status, 303);
    let done = f.sign_in_rest().await;
    assert_eq!(done.status, 200, "{}", done.body);
}

/// Purges as `serve` would, at the flow's time.
fn purge(f: &Flow) -> Vec<(&'static str, i64)> {
    let cutoffs = saml_idp::sessions::purge::PurgeCutoffs::at(f.state.clock.now());
    f.state.stores.purger.purge(&cutoffs).expect("purge");
    common::row_counts(&f._db)
}

#[actix_web::test]
async fn row_counts_stay_flat_across_a_thousand_sign_ins_after_the_purge() {
    for (backend, db) in common::every_backend() {
        let mut f = start_on(
            db,
            chrono::TimeZone::timestamp_opt(&Utc, 1_773_576_000, 0)
                .single()
                .expect("time"),
        );
        one_sign_in(&mut f, "_n0").await;
        f.tick(13 * 3600);
        let baseline = purge(&f);
        for i in 1..1_000 {
            one_sign_in(&mut f, &format!("_n{i}")).await;
        }
        f.tick(13 * 3600);
        assert_eq!(purge(&f), baseline, "{backend}");
        assert!(
            baseline
                .iter()
                .all(|(t, n)| *n == 0 || ["agency_identities", "sp_consents"].contains(t)),
            "{backend}: {baseline:?}"
        );
    }
}
