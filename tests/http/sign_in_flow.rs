//! The sign-in flow over HTTP with a cookie jar (SPEC 7): AuthnRequest → sign-in → TOTP →
//! consent → hand-off, for each assurance situation, and every refusal (wrong password,
//! wrong/reused/expired code, CSRF, expired session, suspended user, lock-out, rate limit)
//! leaving no authenticated session.

use crate::common;

use common::flow::*;
use saml_idp::accounts::sealing::{PivRecord, VerifiedProfile};
use saml_idp::accounts::UserStatus;
use saml_idp::sessions::AuditKind;

#[actix_web::test]
async fn auth_only_request_signs_in_consents_and_hands_off() {
    let mut f = start();
    assert_eq!(
        f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
            .await
            .location,
        "/sign-in?locale=en"
    );
    let page = f.get("/sign-in").await;
    assert!(
        page.body.contains("Test SP One") && page.body.contains("href=\"/cancel?locale=en\""),
        "{}",
        page.body
    );
    let after_password = f.password("ada@example.gov", PASSWORD).await;
    assert_eq!(after_password.location, "/api/saml/complete?locale=en");
    assert!(f
        .get(&after_password.location)
        .await
        .location
        .starts_with("/sign-in/mfa"));
    let code = f.code();
    assert_eq!(
        f.second_factor(&code, false).await.location,
        "/api/saml/complete?locale=en"
    );
    let to_consent = f.get("/api/saml/complete").await;
    assert!(to_consent.location.starts_with("/consent"));
    let consent = f.get("/consent").await;
    for shown in [
        "Email address",
        "All email addresses on your account",
        "Test SP One",
    ] {
        assert!(
            consent.body.contains(shown),
            "consent lists {shown}: {}",
            consent.body
        );
    }
    let done = f.complete().await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("Test SP One"), "{}", done.body);
    let events = f.state.stores.audit.recent(20).expect("audit");
    assert!(events
        .iter()
        .any(|e| e.event == AuditKind::SamlAuth && e.success));
    assert!(events.iter().any(|e| e.event == AuditKind::SignInSuccess));
    assert!(
        events
            .iter()
            .all(|e| e.detail.as_deref().is_none_or(|d| !d.contains("ada@"))),
        "no PII in audit events"
    );
}

#[actix_web::test]
async fn a_remembered_browser_satisfies_the_default_aal_but_not_aal2() {
    let mut f = start();
    let default = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
    assert_eq!(f.sign_in_fully(&default, true).await.status, 200);
    assert!(f.jar.contains_key("__Host-saml_idp_remember"));
    f.jar.remove("__Host-saml_idp_session");
    f.tick(60);
    assert_eq!(f.request(&default).await.status, 303);
    f.password("ada@example.gov", PASSWORD).await;
    assert_eq!(
        f.get("/api/saml/complete").await.status,
        200,
        "remembered: no second factor"
    );
    f.jar.remove("__Host-saml_idp_session");
    let aal2 = authn_request(
        SP1,
        "",
        &[
            "urn:acr.login.gov:auth-only",
            "http://idmanagement.gov/ns/assurance/aal/2",
        ],
    );
    assert_eq!(f.request(&aal2).await.status, 303);
    f.password("ada@example.gov", PASSWORD).await;
    assert!(
        f.get("/api/saml/complete")
            .await
            .location
            .starts_with("/sign-in/mfa"),
        "aal/2 needs a fresh second factor"
    );
}

#[actix_web::test]
async fn verified_requests_need_a_verified_user() {
    let mut f = start();
    let profile = VerifiedProfile {
        first_name: Some("Grace".into()),
        ..Default::default()
    };
    add_user(&f.state, "grace@example.gov", Some(profile), None);
    let verified = authn_request(VERIFIED_SP, "", &["urn:acr.login.gov:verified"]);
    let unverified = f.sign_in_fully(&verified, false).await;
    assert_eq!(unverified.status, 403);
    assert!(unverified.body.contains("Verify your identity"));
    assert!(unverified
        .body
        .contains("http://localhost:9003/proofing-failed"));
    f.jar.clear();
    f.tick(60);
    assert_eq!(f.request(&verified).await.status, 303);
    f.password("grace@example.gov", PASSWORD).await;
    let code = f.code();
    f.second_factor(&code, false).await;
    assert!(f
        .get("/api/saml/complete")
        .await
        .location
        .starts_with("/consent"));
    let consent = f.get("/consent").await;
    assert!(
        consent.body.contains("First name")
            && consent.body.contains("When your identity was verified")
    );
    assert_eq!(f.complete().await.status, 200);
}

