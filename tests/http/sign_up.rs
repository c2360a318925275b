//! Creating an account and resetting a password (SPEC 17), from the outside, on SQLite and
//! on PostgreSQL when `TEST_DATABASE_URL` is set: sign-up started at an SP's sign-in page
//! ends at that SP with a Response python3-saml accepts; nothing exists before the second
//! factor is proven; links are single-use, expire and cannot be forged; a known address gets
//! the same page and its owner an email; a mail queue that fails is an outage and leaves
//! nothing behind; a reset ends every session and asks for the second factor again.

use crate::common;

use std::sync::Arc;

use common::flow::*;
use common::mail::RecordingMailer;
use common::soft_key::SoftKey;
use saml_idp::accounts::totp::{self, TotpSecret};
use saml_idp::mail::{Change, Mail};

pub(crate) const NEW_EMAIL: &str = "grace@example.gov";
pub(crate) const NEW_PASSWORD: &str = "tidal basin cherry blossoms";
const KEY_PAGE: &str = "/sign-up/security-key";
const KEY_OPTIONS: &str = "/sign-up/security-key/options";
const PHISHING_RESISTANT: &str =
    "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true";

/// Flows on every backend at the real time (python3-saml checks validity windows), each
/// sending mail to a recorder.
fn flows() -> Vec<(&'static str, Flow, Arc<RecordingMailer>)> {
    common::every_backend()
        .into_iter()
        .map(|(name, db)| {
            let mut f = start_on(db, common::wall_clock());
            let mailer = RecordingMailer::new();
            f.state = f.state.clone().with_mailer(mailer.clone());
            (name, f, mailer)
        })
        .collect()
}

fn users(f: &Flow) -> usize {
    f.state.stores.accounts.list().expect("list").len()
}

async fn start_sign_up(f: &mut Flow, email: &str) -> Answer {
    let csrf = f.csrf("/sign-up").await;
    f.post("/sign-up", &[("csrf", &csrf), ("email", email)])
        .await
}

