//! AAL3 from the outside (SPEC 18), on SQLite, with the software authenticator of
//! `common::soft_key` and a TEST-ONLY attestation root made at run time: an SP's `aal/3`
//! request is answered with `…/aal/3` (python3-saml reads the AuthnContextClassRef) only
//! after an assertion with user verification from a key whose `packed` attestation chains
//! to a root of `[webauthn] aal3_attestation_roots` and that is not backup eligible. A key
//! without attestation, or a synced one, gets the page that says a hardware key is needed
//! (and stays good for `aal/2?phishing_resistant=true`); with no root configured every
//! `aal/3` request gets that page. Sign-up with a key obeys the same rules.

use crate::common;
use crate::security_keys::{
    finish_registration, keys_of, post_assertion, register, registration_options, request,
    sign_in_options, sign_in_with_code, sign_in_with_key, ADA, BOB, ORIGIN, PHISHING_RESISTANT,
};
use crate::sign_up::{sign_up_key, up_to_the_second_factor, NEW_EMAIL};

use serde_json::{json, Value};

use common::flow::*;
use common::mail::RecordingMailer;
use common::soft_key::{SoftKey, TestAttestationCa};
use saml_idp::accounts::security_keys::Attestation;

const AAL3: &str = "http://idmanagement.gov/ns/assurance/aal/3";
const CAROL: &str = "carol@example.gov";
const DAN: &str = "dan@example.gov";
const HARDWARE_KEY_PAGE: &str = "A hardware security key is required";

/// A flow at the real time (python3-saml checks validity windows, openssl the root's) whose
/// configuration lists `ca`'s root; the directory holding it lives as long as the flow.
fn flow_trusting(ca: &TestAttestationCa) -> (Flow, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("TEST-ONLY-attestation-root.pem");
    std::fs::write(&root, &ca.root_pem).expect("write root");
    let f = start_configured(common::sqlite_db(), common::wall_clock(), |config| {
        config.aal3_attestation_roots = vec![root];
    });
    (f, dir)
}

/// python3-saml's AuthnContextClassRefs of the hand-off page's Response.
fn authn_contexts(page: &Answer, request_id: &str) -> Value {
    assert_eq!(page.status, 200, "{}", page.body);
    let v = python_verdict(page, &PYTHON_SP1, request_id);
    assert_eq!(v["valid"], true, "python3-saml refused: {v}");
    v["authn_contexts"].clone()
}

/// A new browser sends `contexts` for `email`, who types the password: the page of the
/// step that follows.
async fn after_password(f: &mut Flow, id: &str, contexts: &[&str], email: &str) -> Answer {
    f.jar.clear();
    let first = f.request(&request(id, contexts)).await;
    assert_eq!(first.location, "/sign-in?locale=en", "{id}: {}", first.body);
    let pw = f.password(email, PASSWORD).await;
    f.get(&pw.location).await
}

/// As `after_password`, then the key is asked for and answers: the page that
/// `/api/saml/complete` gives next.
async fn with_key(
    f: &mut Flow,
    id: &str,
    contexts: &[&str],
    email: &str,
    key: &mut SoftKey,
) -> Answer {
    let ask = after_password(f, id, contexts, email).await;
    assert_eq!(ask.location, "/sign-in/mfa?locale=en&key=required", "{id}");
    let done = sign_in_with_key(f, key).await;
    let onward = "/api/saml/complete?locale=en";
    assert_eq!(done.location, onward, "{id}: {}", done.body);
    f.complete().await
}

fn credential_ids(options: &Value) -> Vec<String> {
    let allowed = options["publicKey"]["allowCredentials"]
        .as_array()
        .expect("allowCredentials");
    allowed
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect()
}