#[actix_web::test]
async fn phishing_resistant_requests_explain_what_is_missing() {
    let mut f = start();
    let xml = authn_request(
        SP1,
        "",
        &["http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true"],
    );
    assert_eq!(f.request(&xml).await.location, "/sign-in?locale=en");
    let page = f.sign_in_rest().await;
    assert_eq!(page.status, 403);
    assert!(page
        .body
        .contains("A security key or PIV/CAC card is required"));
    assert!(
        page.body.contains("http://localhost:9001/"),
        "links back to the SP"
    );
}

#[actix_web::test]
async fn force_authn_asks_again_once_and_does_not_loop() {
    let mut f = start();
    let plain = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
    assert_eq!(f.sign_in_fully(&plain, false).await.status, 200);
    f.tick(60);
    let force = f
        .request(&authn_request(
            SP1,
            "ForceAuthn=\"true\"",
            &["urn:acr.login.gov:auth-only"],
        ))
        .await;
    assert_eq!(
        (force.status, force.location.as_str()),
        (303, "/sign-in?locale=en"),
        "must authenticate again"
    );
    let after_password = f.password("ada@example.gov", PASSWORD).await;
    assert!(f
        .get(&after_password.location)
        .await
        .location
        .starts_with("/sign-in/mfa"));
    let backup = f.backup[0].clone();
    let after_code = f.second_factor(&backup, false).await;
    assert_eq!(after_code.location, "/api/saml/complete?locale=en");
    assert_eq!(
        f.get(&after_code.location).await.status,
        200,
        "the resumed request completes"
    );
}

#[actix_web::test]
async fn cancel_returns_to_the_sp() {
    let mut f = start();
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    let cancel = f.get("/cancel").await;
    assert_eq!(
        (cancel.status, cancel.location.as_str()),
        (303, "http://localhost:9001/")
    );
    assert!(!f.jar.contains_key("__Host-saml_idp_pending"));
}

/// True when the browser holds an authenticated session (complete would not ask to sign in).
async fn authenticated(f: &mut Flow) -> bool {
    let answer = f
        .request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    !answer.location.starts_with("/sign-in")
}

#[actix_web::test]
async fn wrong_password_and_unknown_email_give_the_same_answer() {
    let mut f = start();
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    let wrong = f.password("ada@example.gov", "not it").await;
    let unknown = f.password("nobody@example.gov", "not it").await;
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert!(wrong.body.contains("The email or password is not correct."));
    // Byte for byte the same page, but for the address each person typed (kept in the
    // field so only the password is typed again).
    assert_eq!(
        wrong.body.replace("ada@example.gov", "TYPED"),
        unknown.body.replace("nobody@example.gov", "TYPED")
    );
    assert!(!authenticated(&mut f).await);
}

#[actix_web::test]
async fn wrong_reused_and_expired_codes_are_refused() {
    let mut f = start();
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    f.password("ada@example.gov", PASSWORD).await;
    assert_eq!(f.second_factor("000000", false).await.status, 401, "wrong");
    let stale = f.code();
    f.tick(120);
    assert_eq!(f.second_factor(&stale, false).await.status, 401, "expired");
    let code = f.code();
    assert_eq!(
        f.second_factor(&code, false).await.status,
        303,
        "fresh code"
    );
    f.jar.remove("__Host-saml_idp_session");
    f.password("ada@example.gov", PASSWORD).await;
    assert_eq!(f.second_factor(&code, false).await.status, 401, "reused");
    assert!(!authenticated(&mut f).await);
}

