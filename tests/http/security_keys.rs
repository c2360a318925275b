//! WebAuthn security keys from the outside (SPEC 17, 18), on SQLite and on PostgreSQL when
//! `TEST_DATABASE_URL` is set, with a software ES256 authenticator (`common::soft_key`):
//! a key registered on `/account/security-keys` signs in as the second factor, satisfies a
//! `phishing_resistant` request (python3-saml checks the Response and its
//! AuthnContextClassRef), and every forged or replayed answer — another ceremony's
//! challenge, another origin, another user's key, a used ceremony token, a counter that
//! went back — is refused, stores nothing and counts towards the same lock as a wrong code.

use crate::common;

use serde_json::{json, Value};

use common::flow::*;
use common::soft_key::SoftKey;
use saml_idp::accounts::security_keys::SecurityKeyRecord;
use saml_idp::idp::security_key::{self, Begun, Finish, KeyHolder};

pub(crate) const ORIGIN: &str = common::BASE_URL;
pub(crate) const PHISHING_RESISTANT: &str =
    "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true";
const HSPD12: &str = "http://idmanagement.gov/ns/assurance/aal/2?hspd12=true";
pub(crate) const ADA: &str = "ada@example.gov";
pub(crate) const BOB: &str = "bob@example.gov";
pub(crate) const KEYS: &str = "/account/security-keys";
const KEY_FAILED: &str = "That security key could not be verified.";

pub(crate) fn request(id: &str, contexts: &[&str]) -> String {
    authn_request(SP1, "", contexts).replace("ID=\"_flow\"", &format!("ID=\"{id}\""))
}

pub(crate) fn user_id(f: &Flow, email: &str) -> i64 {
    let (_, lookup) = f.state.account_crypto.email_lookup(email).expect("email");
    f.state
        .stores
        .accounts
        .find_by_email(&lookup)
        .expect("lookup")
        .expect("user")
        .id
}

pub(crate) fn keys_of(f: &Flow, email: &str) -> Vec<SecurityKeyRecord> {
    f.state
        .stores
        .security_keys
        .list_for_user(user_id(f, email))
        .expect("list")
}

fn failures(f: &Flow, email: &str) -> i32 {
    f.state
        .stores
        .accounts
        .get(user_id(f, email))
        .expect("get")
        .expect("user")
        .failed_attempts
}

/// Password and TOTP code, no SAML request: the browser lands on the home page.
pub(crate) async fn sign_in_with_code(f: &mut Flow, email: &str) {
    let pw = f.password(email, PASSWORD).await;
    assert_eq!(pw.location, "/sign-in/mfa?locale=en", "{}", pw.body);
    let code = f.code();
    let done = f.second_factor(&code, false).await;
    assert_eq!(
        done.location, "/?locale=en",
        "{} {}",
        done.status, done.body
    );
    // The next sign-in of this user needs the next TOTP step.
    f.tick(30);
}

/// Options for registering a key: (csrf, ceremony token, options).
pub(crate) async fn registration_options(f: &mut Flow) -> (String, String, Value) {
    f.ceremony(KEYS, "/account/security-keys/options").await
}

pub(crate) async fn finish_registration(
    f: &mut Flow,
    csrf: &str,
    ceremony: &str,
    name: &str,
    response: &str,
) -> Answer {
    f.post(
        KEYS,
        &[
            ("csrf", csrf),
            ("name", name),
            ("ceremony", ceremony),
            ("response", response),
        ],
    )
    .await
}

pub(crate) async fn register(f: &mut Flow, key: &mut SoftKey, name: &str) -> Answer {
    let (csrf, ceremony, options) = registration_options(f).await;
    let response = key.register(&options, ORIGIN);
    finish_registration(f, &csrf, &ceremony, name, &response).await
}

/// Options for signing in with a key: (csrf, ceremony token, options).
pub(crate) async fn sign_in_options(f: &mut Flow) -> (String, String, Value) {
    f.ceremony("/sign-in/mfa?locale=en", "/sign-in/security-key/options")
        .await
}

