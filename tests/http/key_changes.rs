//! Security-key changes are account changes (SPEC 17), from the outside: the key pages and
//! their forms refuse a suspended user as `/account` does, adding or removing a key is
//! announced by email, and removing a second factor (a key, or the authentication app) ends
//! the account's other sessions while the browser that removed it stays signed in.

use crate::common;
use crate::security_keys::{register, registration_options, sign_in_with_code, ADA, KEYS, ORIGIN};

use std::collections::HashMap;

use common::flow::*;
use common::mail::RecordingMailer;
use common::soft_key::SoftKey;
use saml_idp::accounts::UserStatus;
use saml_idp::mail::Change;

const SIGN_IN: &str = "/sign-in?locale=en";

fn key_ids(f: &Flow) -> Vec<i64> {
    crate::security_keys::keys_of(f, ADA)
        .iter()
        .map(|k| k.id)
        .collect()
}

#[actix_web::test]
async fn a_suspended_user_is_refused_on_the_key_pages_like_on_the_account_page() {
    for (backend, mut f) in every_backend() {
        sign_in_with_code(&mut f, ADA).await;
        let mut first = SoftKey::new();
        register(&mut f, &mut first, "First key").await;
        let before = key_ids(&f);
        // A ceremony begun before the suspension, answered after it.
        let (csrf, ceremony, options) = registration_options(&mut f).await;
        let answer = SoftKey::new().register(&options, ORIGIN);
        let public_id = f.state.stores.accounts.list().expect("list")[0]
            .public_id
            .clone();
        f.state
            .stores
            .accounts
            .set_status(&public_id, UserStatus::Suspended)
            .expect("suspend");

        assert_eq!(f.get("/account").await.location, SIGN_IN, "{backend}");
        assert_eq!(f.get(KEYS).await.location, SIGN_IN, "{backend}");
        let posts: [(String, Vec<(&str, &str)>); 3] = [
            (format!("{KEYS}/options"), vec![("csrf", &csrf)]),
            (
                KEYS.to_string(),
                vec![
                    ("csrf", &csrf),
                    ("name", "Second key"),
                    ("ceremony", &ceremony),
                    ("response", &answer),
                ],
            ),
            (
                format!("{KEYS}/{}/remove", before[0]),
                vec![("csrf", &csrf)],
            ),
        ];
        for (path, fields) in posts {
            let refused = f.post(&path, &fields).await;
            assert_eq!(
                (refused.status, refused.location.as_str()),
                (303, SIGN_IN),
                "{backend}: {path}: {}",
                refused.body
            );
        }
        assert_eq!(key_ids(&f), before, "{backend}: nothing added or removed");
    }
}

#[actix_web::test]
async fn adding_and_removing_a_key_is_announced_by_email() {
    for (backend, mut f) in every_backend() {
        let mailer = RecordingMailer::new();
        f.state = f.state.clone().with_mailer(mailer.clone());
        sign_in_with_code(&mut f, ADA).await;
        let mut key = SoftKey::new();
        let added = register(&mut f, &mut key, "Blue key").await;
        assert_eq!(added.status, 303, "{backend}: {}", added.body);
        assert_eq!(
            mailer.notices(Change::SecurityKeyAdded),
            [vec![ADA.to_string()]],
            "{backend}"
        );
        let id = key_ids(&f)[0];
        let removed = remove_key(&mut f, id).await;
        assert_eq!(removed.status, 303, "{backend}: {}", removed.body);
        assert_eq!(
            mailer.notices(Change::SecurityKeyRemoved),
            [vec![ADA.to_string()]],
            "{backend}"
        );
        // A mail server that is down: the key is added, and the page says the email failed.
        mailer.set_down(true);
        let added = register(&mut f, &mut SoftKey::new(), "Green key").await;
        assert_eq!(
            added.location, "/account/security-keys?locale=en&done=added&unmailed=1",
            "{backend}"
        );
        let page = f.get(&added.location).await;
        assert!(
            page.body.contains("could not send the email"),
            "{backend}: {}",
            page.body
        );
        assert_eq!(key_ids(&f).len(), 1, "{backend}");
    }
}

async fn remove_key(f: &mut Flow, id: i64) -> Answer {
    let csrf = f.csrf(KEYS).await;
    f.post(&format!("{KEYS}/{id}/remove"), &[("csrf", &csrf)])
        .await
}

/// Browser `a` is signed in and holds the jar; browser `b` signs in too. Returns b's jar.
async fn second_browser(f: &mut Flow) -> HashMap<String, String> {
    let a = std::mem::take(&mut f.jar);
    sign_in_with_code(f, ADA).await;
    assert_eq!(f.get("/account").await.status, 200);
    std::mem::replace(&mut f.jar, a)
}

/// `/account` in browser `jar` (then the flow's jar is back).
async fn account_in(f: &mut Flow, jar: HashMap<String, String>) -> Answer {
    let own = std::mem::replace(&mut f.jar, jar);
    let answer = f.get("/account").await;
    f.jar = own;
    answer
}

/// This browser is still signed in; the `other` one is not.
async fn only_this_browser_stays(f: &mut Flow, other: HashMap<String, String>, backend: &str) {
    assert_eq!(
        f.get("/account").await.status,
        200,
        "{backend}: this one stays"
    );
    let ended = account_in(f, other).await;
    assert_eq!(ended.location, SIGN_IN, "{backend}: the other one ended");
}

#[actix_web::test]
async fn removing_a_second_factor_ends_the_other_sessions() {
    for (backend, mut f) in every_backend() {
        sign_in_with_code(&mut f, ADA).await;
        let mut blue = SoftKey::new();
        register(&mut f, &mut blue, "Blue key").await;
        let mut green = SoftKey::new();
        register(&mut f, &mut green, "Green key").await;

        // A key.
        let other = second_browser(&mut f).await;
        let id = key_ids(&f)[0];
        let removed = remove_key(&mut f, id).await;
        assert_eq!(removed.status, 303, "{backend}: {}", removed.body);
        only_this_browser_stays(&mut f, other, backend).await;

        // The authentication app (the green key remains).
        let other = second_browser(&mut f).await;
        let page = f.get("/account").await;
        let csrf = form_field(&page.body, "csrf").expect("csrf");
        let removed = f.post("/account/totp/remove", &[("csrf", &csrf)]).await;
        assert_eq!(
            removed.location, "/account?locale=en&done=totp_removed",
            "{backend}: {}",
            removed.body
        );
        only_this_browser_stays(&mut f, other, backend).await;
    }
}