async fn choose_password(f: &mut Flow, link: &str, password: &str, again: &str) -> Answer {
    let page = f.get(link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let token = form_field(&page.body, "token").expect("the link's token on the form");
    let csrf = form_field(&page.body, "csrf").expect("csrf");
    f.post(
        "/sign-up/confirm",
        &[
            ("csrf", &csrf),
            ("token", &token),
            ("password", password),
            ("password_confirmation", again),
        ],
    )
    .await
}

/// The secret shown as text on the authenticator-app page (grouped by four).
fn shown_secret(body: &str) -> TotpSecret {
    let marker = "<code class=\"secret\">";
    let start = body.find(marker).expect("secret shown") + marker.len();
    let grouped = &body[start..start + body[start..].find('<').expect("end")];
    TotpSecret::from_base32(&grouped.replace(' ', "")).expect("a base32 secret")
}

fn code_for(f: &Flow, secret: &TotpSecret) -> String {
    totp::code_at(secret, totp::step_of(f.state.clock.now().timestamp())).expect("TOTP code")
}

async fn submit_code(f: &mut Flow, code: &str) -> Answer {
    let csrf = f.csrf("/sign-up/second-factor").await;
    f.post("/sign-up/totp", &[("csrf", &csrf), ("code", code)])
        .await
}

#[actix_rt::test]
async fn sign_up_from_an_sp_ends_at_that_sp_with_a_valid_response() {
    for (backend, mut f, mailer) in flows() {
        let xml = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"])
            .replace("ID=\"_flow\"", "ID=\"_signup1\"");
        let first = f.request(&xml).await;
        assert_eq!(first.location, "/sign-in?locale=en", "{backend}");
        let sign_in = f.get("/sign-in").await;
        assert!(
            sign_in.body.contains("href=\"/sign-up?locale=en\""),
            "{backend}: a link"
        );
        let form = f.get("/sign-up").await;
        assert!(
            form.body.contains("Test SP One") || form.body.contains("<strong>"),
            "{backend}: the SP is named"
        );

        let sent = start_sign_up(&mut f, "  Grace@Example.gov ").await;
        assert_eq!(sent.status, 200, "{backend}: {}", sent.body);
        assert!(sent.body.contains("Check your email"), "{backend}");
        let mail = mailer.last().expect("a confirmation email");
        assert_eq!(
            mail.to,
            vec![NEW_EMAIL.to_string()],
            "{backend}: normalised address"
        );
        assert!(matches!(mail.mail, Mail::ConfirmEmail { .. }), "{backend}");
        assert_eq!(users(&f), 1, "{backend}: nothing created yet");
        let link = mailer.last_link_path();

        let weak = choose_password(&mut f, &link, "password1234", "password1234").await;
        assert_eq!(weak.status, 400, "{backend}");
        assert!(weak.body.contains("too common"), "{backend}");
        let short = choose_password(&mut f, &link, "short", "short").await;
        assert!(short.body.contains("at least 12"), "{backend}");
        let mismatch = choose_password(&mut f, &link, NEW_PASSWORD, "something else").await;
        assert!(mismatch.body.contains("not the same"), "{backend}");
        let chosen = choose_password(&mut f, &link, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(chosen.status, 303, "{backend}: {}", chosen.body);
        assert_eq!(chosen.location, "/sign-up/second-factor?locale=en");
        assert_eq!(users(&f), 1, "{backend}: still nothing created");
        let reused = f.get(&link).await;
        assert_eq!(reused.status, 410, "{backend}: the link worked once");
        assert!(
            reused.body.contains("/sign-up?locale=en"),
            "{backend}: a new link offered"
        );

        let setup = f.get("/sign-up/second-factor").await;
        assert_eq!(setup.status, 200, "{backend}");
        assert_eq!(
            setup.header("cache-control"),
            "no-store",
            "{backend}: the secret is never cached"
        );
        assert!(
            setup.body.contains("<svg class=\"qr\""),
            "{backend}: a QR code"
        );
        let secret = shown_secret(&setup.body);
        let again = f.get("/sign-up/second-factor").await;
        assert_eq!(
            shown_secret(&again.body).as_bytes(),
            secret.as_bytes(),
            "{backend}: stable"
        );
        let wrong = submit_code(&mut f, "000000").await;
        assert_eq!(wrong.status, 400, "{backend}");
        assert_eq!(users(&f), 1, "{backend}");

        let code = code_for(&f, &secret);
        let done = submit_code(&mut f, &code).await;
        assert_eq!(done.status, 200, "{backend}: {}", done.body);
        let codes = done.body.matches("<li><code>").count();
        assert_eq!(codes, 10, "{backend}: ten backup codes shown once");
        assert!(
            done.body.contains("href=\"/api/saml/complete?locale=en\""),
            "{backend}"
        );
        assert_eq!(users(&f), 2, "{backend}: the account exists");

        let handoff = f.complete().await;
        assert_eq!(handoff.status, 200, "{backend}: {}", handoff.body);
        let verdict = python_verdict(&handoff, &PYTHON_SP1, "_signup1");
        assert_eq!(
            verdict["valid"], true,
            "{backend}: python3-saml refused: {verdict}"
        );
        assert_eq!(
            verdict["attributes"]["email"][0], NEW_EMAIL,
            "{backend}: {verdict}"
        );
    }
}

#[actix_rt::test]
async fn the_new_account_signs_in_with_its_password_and_app() {
    for (backend, mut f, mailer) in flows() {
        let home = f.get("/").await;
        assert!(
            home.body.contains("href=\"/sign-up?locale=en\"")
                && home.body.contains("href=\"/sign-in?locale=en\""),
            "{backend}: sign-up and sign-in are offered from /"
        );
        start_sign_up(&mut f, NEW_EMAIL).await;
        let link = mailer.last_link_path();
        choose_password(&mut f, &link, NEW_PASSWORD, NEW_PASSWORD).await;
        let setup = f.get("/sign-up/second-factor").await;
        let secret = shown_secret(&setup.body);
        let code = code_for(&f, &secret);
        let done = submit_code(&mut f, &code).await;
        assert_eq!(done.status, 200, "{backend}");
        let home = f.get("/").await;
        assert!(
            home.body.contains("/sign-out"),
            "{backend}: signed in after sign-up"
        );
        let over = f.get("/sign-up/second-factor").await;
        assert_eq!(over.status, 410, "{backend}: the sign-up is over");
        let csrf = f.csrf("/sign-up").await;
        let reused = f
            .post("/sign-up/totp", &[("csrf", &csrf), ("code", &code)])
            .await;
        assert_eq!(
            reused.status, 410,
            "{backend}: and cannot be finished twice"
        );

        f.jar.clear();
        let answer = f.password(NEW_EMAIL, NEW_PASSWORD).await;
        assert_eq!(answer.location, "/sign-in/mfa?locale=en", "{backend}");
        f.tick(30);
        let code = code_for(&f, &secret);
        let after = f.second_factor(&code, false).await;
        assert_eq!(after.location, "/?locale=en", "{backend}: {}", after.body);
    }
}

#[actix_rt::test]
async fn a_known_address_gets_the_same_page_and_its_owner_an_email() {
    for (backend, mut f, mailer) in flows() {
        let new = start_sign_up(&mut f, "newcomer@example.gov").await;
        let known = start_sign_up(&mut f, "ada@example.gov").await;
        assert_eq!((new.status, known.status), (200, 200), "{backend}");
        assert_eq!(new.body, known.body, "{backend}: the same answer");
        let mail = mailer.last().expect("mail");
        assert_eq!(mail.to, vec!["ada@example.gov".to_string()], "{backend}");
        assert!(matches!(mail.mail, Mail::AccountExists { .. }), "{backend}");
    }
}

#[actix_rt::test]
async fn forged_expired_and_wrong_purpose_links_are_refused() {
    for (backend, mut f, mailer) in flows() {
        let forged = f.get("/sign-up/confirm?token=not-a-token").await;
        assert_eq!(forged.status, 410, "{backend}");
        start_sign_up(&mut f, NEW_EMAIL).await;
        let link = mailer.last_link_path();
        let as_reset = link.replace("/sign-up/confirm", "/reset-password");
        let wrong = f.get(&as_reset).await;
        assert_eq!(
            wrong.status, 410,
            "{backend}: a sign-up link does not reset a password"
        );
        f.tick(24 * 3600);
        let expired = f.get(&link).await;
        assert_eq!(expired.status, 410, "{backend}: 24 hours later");
        let no_cookie = f.get("/sign-up/second-factor").await;
        assert_eq!(no_cookie.status, 410, "{backend}");
        assert_eq!(users(&f), 1, "{backend}");
    }
}

/// The mailer port only queues (SPEC 17: no page waits for a mail server, delivery failures
/// are the worker's), so its failing is the queue's database failing: the outage's answer,
/// the same for a known and an unknown address, and no token left behind.
#[actix_rt::test]
async fn a_queue_that_fails_is_an_outage_and_nothing_is_kept() {
    for (backend, mut f, mailer) in flows() {
        mailer.set_down(true);
        let answer = start_sign_up(&mut f, NEW_EMAIL).await;
        assert_eq!(answer.status, 503, "{backend}");
        assert!(
            answer.body.contains("try again"),
            "{backend}: {}",
            answer.body
        );
        let known = start_sign_up(&mut f, "ada@example.gov").await;
        assert_eq!(
            (known.status, &known.body),
            (503, &answer.body),
            "{backend}"
        );
        for email in ["ada@example.gov", "nobody@example.gov"] {
            let csrf = f.csrf("/forgot-password").await;
            let reset = f
                .post("/forgot-password", &[("csrf", &csrf), ("email", email)])
                .await;
            assert_eq!(
                (reset.status, &reset.body),
                (503, &answer.body),
                "{backend}"
            );
        }
        let rows = common::row_counts(&f._db);
        let tokens = rows.iter().find(|(t, _)| *t == "one_time_tokens");
        assert_eq!(
            tokens.map(|(_, n)| *n),
            Some(0),
            "{backend}: no token left behind"
        );
    }
}

#[actix_rt::test]
async fn a_reset_sets_the_password_and_ends_every_session() {
    for (backend, mut f, mailer) in flows() {
        // A browser signed in with "remember this browser".
        let xml = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
        f.sign_in_fully(&xml, true).await;
        let signed_in = std::mem::take(&mut f.jar);
        let unknown = {
            let csrf = f.csrf("/forgot-password").await;
            f.post(
                "/forgot-password",
                &[("csrf", &csrf), ("email", "nobody@example.gov")],
            )
            .await
        };
        let told = mailer.last().expect("a notice to the unknown address");
        assert_eq!(
            (told.to, told.mail),
            (vec!["nobody@example.gov".to_string()], Mail::NoAccount),
            "{backend}: the same work for an unknown address"
        );
        let before = mailer.sent().len();
        let known = {
            let csrf = f.csrf("/forgot-password").await;
            f.post(
                "/forgot-password",
                &[("csrf", &csrf), ("email", "ada@example.gov")],
            )
            .await
        };
        assert_eq!(unknown.body, known.body, "{backend}: one answer for both");
        assert_eq!(
            mailer.sent().len(),
            before + 1,
            "{backend}: the owner is mailed the link"
        );
        let link = mailer.last_link_path();
        assert!(link.starts_with("/reset-password?"), "{backend}");

        let page = f.get(&link).await;
        let token = form_field(&page.body, "token").expect("token");
        let csrf = form_field(&page.body, "csrf").expect("csrf");
        let post = |password: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("token", token.clone()),
                ("password", password.to_string()),
                ("password_confirmation", password.to_string()),
            ]
        };
        let fields = post("qwertyuiop123");
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let weak = f.post("/reset-password", &pairs).await;
        assert_eq!(weak.status, 400, "{backend}: a common password is refused");
        let fields = post(NEW_PASSWORD);
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let done = f.post("/reset-password", &pairs).await;
        assert_eq!(done.status, 200, "{backend}: {}", done.body);
        let again = f.post("/reset-password", &pairs).await;
        assert_eq!(again.status, 410, "{backend}: the link worked once");
        let notice = mailer.last().expect("notice");
        assert_eq!(
            notice.mail,
            Mail::AccountChanged {
                change: Change::PasswordReset
            },
            "{backend}"
        );

        // The browser that was signed in is signed out, and its remembered browser forgotten.
        f.jar = signed_in;
        let home = f.get("/").await;
        assert!(
            !home.body.contains("/sign-out"),
            "{backend}: the old session ended"
        );
        let old = f.password("ada@example.gov", PASSWORD).await;
        assert_eq!(old.status, 401, "{backend}: the old password is refused");
        let new = f.password("ada@example.gov", NEW_PASSWORD).await;
        assert_eq!(
            new.location, "/sign-in/mfa?locale=en",
            "{backend}: the second factor is asked again"
        );
    }
}