pub(crate) async fn post_assertion(
    f: &mut Flow,
    csrf: &str,
    ceremony: &str,
    response: &str,
) -> Answer {
    f.post(
        "/sign-in/security-key",
        &[
            ("csrf", csrf),
            ("ceremony", ceremony),
            ("response", response),
        ],
    )
    .await
}

pub(crate) async fn sign_in_with_key(f: &mut Flow, key: &mut SoftKey) -> Answer {
    let (csrf, ceremony, options) = sign_in_options(f).await;
    let response = key.sign(&options, ORIGIN);
    post_assertion(f, &csrf, &ceremony, &response).await
}

fn assert_phishing_resistant_response(page: &Answer, request_id: &str) {
    assert_eq!(page.status, 200, "{}", page.body);
    let v = python_verdict(page, &PYTHON_SP1, request_id);
    assert_eq!(v["valid"], true, "python3-saml refused: {v}");
    assert_eq!(v["in_response_to"], request_id);
    assert_eq!(v["authn_contexts"], json!([PHISHING_RESISTANT]), "{v}");
}

#[actix_web::test]
async fn a_key_added_on_the_account_page_satisfies_phishing_resistant_requests() {
    for (backend, db) in common::every_backend() {
        let mut f = start_on(db, common::wall_clock());
        add_user(&f.state, BOB, None, None);
        sign_in_with_code(&mut f, ADA).await;
        let empty = f.get(KEYS).await;
        assert_eq!(empty.status, 200, "{backend}");
        assert!(empty.body.contains("You have no security keys yet."));
        assert!(empty.body.contains("A security key needs JavaScript."));
        assert!(empty
            .body
            .contains("<script src=\"/static/webauthn.js\"></script>"));
        let mut key = SoftKey::new();
        let added = register(&mut f, &mut key, "  Blue key ").await;
        assert_eq!(
            (added.status, added.location.as_str()),
            (303, "/account/security-keys?locale=en&done=added"),
            "{backend}: {}",
            added.body
        );
        let listed = f.get(&added.location).await;
        assert!(listed.body.contains("Your security key was added."));
        assert!(listed.body.contains("<td>Blue key</td>"), "{}", listed.body);
        let stored = keys_of(&f, ADA);
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].credential_id, key.id_text());
        assert_eq!(stored[0].last_used_at, None);

        // Signed in with a code: a phishing-resistant request asks for the key only.
        let asked = f.request(&request("_pr1", &[PHISHING_RESISTANT])).await;
        assert_eq!(
            asked.location, "/sign-in/mfa?locale=en&key=required",
            "{backend}: {} {}",
            asked.status, asked.body
        );
        let page = f.get(&asked.location).await;
        assert!(page.body.contains("Use your security key"));
        assert!(page.body.contains("use one of your security keys"));
        assert!(!page.body.contains("name=\"code\""), "no code form then");
        // A refused key keeps that page as it was.
        let (csrf, ceremony, options) = sign_in_options(&mut f).await;
        let phished = key.sign(&options, "https://evil.example");
        let refused = f
            .post(
                "/sign-in/security-key?locale=en&key=required",
                &[
                    ("csrf", &csrf),
                    ("ceremony", &ceremony),
                    ("response", &phished),
                ],
            )
            .await;
        assert_eq!(refused.status, 401, "{backend}");
        assert!(refused.body.contains(KEY_FAILED));
        assert!(
            !refused.body.contains("name=\"code\""),
            "{backend}: still key only"
        );
        let done = sign_in_with_key(&mut f, &mut key).await;
        assert_eq!(
            done.location, "/api/saml/complete?locale=en",
            "{backend}: {}",
            done.body
        );
        let response = f.complete().await;
        assert_phishing_resistant_response(&response, "_pr1");
        let used = keys_of(&f, ADA);
        assert!(
            used[0].last_used_at.is_some(),
            "{backend}: last use recorded"
        );
        assert_ne!(
            used[0].credential, stored[0].credential,
            "the counter moved on"
        );

        // A new browser: password, then the key, and the SP gets its Response.
        f.jar.clear();
        let first = f.request(&request("_pr2", &[PHISHING_RESISTANT])).await;
        assert_eq!(first.location, "/sign-in?locale=en", "{backend}");
        let pw = f.password(ADA, PASSWORD).await;
        let ask = f.get(&pw.location).await;
        assert_eq!(ask.location, "/sign-in/mfa?locale=en&key=required");
        let done = sign_in_with_key(&mut f, &mut key).await;
        assert_eq!(done.location, "/api/saml/complete?locale=en");
        let response = f.complete().await;
        assert_phishing_resistant_response(&response, "_pr2");
        // The same session answers the next phishing-resistant request at once.
        let again = f.request(&request("_pr3", &[PHISHING_RESISTANT])).await;
        assert_phishing_resistant_response(&again, "_pr3");
        // hspd12 (PIV/CAC) stays refused, key or not.
        let piv = f.request(&request("_piv", &[HSPD12])).await;
        assert_eq!(piv.status, 403, "{backend}");
        assert!(piv
            .body
            .contains("A security key or PIV/CAC card is required"));

        // A user without a key still gets the page that says so.
        f.jar.clear();
        f.request(&request("_bob", &[PHISHING_RESISTANT])).await;
        let pw = f.password(BOB, PASSWORD).await;
        let refused = f.get(&pw.location).await;
        assert_eq!(refused.status, 403, "{backend}");
        assert!(refused
            .body
            .contains("A security key or PIV/CAC card is required"));
    }
}

