//! The account page (SPEC 17) from the outside, on SQLite and on PostgreSQL when
//! `TEST_DATABASE_URL` is set: each action over HTTP, then what changed in the stores, which
//! emails were sent to whom (a recording mailer) and what the audit trail says; the
//! re-authentication after 15 minutes, CSRF refusals, the last-address and last-factor rules,
//! deletion (refused with a wrong code, and agency UUIDs never reused), consent revocation
//! (the next sign-in asks again) and signing out everywhere (a second browser too).

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;

use common::flow::*;
use common::mail::{RecordingMailer, Sent};
use saml_idp::accounts::totp::{self, TotpSecret};
use saml_idp::accounts::UserRecord;
use saml_idp::idp::token::TokenHash;
use saml_idp::mail::{Change, Mail};

const ADA: &str = "ada@example.gov";
const WORK: &str = "ada.work@example.gov";
const NEW_PASSWORD: &str = "a brand new passphrase for ada";
/// An SP whose responses are not encrypted, so the NameID can be read.
const PLAIN_SP: &str = "urn:test:plain-sp";
const AUTH_ONLY: &str = "urn:acr.login.gov:auth-only";

/// A flow per backend whose state sends mail through a recording mailer.
fn flows() -> Vec<(&'static str, Flow, Arc<RecordingMailer>)> {
    every_backend()
        .into_iter()
        .map(|(name, mut f)| {
            let mailer = RecordingMailer::new();
            f.state = f.state.clone().with_mailer(mailer.clone());
            (name, f, mailer)
        })
        .collect()
}

/// Password and authenticator code, without an SP: the browser ends on the home page.
async fn sign_in(f: &mut Flow) {
    sign_in_directly(f, ADA).await;
}

fn user(f: &Flow, email: &str) -> Option<UserRecord> {
    let (_, lookup) = f.state.account_crypto.email_lookup(email).expect("email");
    f.state
        .stores
        .accounts
        .find_by_email(&lookup)
        .expect("store")
}

fn ada(f: &Flow) -> UserRecord {
    user(f, ADA).expect("ada exists")
}

/// (id, address, received by SPs) of each address of the user.
fn addresses(f: &Flow, user_id: i64) -> Vec<(i64, String, bool)> {
    let crypto = &f.state.account_crypto;
    f.state
        .stores
        .accounts
        .stored_emails(user_id)
        .expect("store")
        .into_iter()
        .map(|e| {
            let address = crypto.open_email(&e.record.sealed, &e.record.lookup);
            (e.id, address.expect("opens"), e.record.for_sign_in)
        })
        .collect()
}

/// The detail words of the user's audit events, oldest first.
fn details(f: &Flow, public_id: &str) -> Vec<String> {
    let mut events = f
        .state
        .stores
        .audit
        .recent_for_user(public_id, 200)
        .expect("audit");
    events.reverse();
    events.into_iter().filter_map(|e| e.event.detail).collect()
}

fn no_pii_in_the_audit_trail(f: &Flow, backend: &str) {
    for event in f.state.stores.audit.recent(500).expect("audit") {
        let text = format!("{:?} {:?} {:?}", event.event, event.detail, event.issuer);
        assert!(
            !text.contains('@'),
            "{backend}: PII in the audit trail: {text}"
        );
    }
}

async fn post_account(f: &mut Flow, path: &str, fields: &[(&str, &str)]) -> Answer {
    let csrf = f.csrf("/account").await;
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    f.post(&format!("{path}?locale=en"), &all).await
}

/// Follows an address's confirmation `link` (a URL or its path): the button's POST.
async fn confirm_address(f: &mut Flow, link: &str) -> Answer {
    let token = link.rsplit("token=").next().expect("token").to_string();
    let csrf = f.csrf("/account").await;
    f.post(
        "/account/emails/confirm?locale=en",
        &[("csrf", &csrf), ("token", &token)],
    )
    .await
}

fn done(word: &str) -> String {
    format!("/account?locale=en&done={word}")
}

#[actix_web::test]
async fn the_page_needs_a_full_sign_in_and_lists_the_account() {
    for (backend, mut f, _) in flows() {
        let anonymous = f.get("/account").await;
        assert_eq!(
            (anonymous.status, anonymous.location.as_str()),
            (303, "/sign-in?locale=en"),
            "{backend}"
        );
        let change = f
            .post("/account/backup-codes", &[("csrf", "anything")])
            .await;
        assert_eq!(
            change.location, "/sign-in?locale=en",
            "{backend}: a change too"
        );
        f.tick(31);
        f.password(ADA, PASSWORD).await;
        let half = f.get("/account").await;
        assert_eq!(
            half.location, "/sign-in?locale=en",
            "{backend}: password only"
        );
        let code = f.code();
        f.second_factor(&code, false).await;
        let home = f.get("/").await;
        assert!(
            home.body.contains("href=\"/account?locale=en\""),
            "{backend}"
        );
        let page = f.get("/account").await;
        assert_eq!(page.status, 200, "{backend}: {}", page.body);
        for expected in [
            "<h1>Your account</h1>",
            ADA,
            "(shared with services)",
            "An authentication app is set up.",
            "Unused backup codes: 3",
            "href=\"/account/security-keys?locale=en\"",
            "It is your only second factor",
            "You have not shared your information with any service yet.",
            "Sign-in (with a code from your authentication app)",
            "action=\"/account/delete?locale=en\"",
        ] {
            assert!(
                page.body.contains(expected),
                "{backend}: no {expected}: {}",
                page.body
            );
        }
        // Only one address: no form to remove it.
        assert!(!page.body.contains("/remove?"), "{backend}");
        let spanish = f.get("/account?locale=es").await;
        assert!(spanish.body.contains("<h1>Su cuenta</h1>"), "{backend}");
        assert!(
            spanish
                .body
                .contains("Inicio de sesión (con un código de su aplicación de autenticación)"),
            "{backend}: event names and details are localised"
        );
        let wrong_method = f.get("/account/password").await;
        assert_eq!(wrong_method.status, 405, "{backend}");
    }
}