/// The link to `path` in the plain-text part of the newest message in `outbox`, as a path
/// and query.
fn link_in_newest_message(outbox: &std::path::Path, path: &str) -> String {
    let files = common::mail::eml_files(outbox);
    let newest = files.last().expect("a message in the outbox").clone();
    let parsed = common::mail::parse(&[newest]);
    let text = common::mail::part(&parsed[0], "text/plain");
    let start = text.find(path).expect("the link in the text part");
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |n| start + n);
    text[start..end].to_string()
}

/// The whole sign-up with the real mail composition and the development outbox: the link is
/// read from the `.eml` file the IdP wrote, as a person would read it.
#[actix_rt::test]
async fn sign_up_through_the_outbox() {
    for (backend, mut f, _) in flows() {
        let outbox = tempfile::tempdir().expect("outbox");
        let sender = saml_idp::mail::Sender::new(
            &saml_idp::mail::MailerSetting::Outbox,
            outbox.path().to_path_buf(),
            "no-reply@idp.test.example.gov",
            "Test IdP",
        );
        f.state = f.state.clone().with_mailer(Arc::new(sender));
        let sent = start_sign_up(&mut f, NEW_EMAIL).await;
        assert_eq!(sent.status, 200, "{backend}: {}", sent.body);
        let link = link_in_newest_message(outbox.path(), "/sign-up/confirm?");
        let chosen = choose_password(&mut f, &link, NEW_PASSWORD, NEW_PASSWORD).await;
        assert_eq!(chosen.status, 303, "{backend}: {}", chosen.body);
        let setup = f.get("/sign-up/second-factor").await;
        let code = code_for(&f, &shown_secret(&setup.body));
        let done = submit_code(&mut f, &code).await;
        assert_eq!(done.status, 200, "{backend}: {}", done.body);
        assert_eq!(users(&f), 2, "{backend}");
    }
}