#[actix_web::test]
async fn the_second_factor_page_offers_the_key_next_to_the_code() {
    for (backend, mut f) in every_backend() {
        sign_in_with_code(&mut f, ADA).await;
        let mut key = SoftKey::new();
        register(&mut f, &mut key, "Blue key").await;
        f.jar.clear();
        f.password(ADA, PASSWORD).await;
        let page = f.get("/sign-in/mfa?locale=fr").await;
        assert!(
            page.body.contains("Utiliser votre clé de sécurité"),
            "{backend}"
        );
        assert!(page.body.contains("name=\"code\""), "the code still works");
        assert!(page
            .body
            .contains("data-options=\"/sign-in/security-key/options?locale=fr\""));
        let done = sign_in_with_key(&mut f, &mut key).await;
        assert_eq!(done.location, "/?locale=en", "{backend}: {}", done.body);
        assert_eq!(f.get(KEYS).await.status, 200, "{backend}: fully signed in");
        // A user without keys sees only the code form; their options are 404.
        f.jar.clear();
        add_user(&f.state, BOB, None, None);
        f.password(BOB, PASSWORD).await;
        let plain = f.get("/sign-in/mfa").await;
        assert!(!plain.body.contains("webauthn"), "{backend}");
        let csrf = f.csrf("/sign-in/mfa").await;
        let none = f
            .post("/sign-in/security-key/options", &[("csrf", &csrf)])
            .await;
        assert_eq!(none.status, 404, "{backend}");
    }
}