#[actix_web::test]
async fn every_form_refuses_a_wrong_csrf_token_and_changes_nothing() {
    for (backend, mut f, mailer) in flows() {
        sign_in(&mut f).await;
        let before = ada(&f);
        let code = f.code();
        let forms: [(&str, Vec<(&str, &str)>); 12] = [
            ("/account/emails", vec![("email", WORK)]),
            ("/account/emails/1/remove", vec![]),
            ("/account/emails/1/for-sp", vec![]),
            ("/account/emails/confirm", vec![("token", "x")]),
            (
                "/account/password",
                vec![
                    ("current_password", PASSWORD),
                    ("password", NEW_PASSWORD),
                    ("password_confirmation", NEW_PASSWORD),
                ],
            ),
            ("/account/totp", vec![]),
            ("/account/totp/remove", vec![]),
            ("/account/backup-codes", vec![]),
            ("/account/connected/revoke", vec![("issuer", SP1)]),
            ("/account/sign-out-everywhere", vec![]),
            (
                "/account/delete",
                vec![("password", PASSWORD), ("code", code.as_str())],
            ),
            ("/account/reauthenticate", vec![("password", PASSWORD)]),
        ];
        for (path, fields) in forms {
            let mut all = vec![("csrf", "not-the-token")];
            all.extend(fields.iter().copied());
            let answer = f.post(path, &all).await;
            assert_eq!(answer.status, 403, "{backend}: {path}");
            let missing = f.post(path, &fields).await;
            assert_eq!(missing.status, 403, "{backend}: {path} without a token");
        }
        let after = ada(&f);
        assert_eq!(after.password_hash, before.password_hash, "{backend}");
        assert_eq!(
            after.totp_secret_sealed, before.totp_secret_sealed,
            "{backend}"
        );
        assert_eq!(addresses(&f, after.id).len(), 1, "{backend}");
        let codes = f
            .state
            .stores
            .accounts
            .unused_backup_codes(after.id)
            .expect("codes");
        assert_eq!(codes.len(), 3, "{backend}");
        assert!(mailer.sent().is_empty(), "{backend}: nothing was announced");
        assert_eq!(
            f.get("/account").await.status,
            200,
            "{backend}: still signed in"
        );
    }
}