#[actix_web::test]
async fn only_an_attested_key_that_is_not_synced_and_verifies_its_user_gets_aal3() {
    let ca = TestAttestationCa::new("TEST-ONLY Key Vendor");
    let (mut f, _root) = flow_trusting(&ca);
    for email in [BOB, CAROL, DAN] {
        add_user(&f.state, email, None, None);
    }
    // (a) no attestation; (b) packed, chained to the root; (c) as (b), backup eligible
    // (a synced passkey); (d) as (b), without user verification.
    let mut plain = SoftKey::new();
    let mut hardware = SoftKey::attested(&ca.attester);
    let mut synced = SoftKey::attested(&ca.attester);
    synced.backup_eligible = true;
    let mut no_pin = SoftKey::attested(&ca.attester);
    no_pin.user_verification = false;
    let keys = [
        (ADA, &mut plain),
        (BOB, &mut hardware),
        (CAROL, &mut synced),
        (DAN, &mut no_pin),
    ];
    for (email, key) in keys {
        f.jar.clear();
        sign_in_with_code(&mut f, email).await;
        let (csrf, ceremony, options) = registration_options(&mut f).await;
        assert_eq!(
            options["publicKey"]["attestation"], "direct",
            "with a root configured, attestation is asked for"
        );
        let answer = key.register(&options, ORIGIN);
        let added = finish_registration(&mut f, &csrf, &ceremony, "My key", &answer).await;
        assert_eq!(
            added.status, 303,
            "{email}: any key registers: {}",
            added.body
        );
    }
    let stored = |email| {
        let key = &keys_of(&f, email)[0];
        (key.attestation, key.backup_eligible)
    };
    assert_eq!(stored(ADA), (Attestation::Absent, false));
    assert_eq!(stored(BOB), (Attestation::Trusted, false));
    assert_eq!(stored(CAROL), (Attestation::Trusted, true));
    assert_eq!(stored(DAN), (Attestation::Trusted, false));

    // (b): the key is asked for, with user verification required, and the SP gets aal/3.
    let ask = after_password(&mut f, "_aal3_b", &[AAL3], BOB).await;
    assert_eq!(ask.location, "/sign-in/mfa?locale=en&key=required");
    let (csrf, ceremony, options) = sign_in_options(&mut f).await;
    assert_eq!(options["publicKey"]["userVerification"], "required");
    assert_eq!(credential_ids(&options), [hardware.id_text()]);
    let signed = hardware.sign(&options, ORIGIN);
    let done = post_assertion(&mut f, &csrf, &ceremony, &signed).await;
    assert_eq!(
        done.location, "/api/saml/complete?locale=en",
        "{}",
        done.body
    );
    let response = f.complete().await;
    assert_eq!(authn_contexts(&response, "_aal3_b"), json!([AAL3]));
    // The same session answers the next aal/3 request at once.
    let again = f.request(&request("_aal3_b2", &[AAL3])).await;
    assert_eq!(authn_contexts(&again, "_aal3_b2"), json!([AAL3]));

    // (a) and (c): the page that says a hardware key is needed, no Response.
    for (email, id) in [(ADA, "_aal3_a"), (CAROL, "_aal3_c")] {
        let page = after_password(&mut f, id, &[AAL3], email).await;
        assert_eq!(page.status, 403, "{email}: {} {}", page.location, page.body);
        assert!(page.body.contains(HARDWARE_KEY_PAGE), "{email}");
        assert!(!page.body.contains("SAMLResponse"), "{email}");
    }
    // (c) stays phishing resistant: aal/2?phishing_resistant=true, and no more.
    let response = with_key(&mut f, "_pr_c", &[PHISHING_RESISTANT], CAROL, &mut synced).await;
    assert_eq!(
        authn_contexts(&response, "_pr_c"),
        json!([PHISHING_RESISTANT])
    );
    let refused = f.request(&request("_aal3_c2", &[AAL3])).await;
    assert_eq!(refused.status, 403, "a synced key's session is not AAL3");
    assert!(refused.body.contains(HARDWARE_KEY_PAGE));

    // (d): an assertion without user verification is AAL2: the key is asked for again.
    let again = with_key(&mut f, "_aal3_d", &[AAL3], DAN, &mut no_pin).await;
    assert_eq!(
        (again.status, again.location.as_str()),
        (303, "/sign-in/mfa?locale=en&key=required"),
        "no aal/3 without user verification: {}",
        again.body
    );
}