#[actix_web::test]
async fn forged_and_replayed_assertions_are_refused_store_nothing_and_count() {
    for (backend, mut f) in every_backend() {
        add_user(&f.state, BOB, None, None);
        sign_in_with_code(&mut f, BOB).await;
        let mut bobs = SoftKey::new();
        register(&mut f, &mut bobs, "Bob's key").await;
        f.jar.clear();
        sign_in_with_code(&mut f, ADA).await;
        let mut key = SoftKey::new();
        register(&mut f, &mut key, "Ada's key").await;
        let before = keys_of(&f, ADA);
        f.jar.clear();
        f.tick(61);
        f.password(ADA, PASSWORD).await;

        // Another ceremony's challenge.
        let (csrf, _first, options) = sign_in_options(&mut f).await;
        let (_, second, _) = sign_in_options(&mut f).await;
        let signed = key.sign(&options, ORIGIN);
        let wrong = post_assertion(&mut f, &csrf, &second, &signed).await;
        assert_eq!(wrong.status, 401, "{backend}: {}", wrong.body);
        assert!(wrong.body.contains(KEY_FAILED));
        // Another origin (a phishing site relaying the challenge).
        let (csrf, ceremony, options) = sign_in_options(&mut f).await;
        let phished = key.sign(&options, "https://idp.test.example.gov.evil.example");
        let wrong = post_assertion(&mut f, &csrf, &ceremony, &phished).await;
        assert_eq!(wrong.status, 401, "{backend}");
        // Another user's key.
        let (csrf, ceremony, options) = sign_in_options(&mut f).await;
        let foreign = bobs.sign(&options, ORIGIN);
        let wrong = post_assertion(&mut f, &csrf, &ceremony, &foreign).await;
        assert_eq!(wrong.status, 401, "{backend}");
        // Not a credential at all.
        let (csrf, ceremony, _) = sign_in_options(&mut f).await;
        let wrong = post_assertion(&mut f, &csrf, &ceremony, "{\"id\":").await;
        assert_eq!(wrong.status, 401, "{backend}");
        assert_eq!(
            failures(&f, ADA),
            4,
            "{backend}: each counts like a wrong code"
        );
        assert_eq!(keys_of(&f, ADA), before, "{backend}: nothing stored");
        let complete = f.get("/sign-in/mfa").await;
        assert_eq!(
            complete.status, 200,
            "{backend}: still at the second factor"
        );

        // A new browser: one good answer, then its replay and a counter that went back.
        f.jar.clear();
        f.tick(61);
        f.password(ADA, PASSWORD).await;
        let (csrf, ceremony, options) = sign_in_options(&mut f).await;
        let good = key.sign(&options, ORIGIN);
        let ok = post_assertion(&mut f, &csrf, &ceremony, &good).await;
        assert_eq!(ok.location, "/?locale=en", "{backend}: {}", ok.body);
        assert_eq!(
            failures(&f, ADA),
            0,
            "{backend}: a complete sign-in resets the count"
        );
        let after_use = keys_of(&f, ADA);
        let replay = post_assertion(&mut f, &csrf, &ceremony, &good).await;
        assert_eq!(replay.status, 401, "{backend}: a used ceremony token");
        let stored_counter = key.counter;
        let (csrf, ceremony, options) = sign_in_options(&mut f).await;
        key.counter = stored_counter - 2;
        let cloned = key.sign(&options, ORIGIN);
        let wrong = post_assertion(&mut f, &csrf, &ceremony, &cloned).await;
        assert_eq!(wrong.status, 401, "{backend}: a counter that went back");
        let (csrf, ceremony, options) = sign_in_options(&mut f).await;
        key.counter = stored_counter - 1;
        let same = key.sign(&options, ORIGIN);
        let wrong = post_assertion(&mut f, &csrf, &ceremony, &same).await;
        assert_eq!(wrong.status, 401, "{backend}: the same counter again");
        assert_eq!(keys_of(&f, ADA), after_use, "{backend}: nothing stored");
        assert_eq!(failures(&f, ADA), 3, "{backend}");
    }
}