#[actix_web::test]
async fn changes_ask_for_the_password_again_after_fifteen_minutes() {
    for (backend, mut f, mailer) in flows() {
        sign_in(&mut f).await;
        f.tick(10 * 60);
        assert_eq!(f.get("/account").await.status, 200, "{backend}: 10 minutes");
        let csrf = f.csrf("/account").await;
        f.tick(6 * 60);
        let page = f.get("/account").await;
        assert_eq!(
            (page.status, page.location.as_str()),
            (303, "/account/reauthenticate?locale=en"),
            "{backend}"
        );
        let change = f
            .post("/account/backup-codes?locale=en", &[("csrf", &csrf)])
            .await;
        assert_eq!(
            change.location, "/account/reauthenticate?locale=en",
            "{backend}"
        );
        let user = ada(&f);
        assert_eq!(
            f.state
                .stores
                .accounts
                .unused_backup_codes(user.id)
                .expect("codes")
                .len(),
            3,
            "{backend}: nothing changed"
        );
        let form = f.get("/account/reauthenticate").await;
        assert_eq!(form.status, 200, "{backend}");
        assert!(form.body.contains("<label for=\"password\">"), "{backend}");
        let wrong = f
            .post(
                "/account/reauthenticate?locale=en",
                &[("csrf", &csrf), ("password", "wrong")],
            )
            .await;
        assert_eq!(wrong.status, 401, "{backend}: {}", wrong.body);
        assert_eq!(
            ada(&f).failed_attempts,
            1,
            "{backend}: counted towards the lock"
        );
        let right = f
            .post(
                "/account/reauthenticate?locale=en",
                &[("csrf", &csrf), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(right.location, "/account?locale=en", "{backend}");
        let codes = f
            .post("/account/backup-codes?locale=en", &[("csrf", &csrf)])
            .await;
        assert_eq!(codes.status, 200, "{backend}: {}", codes.body);
        assert!(
            mailer.notices(Change::BackupCodesRegenerated).len() == 1,
            "{backend}"
        );
        let words = details(&f, &user.public_id);
        assert!(
            words.contains(&"reauthenticated".to_string()),
            "{backend}: {words:?}"
        );
    }
}

#[actix_web::test]
async fn re_authentication_failures_count_towards_the_sign_in_lock() {
    for (backend, mut f, _) in flows() {
        sign_in(&mut f).await;
        let csrf = f.csrf("/account").await;
        for _ in 0..10 {
            let wrong = f
                .post(
                    "/account/reauthenticate",
                    &[("csrf", &csrf), ("password", "wrong")],
                )
                .await;
            assert_eq!(wrong.status, 401, "{backend}");
        }
        let locked = f
            .post(
                "/account/reauthenticate",
                &[("csrf", &csrf), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(locked.status, 403, "{backend}");
        assert!(
            locked
                .body
                .contains("locked after too many failed attempts"),
            "{backend}"
        );
        // The same lock stops the sign-in of another browser.
        let mine = std::mem::take(&mut f.jar);
        let other = f.password(ADA, PASSWORD).await;
        assert_eq!(other.status, 401, "{backend}: locked at sign-in too");
        f.jar = mine;
        assert!(ada(&f).locked_until.is_some(), "{backend}");
    }
}

#[actix_web::test]
async fn addresses_are_added_by_link_chosen_for_sps_and_removed_but_never_the_last() {
    for (backend, mut f, mailer) in flows() {
        add_user(&f.state, "bob@example.gov", None, None);
        sign_in(&mut f).await;
        let me = ada(&f);
        let invalid = post_account(&mut f, "/account/emails", &[("email", "not an address")]).await;
        assert_eq!(invalid.status, 400, "{backend}");
        assert!(
            invalid.body.contains("Enter a valid email address"),
            "{backend}"
        );

        let asked = post_account(&mut f, "/account/emails", &[("email", WORK)]).await;
        assert_eq!(asked.location, done("email_add_requested"), "{backend}");
        let link = mailer
            .confirm_link(WORK)
            .expect("a confirmation link to the new address");
        let prefix = format!(
            "{}/account/emails/confirm?locale=en&token=",
            common::BASE_URL
        );
        assert!(link.starts_with(&prefix), "{backend}: {link}");
        assert_eq!(
            addresses(&f, me.id).len(),
            1,
            "{backend}: not before the link"
        );

        // An address another account has: the same answer after the same work (one message
        // queued), nothing added; the address is told it is in use, not sent a link.
        let sent = mailer.sent().len();
        let taken = post_account(&mut f, "/account/emails", &[("email", "Bob@Example.gov")]).await;
        assert_eq!(taken.location, done("email_add_requested"), "{backend}");
        assert_eq!(mailer.sent().len(), sent + 1, "{backend}: one message");
        let notice = mailer.last().expect("the in-use notice");
        assert_eq!(
            (notice.to, notice.mail),
            (vec!["bob@example.gov".to_string()], Mail::EmailInUse),
            "{backend}"
        );
        let shown = f.get(&taken.location).await;
        assert!(
            shown.body.contains("We sent a confirmation link"),
            "{backend}"
        );

        let path = link.trim_start_matches(common::BASE_URL).to_string();
        for _ in 0..2 {
            let page = f.get(&path).await;
            assert_eq!(page.status, 200, "{backend}: looking uses nothing up");
            assert!(
                page.body.contains(&format!("<strong>{WORK}</strong>")),
                "{backend}"
            );
        }
        let added = confirm_address(&mut f, &path).await;
        assert_eq!(added.location, done("email_added"), "{backend}");
        let both = addresses(&f, me.id);
        assert_eq!(both.len(), 2, "{backend}");
        assert_eq!((both[0].1.as_str(), both[0].2), (ADA, true), "{backend}");
        assert_eq!((both[1].1.as_str(), both[1].2), (WORK, false), "{backend}");
        assert_eq!(
            mailer.notices(Change::EmailAdded),
            vec![vec![ADA.to_string()]],
            "{backend}: the other addresses are told, not the new one"
        );
        assert_eq!(
            f.get(&path).await.status,
            410,
            "{backend}: the link works once"
        );

        let work_id = both[1].0.to_string();
        let chosen = post_account(&mut f, &format!("/account/emails/{work_id}/for-sp"), &[]).await;
        assert_eq!(chosen.location, done("email_for_sp_changed"), "{backend}");
        let now = addresses(&f, me.id);
        assert_eq!((now[0].2, now[1].2), (false, true), "{backend}");
        assert_eq!(
            mailer.notices(Change::EmailForSpChanged),
            vec![vec![ADA.to_string(), WORK.to_string()]],
            "{backend}"
        );

        let removed = post_account(&mut f, &format!("/account/emails/{work_id}/remove"), &[]).await;
        assert_eq!(removed.location, done("email_removed"), "{backend}");
        let left = addresses(&f, me.id);
        assert_eq!(left.len(), 1, "{backend}");
        assert_eq!(
            (left[0].1.as_str(), left[0].2),
            (ADA, true),
            "{backend}: SPs get ada@ again"
        );
        assert_eq!(
            mailer.notices(Change::EmailRemoved),
            vec![vec![ADA.to_string()]],
            "{backend}: the remaining addresses get the change's notice"
        );
        let told = mailer.last().expect("the removed address's notice");
        assert_eq!(
            (told.to, told.mail),
            (vec![WORK.to_string()], Mail::AddressRemoved),
            "{backend}: the removed address is told (L3)"
        );

        let last = post_account(
            &mut f,
            &format!("/account/emails/{}/remove", left[0].0),
            &[],
        )
        .await;
        assert_eq!(last.status, 409, "{backend}");
        assert!(
            last.body.contains("This is your only email address"),
            "{backend}"
        );
        assert_eq!(addresses(&f, me.id).len(), 1, "{backend}");

        let bob = user(&f, "bob@example.gov").expect("bob");
        let bob_id = addresses(&f, bob.id)[0].0;
        let foreign = post_account(&mut f, &format!("/account/emails/{bob_id}/remove"), &[]).await;
        assert_eq!(foreign.status, 404, "{backend}");
        let foreign = post_account(&mut f, &format!("/account/emails/{bob_id}/for-sp"), &[]).await;
        assert_eq!(foreign.status, 404, "{backend}");
        assert_eq!(
            addresses(&f, bob.id).len(),
            1,
            "{backend}: bob keeps his address"
        );
        let not_an_id = post_account(&mut f, "/account/emails/abc/remove", &[]).await;
        assert_eq!(not_an_id.status, 404, "{backend}");

        let words = details(&f, &me.public_id);
        assert!(
            !words.contains(&"email_add_in_use".to_string()),
            "{backend}: the page's events do not tell the address was taken: {words:?}"
        );
        let requested = words.iter().filter(|w| *w == "email_add_requested").count();
        assert_eq!(requested, 2, "{backend}: {words:?}");
        let operators = f.state.stores.audit.recent(500).expect("audit");
        assert!(operators.iter().any(|e| {
            e.detail.as_deref() == Some("email_add_in_use") && e.user_public_id.is_none()
        }));
        for word in ["email_added", "email_for_sp_changed", "email_removed"] {
            assert!(
                words.contains(&word.to_string()),
                "{backend}: no {word} in {words:?}"
            );
        }
        no_pii_in_the_audit_trail(&f, backend);
    }
}

/// L3: a reset link is bound to the address it was sent to. Once that address is removed
/// from the account the link is dead, while a link sent to an address the account keeps
/// still works; the removed address is told.
#[actix_web::test]
async fn a_reset_link_dies_with_the_address_it_was_sent_to() {
    for (backend, mut f, mailer) in flows() {
        sign_in(&mut f).await;
        post_account(&mut f, "/account/emails", &[("email", WORK)]).await;
        let link = mailer.confirm_link(WORK).expect("link");
        let added = confirm_address(&mut f, &link).await;
        assert_eq!(added.location, done("email_added"), "{backend}");
        let mut links = Vec::new();
        for email in [WORK, ADA] {
            let csrf = f.csrf("/forgot-password").await;
            let sent = f
                .post("/forgot-password", &[("csrf", &csrf), ("email", email)])
                .await;
            assert_eq!(sent.status, 200, "{backend}");
            links.push(mailer.last_link_path());
        }
        assert_eq!(f.get(&links[0]).await.status, 200, "{backend}: live");
        let work_id = addresses(&f, ada(&f).id)[1].0;
        let removed = post_account(&mut f, &format!("/account/emails/{work_id}/remove"), &[]).await;
        assert_eq!(removed.location, done("email_removed"), "{backend}");
        let told = mailer.last().expect("notice");
        assert_eq!(
            (told.to, told.mail),
            (vec![WORK.to_string()], Mail::AddressRemoved),
            "{backend}"
        );
        assert_eq!(f.get(&links[0]).await.status, 410, "{backend}: dead");
        let form = f.get(&links[1]).await;
        assert_eq!(form.status, 200, "{backend}: the kept address's link lives");
        let token = form_field(&form.body, "token").expect("token");
        let csrf = form_field(&form.body, "csrf").expect("csrf");
        let dead_token = links[0].rsplit("token=").next().expect("token").to_string();
        let fields = |token| {
            vec![
                ("csrf", csrf.clone()),
                ("token", token),
                ("password", NEW_PASSWORD.to_string()),
                ("password_confirmation", NEW_PASSWORD.to_string()),
            ]
        };
        for (token, status) in [(dead_token, 410), (token, 200)] {
            let fields = fields(token);
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let answer = f.post("/reset-password", &pairs).await;
            assert_eq!(answer.status, status, "{backend}: {}", answer.body);
        }
    }
}

#[actix_web::test]
async fn a_confirmation_link_adds_nothing_for_another_account() {
    for (backend, mut f, mailer) in flows() {
        add_user(&f.state, "bob@example.gov", None, None);
        sign_in(&mut f).await;
        post_account(&mut f, "/account/emails", &[("email", WORK)]).await;
        let link = mailer.confirm_link(WORK).expect("link");
        let path = link.trim_start_matches(common::BASE_URL).to_string();
        // Followed in a browser that is not signed in: sign in first.
        f.jar = HashMap::new();
        let anonymous = f.get(&path).await;
        assert_eq!(anonymous.location, "/sign-in?locale=en", "{backend}");
        // Bob signs in, in another browser, and follows ada's link.
        f.tick(31);
        f.password("bob@example.gov", PASSWORD).await;
        let code = f.code();
        f.second_factor(&code, false).await;
        assert_eq!(f.get(&path).await.status, 410, "{backend}");
        let token = path.rsplit("token=").next().expect("token").to_string();
        let csrf = f.csrf("/account").await;
        let refused = f
            .post(
                "/account/emails/confirm",
                &[("csrf", &csrf), ("token", &token)],
            )
            .await;
        assert_eq!(refused.status, 410, "{backend}");
        let bob = user(&f, "bob@example.gov").expect("bob");
        assert_eq!(addresses(&f, bob.id).len(), 1, "{backend}");
        assert!(user(&f, WORK).is_none(), "{backend}");
    }
}

#[actix_web::test]
async fn a_password_change_keeps_this_session_and_ends_the_others() {
    for (backend, mut f, mailer) in flows() {
        sign_in(&mut f).await;
        let a = std::mem::take(&mut f.jar);
        sign_in(&mut f).await;
        let b = std::mem::replace(&mut f.jar, a);
        let form = |current: &'static str, new: &'static str, again: &'static str| {
            [
                ("current_password", current),
                ("password", new),
                ("password_confirmation", again),
            ]
        };
        let wrong = post_account(
            &mut f,
            "/account/password",
            &form("wrong", NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
        assert_eq!(wrong.status, 401, "{backend}");
        // The error stands next to the field it is about, which is marked and focused, and
        // the page's title starts with it (SPEC 15).
        for shown in [
            "<p class=\"error\" id=\"current-password-error\">",
            "aria-invalid=\"true\" aria-describedby=\"current-password-error\" autofocus",
        ] {
            assert!(
                wrong.body.contains(shown),
                "{backend}: {shown}: {}",
                wrong.body
            );
        }
        assert!(
            wrong.body.contains("<title>")
                && wrong.body.contains(" - Your account | saml-idp</title>"),
            "{backend}: {}",
            wrong.body
        );
        assert!(
            !wrong.body.contains("role=\"alert\">That password"),
            "{backend}: not at the top"
        );
        let mismatch = post_account(
            &mut f,
            "/account/password",
            &form(PASSWORD, NEW_PASSWORD, "other words here"),
        )
        .await;
        assert_eq!(mismatch.status, 400, "{backend}");
        assert!(
            mismatch
                .body
                .contains("The two passwords are not the same."),
            "{backend}"
        );
        assert!(
            mismatch.body.contains("aria-describedby=\"password-rules new-password-error\" aria-invalid=\"true\" autofocus"),
            "{backend}: {}",
            mismatch.body
        );
        let short = post_account(
            &mut f,
            "/account/password",
            &form(PASSWORD, "short", "short"),
        )
        .await;
        assert!(short.body.contains("at least 12 characters"), "{backend}");
        let common = post_account(
            &mut f,
            "/account/password",
            &form(PASSWORD, "password1234", "password1234"),
        )
        .await;
        assert_eq!(common.status, 400, "{backend}");
        assert!(mailer.sent().is_empty(), "{backend}");

        let changed = post_account(
            &mut f,
            "/account/password",
            &form(PASSWORD, NEW_PASSWORD, NEW_PASSWORD),
        )
        .await;
        assert_eq!(
            changed.location,
            done("password_changed"),
            "{backend}: {}",
            changed.body
        );
        assert_eq!(
            mailer.notices(Change::PasswordChanged),
            vec![vec![ADA.to_string()]],
            "{backend}"
        );
        let page = f.get(&changed.location).await;
        assert_eq!(page.status, 200, "{backend}: this session stays");
        assert!(
            page.body.contains("Your password was changed."),
            "{backend}"
        );
        f.jar = b;
        let other = f.get("/account").await;
        assert_eq!(
            other.location, "/sign-in?locale=en",
            "{backend}: the other one ended"
        );
        f.jar = HashMap::new();
        assert_eq!(
            f.password(ADA, PASSWORD).await.status,
            401,
            "{backend}: old password"
        );
        let new = f.password(ADA, NEW_PASSWORD).await;
        assert_eq!(
            new.location, "/sign-in/mfa?locale=en",
            "{backend}: new password"
        );
        assert!(details(&f, &ada(&f).public_id).contains(&"password_changed".to_string()));
    }
}

/// The secret and token of the authenticator set-up page.
fn setup_fields(body: &str) -> (TotpSecret, String) {
    let secret = body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("the secret as text");
    let token = body
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the token field");
    (
        TotpSecret::from_base32(secret).expect("base32"),
        token.to_string(),
    )
}

#[actix_web::test]
async fn the_authenticator_app_is_added_but_the_last_factor_stays() {
    for (backend, mut f, mailer) in flows() {
        sign_in(&mut f).await;
        let last = post_account(&mut f, "/account/totp/remove", &[]).await;
        assert_eq!(last.status, 409, "{backend}");
        assert!(
            last.body.contains("This is your only second factor"),
            "{backend}"
        );
        assert!(ada(&f).totp_secret_sealed.is_some(), "{backend}: still set");
        let twice = post_account(&mut f, "/account/totp", &[]).await;
        assert_eq!(twice.status, 409, "{backend}");

        // An account without an app (backup codes do not count as a factor): add one.
        let me = ada(&f);
        f.state
            .stores
            .accounts
            .set_totp(me.id, None, f.state.clock.now())
            .expect("remove the app in the store");
        let none = post_account(&mut f, "/account/totp/remove", &[]).await;
        assert_eq!(none.status, 409, "{backend}");
        let setup = post_account(&mut f, "/account/totp", &[]).await;
        assert_eq!(setup.status, 200, "{backend}: {}", setup.body);
        assert!(
            setup.body.contains("<svg class=\"qr\""),
            "{backend}: the QR code"
        );
        assert!(
            setup
                .body
                .contains("action=\"/account/totp/confirm?locale=en\""),
            "{backend}"
        );
        let (secret, token) = setup_fields(&setup.body);
        let csrf = f.csrf("/account").await;
        let wrong = f
            .post(
                "/account/totp/confirm",
                &[("csrf", &csrf), ("token", &token), ("code", "000000")],
            )
            .await;
        assert_eq!(wrong.status, 400, "{backend}");
        assert_eq!(
            setup_fields(&wrong.body).1,
            token,
            "{backend}: the same set-up again"
        );
        let code = totp::code_at(&secret, totp::step_of(f.state.clock.now().timestamp()))
            .expect("TOTP code");
        let added = f
            .post(
                "/account/totp/confirm",
                &[("csrf", &csrf), ("token", &token), ("code", &code)],
            )
            .await;
        assert_eq!(
            added.location,
            done("totp_added"),
            "{backend}: {}",
            added.body
        );
        let stored = ada(&f).totp_secret_sealed.expect("stored");
        let opened = f.state.account_crypto.open_totp(&me.public_id, &stored);
        assert_eq!(
            opened,
            Some(secret),
            "{backend}: the secret shown is the one stored"
        );
        assert_eq!(
            mailer.notices(Change::TotpAdded),
            vec![vec![ADA.to_string()]],
            "{backend}"
        );
        let again = f
            .post(
                "/account/totp/confirm",
                &[("csrf", &csrf), ("token", &token), ("code", &code)],
            )
            .await;
        assert_eq!(again.status, 409, "{backend}: finished once");
        let still_last = post_account(&mut f, "/account/totp/remove", &[]).await;
        assert_eq!(still_last.status, 409, "{backend}: the only factor again");
        assert!(mailer.notices(Change::TotpRemoved).is_empty(), "{backend}");
    }
}

#[actix_web::test]
async fn new_backup_codes_replace_the_old_ones() {
    for (backend, mut f, mailer) in flows() {
        sign_in(&mut f).await;
        let page = post_account(&mut f, "/account/backup-codes", &[]).await;
        assert_eq!(page.status, 200, "{backend}");
        let codes: Vec<String> = page
            .body
            .split("<li><code>")
            .skip(1)
            .filter_map(|s| s.split("</code>").next())
            .map(str::to_string)
            .collect();
        assert_eq!(codes.len(), 10, "{backend}: {}", page.body);
        assert!(
            page.body.contains("done=backup_codes_regenerated"),
            "{backend}"
        );
        assert_eq!(
            mailer.notices(Change::BackupCodesRegenerated).len(),
            1,
            "{backend}"
        );
        let me = ada(&f);
        assert_eq!(
            f.state
                .stores
                .accounts
                .unused_backup_codes(me.id)
                .expect("codes")
                .len(),
            10
        );
        // In another browser: an old code no longer signs in, a new one does.
        f.jar = HashMap::new();
        f.password(ADA, PASSWORD).await;
        let old = f.backup[0].clone();
        assert_eq!(f.second_factor(&old, false).await.status, 401, "{backend}");
        let new = f.second_factor(&codes[0], false).await;
        assert_eq!(new.location, "/?locale=en", "{backend}");
    }
}

/// The mailer port only queues (SPEC 17), so its failing is the queue's database failing:
/// a change already made says its notice could not be queued; a change that needs its
/// email (a confirmation link) is not made, with the outage's answer, the same whether the
/// address is new or another account's.
#[actix_web::test]
async fn a_notice_that_cannot_be_queued_is_reported_on_the_page() {
    for (backend, mut f, mailer) in flows() {
        add_user(&f.state, "bob@example.gov", None, None);
        sign_in(&mut f).await;
        mailer.set_down(true);
        let codes = post_account(&mut f, "/account/backup-codes", &[]).await;
        assert_eq!(codes.status, 200, "{backend}: done all the same");
        assert!(
            codes.body.contains("we could not send the email"),
            "{backend}"
        );
        assert!(
            codes.body.contains("unmailed=1"),
            "{backend}: the link says so too"
        );
        let fields = [
            ("current_password", PASSWORD),
            ("password", NEW_PASSWORD),
            ("password_confirmation", NEW_PASSWORD),
        ];
        let changed = post_account(&mut f, "/account/password", &fields).await;
        assert_eq!(
            changed.location, "/account?locale=en&done=password_changed&unmailed=1",
            "{backend}"
        );
        let page = f.get(&changed.location).await;
        assert!(
            page.body.contains("Your password was changed."),
            "{backend}"
        );
        assert!(
            page.body.contains("we could not send the email"),
            "{backend}"
        );
        let add = post_account(&mut f, "/account/emails", &[("email", WORK)]).await;
        assert_eq!(add.status, 503, "{backend}");
        assert!(add.body.contains("try again"), "{backend}");
        let taken = post_account(&mut f, "/account/emails", &[("email", "bob@example.gov")]).await;
        assert_eq!(
            (taken.status, taken.body),
            (add.status, add.body),
            "{backend}: the same answer for an address in use"
        );
        let rows = common::row_counts(&f._db);
        let tokens = rows.iter().find(|(t, _)| *t == "one_time_tokens");
        assert_eq!(tokens.map(|(_, n)| *n), Some(0), "{backend}: no link kept");
        let words = details(&f, &ada(&f).public_id);
        assert!(
            words.contains(&"notice_mail_failed".to_string()),
            "{backend}"
        );
    }
}

#[actix_web::test]
async fn revoking_consent_makes_the_next_sign_in_ask_again() {
    for (backend, mut f, mailer) in flows() {
        let handed_off = f
            .sign_in_fully(&authn_request(SP1, "", &[AUTH_ONLY]), false)
            .await;
        assert_eq!(handed_off.status, 200, "{backend}");
        let page = f.get("/account").await;
        assert!(
            page.body.contains("<strong>Test SP One</strong>"),
            "{backend}"
        );
        assert!(
            page.body.contains("Email address, All email addresses"),
            "{backend}: {}",
            page.body
        );
        for seen in [
            "<dt>Agreed on</dt><dd>2026-03-15 12:00 UTC</dd>",
            "<dt>Last signed in</dt><dd>2026-03-15 12:00 UTC</dd>",
        ] {
            assert!(
                page.body.contains(seen),
                "{backend}: no {seen}: {}",
                page.body
            );
        }
        let again = f.request(&authn_request(SP1, "", &[AUTH_ONLY])).await;
        assert_eq!(
            again.status, 200,
            "{backend}: single sign-on, no consent page"
        );

        let revoked = post_account(&mut f, "/account/connected/revoke", &[("issuer", SP1)]).await;
        assert_eq!(revoked.location, done("consent_revoked"), "{backend}");
        let me = ada(&f);
        assert!(f
            .state
            .stores
            .identities
            .consent(me.id, SP1)
            .expect("consent")
            .is_none());
        assert_eq!(
            mailer.notices(Change::ConsentRevoked),
            vec![vec![ADA.to_string()]]
        );
        let asks = f.request(&authn_request(SP1, "", &[AUTH_ONLY])).await;
        assert_eq!(
            (asks.status, asks.location.as_str()),
            (303, "/consent?locale=en"),
            "{backend}: consent is asked again"
        );
        let twice = post_account(&mut f, "/account/connected/revoke", &[("issuer", SP1)]).await;
        assert_eq!(twice.status, 404, "{backend}");
        let forged = "<script>alert(1)</script>";
        let unknown =
            post_account(&mut f, "/account/connected/revoke", &[("issuer", forged)]).await;
        assert_eq!(unknown.status, 404, "{backend}");
        let events = f
            .state
            .stores
            .audit
            .recent_for_user(&me.public_id, 50)
            .expect("audit");
        let revoke = events
            .iter()
            .find(|e| e.event.detail.as_deref() == Some("consent_revoked"))
            .expect("audited");
        assert_eq!(
            revoke.event.issuer.as_deref(),
            Some(SP1),
            "{backend}: a registered SP"
        );
        assert!(events
            .iter()
            .all(|e| e.event.issuer.as_deref() != Some(forged)));
    }
}

#[actix_web::test]
async fn signing_out_everywhere_ends_every_browser_and_forgets_remembered_ones() {
    for (backend, mut f, mailer) in flows() {
        f.tick(31);
        f.password(ADA, PASSWORD).await;
        let code = f.code();
        f.second_factor(&code, true).await;
        let remembered = f
            .jar
            .get("__Host-saml_idp_remember")
            .cloned()
            .expect("remembered");
        let b = std::mem::take(&mut f.jar);
        sign_in(&mut f).await;
        let out = post_account(&mut f, "/account/sign-out-everywhere", &[]).await;
        assert_eq!(out.status, 200, "{backend}");
        assert!(
            out.body.contains("You are signed out everywhere"),
            "{backend}"
        );
        assert!(
            !f.jar.contains_key("__Host-saml_idp_session"),
            "{backend}: cookie deleted"
        );
        assert_eq!(
            f.get("/account").await.location,
            "/sign-in?locale=en",
            "{backend}"
        );
        f.jar = b;
        assert_eq!(
            f.get("/account").await.location,
            "/sign-in?locale=en",
            "{backend}: the other browser is signed out too"
        );
        let me = ada(&f);
        let now = f.state.clock.now();
        let still = f
            .state
            .stores
            .sessions
            .is_remembered(&TokenHash::of(&remembered), me.id, now)
            .expect("store");
        assert!(!still, "{backend}: the remembered browser is forgotten");
        assert_eq!(
            mailer.notices(Change::SignedOutEverywhere),
            vec![vec![ADA.to_string()]],
            "{backend}"
        );
    }
}

/// An SP of the fixture agency whose responses are not encrypted.
fn add_plain_sp(f: &Flow) {
    let record = saml_idp::registry::SpRecord {
        issuer: PLAIN_SP.into(),
        friendly_name: Some("Plain Service".into()),
        agency: Some("Test Agency".into()),
        acs_urls: vec!["http://localhost:9005/acs".into()],
        attribute_bundle: vec!["email".into()],
        block_encryption: Some("none".into()),
        return_to_sp_url: Some("http://localhost:9005/".into()),
        active: true,
        ..Default::default()
    };
    let sp = saml_idp::registry::validate(&record, std::path::Path::new(".")).expect("valid");
    common::registry_of(&f.state).add(&sp).expect("add");
    f.state.sp_cache.refresh().expect("refresh");
}

/// The NameID of the Response on a hand-off page.
fn name_id(page: &Answer) -> String {
    let value = page
        .body
        .split("name=\"SAMLResponse\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a SAMLResponse");
    let xml = base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("base64");
    let xml = String::from_utf8(xml).expect("utf-8");
    let after = xml.split("<saml:NameID").nth(1).expect("a NameID");
    after
        .split_once('>')
        .and_then(|(_, rest)| rest.split('<').next())
        .expect("its value")
        .to_string()
}

#[actix_web::test]
async fn deleting_needs_the_password_and_a_current_code_and_uuids_are_never_reused() {
    for (backend, mut f, mailer) in flows() {
        add_plain_sp(&f);
        let first = f
            .sign_in_fully(&authn_request(PLAIN_SP, "", &[AUTH_ONLY]), false)
            .await;
        let old_uuid = name_id(&first);
        let me = ada(&f);
        f.tick(31);
        let code = f.code();
        let wrong_code = post_account(
            &mut f,
            "/account/delete",
            &[("password", PASSWORD), ("code", "123456")],
        )
        .await;
        assert_eq!(wrong_code.status, 401, "{backend}");
        let wrong_password = post_account(
            &mut f,
            "/account/delete",
            &[("password", "wrong"), ("code", &code)],
        )
        .await;
        assert_eq!(wrong_password.status, 401, "{backend}");
        assert!(user(&f, ADA).is_some(), "{backend}: nothing deleted");
        assert_eq!(ada(&f).failed_attempts, 2, "{backend}: both counted");
        assert!(mailer.sent().is_empty(), "{backend}");

        let deleted = post_account(
            &mut f,
            "/account/delete",
            &[("password", PASSWORD), ("code", &code)],
        )
        .await;
        assert_eq!(deleted.status, 200, "{backend}: {}", deleted.body);
        assert!(
            deleted.body.contains("Your account was deleted"),
            "{backend}"
        );
        assert!(user(&f, ADA).is_none(), "{backend}");
        assert!(
            f.state.stores.accounts.get(me.id).expect("store").is_none(),
            "{backend}"
        );
        assert_eq!(
            mailer.sent(),
            vec![Sent {
                to: vec![ADA.to_string()],
                mail: Mail::AccountChanged {
                    change: Change::AccountDeleted
                },
                locale: "en".to_string(),
            }],
            "{backend}: told before the addresses were gone"
        );
        assert_eq!(
            f.get("/account").await.location,
            "/sign-in?locale=en",
            "{backend}"
        );
        let words = details(&f, &me.public_id);
        assert_eq!(
            words.last().map(String::as_str),
            Some("account_deleted"),
            "{backend}"
        );
        no_pii_in_the_audit_trail(&f, backend);

        // A new account with the same address gets a new UUID at the same agency.
        f.backup = add_user(&f.state, ADA, None, None);
        f.jar = HashMap::new();
        f.tick(31);
        let again = f
            .sign_in_fully(&authn_request(PLAIN_SP, "", &[AUTH_ONLY]), false)
            .await;
        let new_uuid = name_id(&again);
        assert_eq!(new_uuid.len(), 36, "{backend}: {new_uuid}");
        assert_ne!(
            new_uuid, old_uuid,
            "{backend}: agency UUIDs are never reused"
        );
    }
}