#[actix_web::test]
async fn missing_or_forged_csrf_and_expired_sessions_are_refused() {
    let mut f = start();
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    f.get("/sign-in").await;
    let missing = f
        .post(
            "/sign-in",
            &[("email", "ada@example.gov"), ("password", PASSWORD)],
        )
        .await;
    let forged = f
        .post(
            "/sign-in",
            &[
                ("csrf", "forged"),
                ("email", "ada@example.gov"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!((missing.status, forged.status), (403, 403));
    assert!(!authenticated(&mut f).await);
    f.password("ada@example.gov", PASSWORD).await;
    let csrf = f.csrf("/sign-in/mfa").await;
    f.tick(16 * 60);
    let code = f.code();
    let expired = f
        .post("/sign-in/mfa", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(expired.status, 401);
    assert!(expired.body.contains("Your session has expired"));
    assert!(!authenticated(&mut f).await);
}

#[actix_web::test]
async fn suspended_users_cannot_sign_in() {
    let mut f = start();
    let id = f.state.stores.accounts.list().expect("list")[0]
        .public_id
        .clone();
    f.state
        .stores
        .accounts
        .set_status(&id, UserStatus::Suspended)
        .expect("suspend");
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    let page = f.password("ada@example.gov", PASSWORD).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("Your account is suspended"));
    assert!(!authenticated(&mut f).await);
}

#[actix_web::test]
async fn ten_failures_lock_the_account_for_ten_minutes() {
    let mut f = start();
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    for _ in 0..9 {
        assert_eq!(f.password("ada@example.gov", "wrong").await.status, 401);
    }
    let locked = f.password("ada@example.gov", "wrong").await;
    assert_eq!(locked.status, 401);
    let still = f.password("ada@example.gov", PASSWORD).await;
    assert_eq!(
        (still.status, &still.body),
        (401, &locked.body),
        "the right password does not open a locked account, and says nothing more"
    );
    assert!(!authenticated(&mut f).await);
    f.tick(11 * 60);
    assert!(f
        .password("ada@example.gov", PASSWORD)
        .await
        .location
        .starts_with("/api/saml/complete"));
}

#[actix_web::test]
async fn one_address_is_rate_limited() {
    let mut f = start();
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    let mut statuses = Vec::new();
    for i in 0..32 {
        statuses.push(
            f.password(&format!("user{i}@example.gov"), "x")
                .await
                .status,
        );
    }
    assert!(statuses[..30].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(statuses[31], 429);
    f.tick(60);
    assert_eq!(
        f.password("nobody@example.gov", "x").await.status,
        401,
        "a new minute"
    );
}

#[actix_web::test]
async fn a_passive_request_without_a_session_does_not_show_pages() {
    let mut f = start();
    let answer = f
        .request(&authn_request(
            SP1,
            "IsPassive=\"true\"",
            &["urn:acr.login.gov:auth-only"],
        ))
        .await;
    assert_eq!(
        answer.status, 200,
        "the (NoPassive) Response at once, no sign-in page"
    );
    assert_eq!(
        f.state.stores.pending.count().expect("count"),
        0,
        "nothing stored"
    );
    assert!(f
        .state
        .stores
        .audit
        .recent(5)
        .expect("audit")
        .iter()
        .any(|e| e.detail.as_deref() == Some("no_passive")));
}

#[actix_web::test]
async fn piv_records_are_sealed() {
    let f = start();
    let piv = PivRecord {
        subject: "CN=Ada".into(),
        issuer: "CN=CA".into(),
    };
    add_user(&f.state, "piv@example.gov", None, Some(piv));
    let users = f.state.stores.accounts.list().expect("list");
    let sealed = users
        .iter()
        .find_map(|u| u.piv_record_sealed.clone())
        .expect("sealed PIV record");
    assert!(sealed.starts_with("v1:") && !sealed.contains("CN=Ada"));
}

/// A new session token at every authentication step (SPEC 7): the token a browser held
/// before its second factor, or before typing its password again, is worth nothing after.
#[actix_web::test]
async fn every_authentication_step_issues_a_new_session_token() {
    let mut f = start();
    f.request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
        .await;
    f.password("ada@example.gov", PASSWORD).await;
    let after_password = f.jar["__Host-saml_idp_session"].clone();
    let code = f.code();
    let done = f.second_factor(&code, false).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let after_code = f.jar["__Host-saml_idp_session"].clone();
    assert_ne!(
        after_password, after_code,
        "the second factor rotates the token"
    );
    assert_eq!(
        f.get("/account").await.status,
        200,
        "the new token is signed in"
    );
    let mine = f.jar.clone();
    f.jar
        .insert("__Host-saml_idp_session".into(), after_password);
    assert_ne!(f.get("/account").await.status, 200, "the old token is dead");
    f.jar = mine;
    // Typing the password again (the account page's re-authentication) rotates it too.
    let csrf = f.csrf("/account/reauthenticate").await;
    let again = f
        .post(
            "/account/reauthenticate",
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(again.status, 303, "{}", again.body);
    let after_reauth = f.jar["__Host-saml_idp_session"].clone();
    assert_ne!(after_code, after_reauth);
    assert_eq!(f.get("/account").await.status, 200);
    f.jar.insert("__Host-saml_idp_session".into(), after_code);
    assert_ne!(f.get("/account").await.status, 200, "the old token is dead");
}