#[actix_web::test]
async fn key_failures_lock_the_account_and_end_the_session_like_wrong_codes() {
    for (backend, mut f) in every_backend() {
        sign_in_with_code(&mut f, ADA).await;
        let mut key = SoftKey::new();
        register(&mut f, &mut key, "Ada's key").await;
        // Five refused answers in one browser end its session.
        f.jar.clear();
        f.tick(61);
        f.password(ADA, PASSWORD).await;
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let (csrf, ceremony, options) = sign_in_options(&mut f).await;
            let phished = key.sign(&options, "https://evil.example");
            statuses.push(
                post_assertion(&mut f, &csrf, &ceremony, &phished)
                    .await
                    .status,
            );
        }
        assert_eq!(statuses, [401; 5], "{backend}");
        let gone = f.get("/sign-in/mfa").await;
        assert_eq!(
            gone.location, "/sign-in?locale=en",
            "{backend}: the session ended"
        );
        // Four wrong passwords, then one more refused key: ten failures lock the account.
        f.tick(61);
        for _ in 0..4 {
            assert_eq!(f.password(ADA, "wrong password").await.status, 401);
        }
        f.password(ADA, PASSWORD).await;
        let (csrf, ceremony, options) = sign_in_options(&mut f).await;
        let phished = key.sign(&options, "https://evil.example");
        let locked = post_assertion(&mut f, &csrf, &ceremony, &phished).await;
        assert_eq!(locked.status, 403, "{backend}: {}", locked.body);
        assert!(locked.body.contains("This account is locked"), "{backend}");
        // Locked: even the right key and password are refused now.
        f.tick(61);
        let pw = f.password(ADA, PASSWORD).await;
        assert_eq!(pw.status, 401, "{backend}: locked at the password step too");
    }
}

#[actix_web::test]
async fn refused_registrations_store_nothing() {
    for (backend, mut f) in every_backend() {
        add_user(&f.state, BOB, None, None);
        sign_in_with_code(&mut f, ADA).await;
        let mut key = SoftKey::new();
        // Another origin.
        let (csrf, ceremony, options) = registration_options(&mut f).await;
        let phished = key.register(&options, "https://evil.example");
        let refused = finish_registration(&mut f, &csrf, &ceremony, "Key", &phished).await;
        assert_eq!(refused.status, 400, "{backend}: {}", refused.body);
        assert!(refused.body.contains("could not be registered"));
        // Another ceremony's challenge.
        let (csrf, first, options) = registration_options(&mut f).await;
        let (_, second, _) = registration_options(&mut f).await;
        let answer = key.register(&options, ORIGIN);
        let refused = finish_registration(&mut f, &csrf, &second, "Key", &answer).await;
        assert_eq!(refused.status, 400, "{backend}");
        // A name that is too long, or empty, is refused before the ceremony is used.
        let long = "k".repeat(65);
        let refused = finish_registration(&mut f, &csrf, &first, &long, &answer).await;
        assert_eq!(refused.status, 400, "{backend}");
        assert!(refused.body.contains("1 to 64 characters"));
        assert!(keys_of(&f, ADA).is_empty(), "{backend}: nothing stored");
        let ok = finish_registration(&mut f, &csrf, &first, "Key", &answer).await;
        assert_eq!(ok.status, 303, "{backend}: {}", ok.body);
        // The same ceremony token again.
        let replay = finish_registration(&mut f, &csrf, &first, "Key 2", &answer).await;
        assert_eq!(replay.status, 400, "{backend}");
        assert!(replay.body.contains("took too long"));
        // The same key again, in a new ceremony: the ceremony excludes it.
        let again = register(&mut f, &mut key, "Same key").await;
        assert_eq!(again.status, 400, "{backend}");
        assert_eq!(keys_of(&f, ADA).len(), 1, "{backend}");
        // A ceremony begun in Ada's session cannot register a key for Bob.
        let (_, ada_ceremony, ada_options) = registration_options(&mut f).await;
        let mut other = SoftKey::new();
        let answer = other.register(&ada_options, ORIGIN);
        f.jar.clear();
        sign_in_with_code(&mut f, BOB).await;
        let bob_csrf = f.csrf(KEYS).await;
        let refused = finish_registration(&mut f, &bob_csrf, &ada_ceremony, "Key", &answer).await;
        assert_eq!(refused.status, 400, "{backend}");
        // Ada's key cannot be Bob's too.
        let taken = register(&mut f, &mut key, "Ada's key").await;
        assert_eq!(taken.status, 409, "{backend}");
        assert!(taken.body.contains("already registered"));
        assert!(keys_of(&f, BOB).is_empty(), "{backend}");
        assert_eq!(keys_of(&f, ADA).len(), 1, "{backend}");
    }
}