/// Email and password done: the browser holds a live sign-up past its password.
pub(crate) async fn up_to_the_second_factor(f: &mut Flow, mailer: &RecordingMailer, email: &str) {
    start_sign_up(f, email).await;
    let link = mailer.last_link_path();
    let chosen = choose_password(f, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(chosen.location, "/sign-up/second-factor?locale=en");
}

/// Registers `key` at `origin` on the sign-up's security-key page, named `name`.
pub(crate) async fn sign_up_key(
    f: &mut Flow,
    key: &mut SoftKey,
    name: &str,
    origin: &str,
) -> Answer {
    let (csrf, ceremony, options) = f.ceremony(KEY_PAGE, KEY_OPTIONS).await;
    let response = key.register(&options, origin);
    f.post(
        KEY_PAGE,
        &[
            ("csrf", &csrf),
            ("name", name),
            ("ceremony", &ceremony),
            ("response", &response),
        ],
    )
    .await
}

fn keys_of(f: &Flow, email: &str) -> usize {
    let (_, lookup) = f.state.account_crypto.email_lookup(email).expect("email");
    let user = f
        .state
        .stores
        .accounts
        .find_by_email(&lookup)
        .expect("lookup")
        .expect("user");
    f.state
        .stores
        .security_keys
        .list_for_user(user.id)
        .expect("keys")
        .len()
}

#[actix_rt::test]
async fn sign_up_with_a_security_key_ends_at_the_sp_with_a_phishing_resistant_response() {
    for (backend, mut f, mailer) in flows() {
        let xml = authn_request(SP1, "", &[PHISHING_RESISTANT])
            .replace("ID=\"_flow\"", "ID=\"_signupkey\"");
        let first = f.request(&xml).await;
        assert_eq!(first.location, "/sign-in?locale=en", "{backend}");
        up_to_the_second_factor(&mut f, &mailer, NEW_EMAIL).await;
        let app = f.get("/sign-up/second-factor").await;
        assert!(
            app.body
                .contains("href=\"/sign-up/security-key?locale=en\""),
            "{backend}: the app page offers a key"
        );
        let page = f.get(KEY_PAGE).await;
        assert_eq!(page.status, 200, "{backend}");
        assert!(page.body.contains("data-webauthn=\"create\""), "{backend}");
        assert!(page.body.contains("<label for=\"key-name\">"), "{backend}");

        let mut key = SoftKey::new();
        let done = sign_up_key(&mut f, &mut key, "Blue key", common::BASE_URL).await;
        assert_eq!(done.status, 200, "{backend}: {}", done.body);
        assert_eq!(done.body.matches("<li><code>").count(), 10, "{backend}");
        assert!(done.body.contains("href=\"/api/saml/complete?locale=en\""));
        assert_eq!(users(&f), 2, "{backend}: the account exists");
        assert_eq!(keys_of(&f, NEW_EMAIL), 1, "{backend}: with its key");

        let handoff = f.complete().await;
        assert_eq!(handoff.status, 200, "{backend}: {}", handoff.body);
        let verdict = python_verdict(&handoff, &PYTHON_SP1, "_signupkey");
        assert_eq!(verdict["valid"], true, "{backend}: {verdict}");
        assert_eq!(
            verdict["authn_contexts"],
            serde_json::json!([PHISHING_RESISTANT]),
            "{backend}: {verdict}"
        );
        assert_eq!(verdict["attributes"]["email"][0], NEW_EMAIL, "{backend}");

        // A new browser signs in with the password and the key.
        f.jar.clear();
        let pw = f.password(NEW_EMAIL, NEW_PASSWORD).await;
        assert_eq!(pw.location, "/sign-in/mfa?locale=en", "{backend}");
        let mfa = f.get(&pw.location).await;
        assert!(
            mfa.body.contains("data-webauthn=\"get\""),
            "{backend}: the key is offered"
        );
        let (csrf, ceremony, options) = f
            .ceremony("/sign-in/mfa?locale=en", "/sign-in/security-key/options")
            .await;
        let signed = key.sign(&options, common::BASE_URL);
        let after = f
            .post(
                "/sign-in/security-key",
                &[
                    ("csrf", &csrf),
                    ("ceremony", &ceremony),
                    ("response", &signed),
                ],
            )
            .await;
        assert_eq!(after.location, "/?locale=en", "{backend}: {}", after.body);
    }
}

#[actix_rt::test]
async fn a_refused_key_creates_nothing_and_the_sign_up_stays_open() {
    for (backend, mut f, mailer) in flows() {
        // Without a sign-up, there is no key page and no ceremony.
        let none = f.get(KEY_PAGE).await;
        assert_eq!(none.status, 410, "{backend}");
        // Nor with a sign-up cookie the server never issued.
        f.jar.insert(
            "__Host-saml_idp_sign_up".into(),
            "forged-sign-up-token".into(),
        );
        let forged = f.get(KEY_PAGE).await;
        assert_eq!(forged.status, 410, "{backend}");
        f.jar.remove("__Host-saml_idp_sign_up");
        let csrf = f.csrf("/sign-up").await;
        let options = f.post(KEY_OPTIONS, &[("csrf", &csrf)]).await;
        assert_eq!(options.status, 410, "{backend}");

        up_to_the_second_factor(&mut f, &mailer, NEW_EMAIL).await;
        let mut key = SoftKey::new();
        // A phishing site relaying the ceremony.
        let phished = sign_up_key(&mut f, &mut key, "Blue key", "https://evil.example").await;
        assert_eq!(phished.status, 400, "{backend}: {}", phished.body);
        assert!(phished
            .body
            .contains("The security key could not be registered."));
        // A name that is only spaces.
        let unnamed = sign_up_key(&mut f, &mut key, "   ", common::BASE_URL).await;
        assert_eq!(unnamed.status, 400, "{backend}");
        assert!(unnamed.body.contains("1 to 64 characters"), "{backend}");
        // Not a credential, and a ceremony used twice.
        let (csrf, ceremony, options) = f.ceremony(KEY_PAGE, KEY_OPTIONS).await;
        let fields = |response: &str| {
            vec![
                ("csrf".to_string(), csrf.clone()),
                ("name".to_string(), "Blue key".to_string()),
                ("ceremony".to_string(), ceremony.clone()),
                ("response".to_string(), response.to_string()),
            ]
        };
        let garbage = fields("{\"id\":");
        let pairs: Vec<(&str, &str)> = garbage
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let malformed = f.post(KEY_PAGE, &pairs).await;
        assert_eq!(malformed.status, 400, "{backend}");
        let good = fields(&key.register(&options, common::BASE_URL));
        let pairs: Vec<(&str, &str)> = good.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let reused = f.post(KEY_PAGE, &pairs).await;
        assert_eq!(reused.status, 400, "{backend}: the ceremony was used");
        assert!(reused.body.contains("took too long"), "{backend}");
        assert_eq!(users(&f), 1, "{backend}: nothing created");

        // The sign-up is still open: a good answer creates the account.
        let done = sign_up_key(&mut f, &mut key, "Blue key", common::BASE_URL).await;
        assert_eq!(done.status, 200, "{backend}: {}", done.body);
        assert_eq!(users(&f), 2, "{backend}");
        let over = f.get(KEY_PAGE).await;
        assert_eq!(over.status, 410, "{backend}: the sign-up is over");
    }
}

#[actix_rt::test]
async fn a_key_registered_meanwhile_by_someone_else_leaves_no_half_made_account() {
    for (backend, mut f, mailer) in flows() {
        let mut shared = SoftKey::new();
        up_to_the_second_factor(&mut f, &mailer, NEW_EMAIL).await;
        let first = sign_up_key(&mut f, &mut shared, "Key", common::BASE_URL).await;
        assert_eq!(first.status, 200, "{backend}: {}", first.body);

        f.jar.clear();
        up_to_the_second_factor(&mut f, &mailer, "hopper@example.gov").await;
        let again = sign_up_key(&mut f, &mut shared, "Key", common::BASE_URL).await;
        assert_eq!(again.status, 409, "{backend}: {}", again.body);
        assert!(again.body.contains("already registered"), "{backend}");
        assert_eq!(users(&f), 2, "{backend}: the second account was undone");
        let mut own = SoftKey::new();
        let done = sign_up_key(&mut f, &mut own, "Own key", common::BASE_URL).await;
        assert_eq!(done.status, 200, "{backend}: the sign-up stayed open");
        assert_eq!(users(&f), 3, "{backend}");
        assert_eq!(keys_of(&f, "hopper@example.gov"), 1, "{backend}");
    }
}