#[actix_web::test]
async fn with_no_attestation_root_an_aal3_request_shows_the_hardware_key_page() {
    let ca = TestAttestationCa::new("TEST-ONLY Key Vendor");
    let mut f = start_at(common::wall_clock());
    sign_in_with_code(&mut f, ADA).await;
    let (csrf, ceremony, options) = registration_options(&mut f).await;
    assert_eq!(
        options["publicKey"]["attestation"], "none",
        "nothing to check it against"
    );
    let mut key = SoftKey::attested(&ca.attester);
    let answer = key.register(&options, ORIGIN);
    let added = finish_registration(&mut f, &csrf, &ceremony, "Key", &answer).await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(keys_of(&f, ADA)[0].attestation, Attestation::Untrusted);

    for (email, id) in [(ADA, "_no_roots_key"), (BOB, "_no_roots_none")] {
        if email == BOB {
            add_user(&f.state, BOB, None, None);
        }
        let page = after_password(&mut f, id, &[AAL3], email).await;
        assert_eq!(page.status, 403, "{email}: {} {}", page.location, page.body);
        assert!(page.body.contains(HARDWARE_KEY_PAGE), "{email}");
        assert!(
            page.body.contains("href=\"http://localhost:9001/\""),
            "{email}: the way back to the SP: {}",
            page.body
        );
    }
    // The same key still signs in at aal/2?phishing_resistant=true.
    let response = with_key(&mut f, "_no_roots_pr", &[PHISHING_RESISTANT], ADA, &mut key).await;
    assert_eq!(
        authn_contexts(&response, "_no_roots_pr"),
        json!([PHISHING_RESISTANT])
    );
}

/// Sign-up with a key from an SP's `aal/3` request: a synced key ends at the hardware-key
/// page, a hardware-bound one at the SP with `aal/3`.
#[actix_web::test]
async fn a_sign_up_with_a_key_is_aal3_only_for_a_hardware_bound_key() {
    let ca = TestAttestationCa::new("TEST-ONLY Key Vendor");
    for (backup_eligible, id) in [(true, "_signup_synced"), (false, "_signup_bound")] {
        let (mut f, _root) = flow_trusting(&ca);
        let mailer = RecordingMailer::new();
        f.state = f.state.clone().with_mailer(mailer.clone());
        let first = f.request(&request(id, &[AAL3])).await;
        assert_eq!(first.location, "/sign-in?locale=en");
        up_to_the_second_factor(&mut f, &mailer, NEW_EMAIL).await;
        let mut key = SoftKey::attested(&ca.attester);
        key.backup_eligible = backup_eligible;
        let done = sign_up_key(&mut f, &mut key, "Key", ORIGIN).await;
        assert_eq!(done.status, 200, "{id}: {}", done.body);
        let handoff = f.complete().await;
        if backup_eligible {
            assert_eq!(handoff.status, 403, "{id}: {}", handoff.body);
            assert!(handoff.body.contains(HARDWARE_KEY_PAGE), "{id}");
        } else {
            assert_eq!(authn_contexts(&handoff, id), json!([AAL3]), "{id}");
        }
    }
}

/// A key stored before attestation was judged (a migrated row: `none`) is not AAL3, even if
/// the same authenticator would be: only the registration's verdict counts.
#[actix_web::test]
async fn keys_stored_before_the_verdict_existed_are_not_aal3() {
    let ca = TestAttestationCa::new("TEST-ONLY Key Vendor");
    let (mut f, _root) = flow_trusting(&ca);
    sign_in_with_code(&mut f, ADA).await;
    let mut key = SoftKey::attested(&ca.attester);
    let added = register(&mut f, &mut key, "Key").await;
    assert_eq!(added.status, 303);
    // As a migrated row: stored before the verdict existed.
    let stored = keys_of(&f, ADA).remove(0);
    f.state
        .stores
        .security_keys
        .remove(stored.id, stored.user_id)
        .expect("remove");
    let old = saml_idp::accounts::security_keys::NewSecurityKey {
        user_id: stored.user_id,
        name: stored.name,
        credential_id: stored.credential_id,
        credential: stored.credential,
        attestation: Attestation::Absent,
        backup_eligible: false,
    };
    f.state
        .stores
        .security_keys
        .add(&old, f.state.clock.now())
        .expect("add")
        .expect("new");
    let page = after_password(&mut f, "_old_key", &[AAL3], ADA).await;
    assert_eq!(page.status, 403, "{} {}", page.location, page.body);
    assert!(page.body.contains(HARDWARE_KEY_PAGE));
}