/// A user with a security key and no authentication app, created the way sign-up will:
/// the ceremony's use cases, then the store.
fn add_key_only_user(f: &Flow, email: &str, key: &mut SoftKey) {
    use saml_idp::accounts::{password, EmailRecord, NewUser};
    let crypto = &f.state.account_crypto;
    let (normalized, lookup) = crypto.email_lookup(email).expect("email");
    let public_id: uuid::Uuid = common::random_uuid().parse().expect("a UUID");
    let user = NewUser {
        public_id: public_id.to_string(),
        password_hash: password::hash_password(PASSWORD).expect("hash"),
        totp_secret_sealed: None,
        locale: "en".into(),
        emails: vec![EmailRecord {
            sealed: crypto.seal_email(&normalized, &lookup).expect("seal"),
            lookup,
            for_sign_in: true,
        }],
        backup_code_hashes: Vec::new(),
        verified_at: None,
        verified_profile_sealed: None,
        piv_record_sealed: None,
    };
    let deps = f.state.deps();
    let holder = KeyHolder {
        handle: public_id,
        user_id: None,
        name: email,
        display_name: email,
    };
    let Begun::Ceremony(ceremony) =
        security_key::begin_registration(&deps, &holder, &[]).expect("begin")
    else {
        panic!("no ceremony");
    };
    let options: Value = serde_json::from_str(&ceremony.options).expect("options");
    let answer = key.register(&options, ORIGIN);
    let Finish::Done(registered) =
        security_key::finish_registration(&deps, &ceremony.token, public_id, &answer)
            .expect("finish")
    else {
        panic!("registration refused");
    };
    // Nothing was stored by the ceremony itself: the user does not exist yet.
    let id = f
        .state
        .stores
        .accounts
        .create(&user, deps.now)
        .expect("create");
    f.state
        .stores
        .security_keys
        .add(&registered.for_user(id, "First key".into()), deps.now)
        .expect("add")
        .expect("new credential");
}

#[actix_web::test]
async fn the_last_second_factor_cannot_be_removed() {
    for (backend, mut f) in every_backend() {
        let mut first = SoftKey::new();
        add_key_only_user(&f, "carol@example.gov", &mut first);
        let pw = f.password("carol@example.gov", PASSWORD).await;
        assert_eq!(pw.location, "/sign-in/mfa?locale=en", "{backend}");
        let done = sign_in_with_key(&mut f, &mut first).await;
        assert_eq!(done.location, "/?locale=en", "{backend}: {}", done.body);
        let keys = keys_of(&f, "carol@example.gov");
        let csrf = f.csrf(KEYS).await;
        let only = keys[0].id;
        let refused = f
            .post(&format!("{KEYS}/{only}/remove"), &[("csrf", &csrf)])
            .await;
        assert_eq!(refused.status, 409, "{backend}: {}", refused.body);
        assert!(refused.body.contains("This is your only way"));
        let mut second = SoftKey::new();
        let added = register(&mut f, &mut second, "Second key").await;
        assert_eq!(added.status, 303, "{backend}: {}", added.body);
        // Someone else's key id, or one that does not exist: 404.
        let missing = f
            .post(
                &format!("{KEYS}/{}/remove", only + 1000),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(missing.status, 404, "{backend}");
        let removed = f
            .post(&format!("{KEYS}/{only}/remove"), &[("csrf", &csrf)])
            .await;
        assert_eq!(
            removed.location, "/account/security-keys?locale=en&done=removed",
            "{backend}"
        );
        let left = keys_of(&f, "carol@example.gov");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].credential_id, second.id_text());
        // Ada has an authentication app: her only key may go.
        f.jar.clear();
        sign_in_with_code(&mut f, ADA).await;
        let mut key = SoftKey::new();
        register(&mut f, &mut key, "Ada's key").await;
        let id = keys_of(&f, ADA)[0].id;
        let csrf = f.csrf(KEYS).await;
        // Carol's key is not Ada's to remove.
        let theirs = f
            .post(&format!("{KEYS}/{}/remove", left[0].id), &[("csrf", &csrf)])
            .await;
        assert_eq!(theirs.status, 404, "{backend}");
        let removed = f
            .post(&format!("{KEYS}/{id}/remove"), &[("csrf", &csrf)])
            .await;
        assert_eq!(removed.status, 303, "{backend}");
        assert!(keys_of(&f, ADA).is_empty());
        assert_eq!(keys_of(&f, "carol@example.gov").len(), 1);
    }
}

#[actix_web::test]
async fn the_account_page_needs_a_full_sign_in_and_a_recent_password() {
    let mut f = start();
    let anonymous = f.get(KEYS).await;
    assert_eq!(anonymous.location, "/sign-in?locale=en");
    f.password(ADA, PASSWORD).await;
    let half = f.get("/account/security-keys?locale=es").await;
    assert_eq!(
        half.location, "/sign-in?locale=es",
        "past the password only"
    );
    let code = f.code();
    f.second_factor(&code, false).await;
    assert_eq!(f.get(KEYS).await.status, 200);
    // Wrong CSRF token: refused.
    let forged = f
        .post("/account/security-keys/options", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    let wrong_method = f.get("/account/security-keys/options").await;
    assert_eq!(wrong_method.status, 405);
    // Active, but the password was entered 16 minutes ago.
    let csrf = f.csrf(KEYS).await;
    f.tick(10 * 60);
    assert_eq!(f.get(KEYS).await.status, 200);
    f.tick(6 * 60);
    // The browser chose Spanish with `?locale=es` above; the choice is kept until changed.
    assert!(f.get("/?locale=en").await.body.contains("lang=\"en\""));
    let stale = f.get(KEYS).await;
    assert_eq!(stale.location, "/sign-in?locale=en&notice=reauthenticate");
    let post = f
        .post("/account/security-keys/options", &[("csrf", &csrf)])
        .await;
    assert_eq!(post.location, "/sign-in?locale=en&notice=reauthenticate");
    let notice = f.get(&stale.location).await;
    assert!(notice
        .body
        .contains("enter your password again before changing your account"));
    let script = f.get("/static/webauthn.js").await;
    assert_eq!(script.status, 200);
    assert!(script.body.contains("navigator.credentials.create"));
}

/// A key counts as a second factor on the account page: with one registered, the
/// authenticator app may be removed, and then the key is the last factor and stays.
#[actix_web::test]
async fn with_a_key_the_authenticator_app_can_be_removed_and_then_the_key_stays() {
    for (backend, mut f) in every_backend() {
        sign_in_with_code(&mut f, ADA).await;
        let mut key = SoftKey::new();
        let added = register(&mut f, &mut key, "Desk key").await;
        assert_eq!(added.status, 303, "{backend}: {}", added.body);
        let page = f.get("/account").await;
        assert_eq!(page.status, 200, "{backend}: {}", page.body);
        let csrf = form_field(&page.body, "csrf").expect("csrf");
        let removed = f.post("/account/totp/remove", &[("csrf", &csrf)]).await;
        assert_eq!(
            removed.location, "/account?locale=en&done=totp_removed",
            "{backend}: {}",
            removed.body
        );
        let user = f.state.stores.accounts.get(user_id(&f, ADA)).expect("get");
        assert!(user.expect("ada").totp_secret_sealed.is_none(), "{backend}");
        let only = keys_of(&f, ADA)[0].id;
        let csrf = f.csrf(KEYS).await;
        let refused = f
            .post(&format!("{KEYS}/{only}/remove"), &[("csrf", &csrf)])
            .await;
        assert_eq!(
            refused.status, 409,
            "{backend}: the key is now the last factor"
        );
        assert_eq!(keys_of(&f, ADA).len(), 1, "{backend}");
    }
}
