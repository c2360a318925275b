//! The account lock (SPEC 7) from the outside, on SQLite and on PostgreSQL when
//! `TEST_DATABASE_URL` is set: failures count across locks (a lock never restarts the count),
//! successive locks last longer (`[sign_in] lock_seconds`, default 10 min, 1 h, 24 h), every
//! lock is emailed to the account's addresses, 100 consecutive failures lock the account
//! until a password reset by email, and only a completed sign-in or a reset clears the count.

use crate::common;

use common::flow::*;
use saml_idp::accounts::UserRecord;
use saml_idp::mail::Mail;

const ADA: &str = "ada@example.gov";

fn ada(f: &Flow) -> UserRecord {
    let (_, lookup) = f.state.account_crypto.email_lookup(ADA).expect("email");
    f.state
        .stores
        .accounts
        .find_by_email(&lookup)
        .expect("store")
        .expect("ada")
}

/// `n` wrong passwords, a minute apart in groups of ten so that no rate limit answers.
async fn fail(f: &mut Flow, n: usize) {
    for i in 0..n {
        if i > 0 && i % 10 == 0 {
            f.tick(61);
        }
        assert_eq!(f.password(ADA, "wrong").await.status, 401);
    }
}

/// Whether the right password gets past the password step now.
async fn opens(f: &mut Flow) -> bool {
    let answer = f.password(ADA, PASSWORD).await;
    f.jar.clear();
    answer.status == 303
}

/// The `until` of each lock notice, in order, with its recipients.
fn lock_notices(mailer: &common::mail::RecordingMailer) -> Vec<(Option<String>, Vec<String>)> {
    mailer
        .sent()
        .into_iter()
        .filter_map(|s| match s.mail {
            Mail::AccountLocked { until, reset_link } => {
                assert!(reset_link.ends_with("/forgot-password"), "{reset_link}");
                Some((until, s.to))
            }
            _ => None,
        })
        .collect()
}

#[actix_web::test]
async fn successive_locks_last_longer_and_each_is_emailed() {
    for (backend, mut f, mailer) in every_backend_recording_mail() {
        let start = f.state.clock.now();
        fail(&mut f, 10).await;
        assert!(!opens(&mut f).await, "{backend}: the first lock holds");
        assert_eq!(ada(&f).failed_attempts, 10, "{backend}: the count stays");
        let first = start + chrono::Duration::seconds(600);
        assert_eq!(
            lock_notices(&mailer),
            [(
                Some(first.format("%Y-%m-%d %H:%M UTC").to_string()),
                vec![ADA.to_string()]
            )],
            "{backend}: the owner is told"
        );
        f.tick(601);
        // Nine more failures do not lock again: the count goes on from 10, not from 0.
        fail(&mut f, 9).await;
        assert_eq!(ada(&f).failed_attempts, 19, "{backend}");
        let before = f.state.clock.now();
        assert_eq!(f.password(ADA, "wrong").await.status, 401);
        assert_eq!(ada(&f).failed_attempts, 20, "{backend}");
        // The second lock lasts an hour: after 11 minutes it still holds.
        f.tick(11 * 60);
        assert!(
            !opens(&mut f).await,
            "{backend}: the second lock lasts longer"
        );
        let notices = lock_notices(&mailer);
        assert_eq!(notices.len(), 2, "{backend}: every lock is emailed");
        let second = before + chrono::Duration::seconds(3600);
        assert_eq!(
            notices[1].0,
            Some(second.format("%Y-%m-%d %H:%M UTC").to_string()),
            "{backend}"
        );
        f.tick(3600);
        // A completed sign-in, and only that, clears the count.
        let xml = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
        f.sign_in_fully(&xml, false).await;
        let user = ada(&f);
        assert_eq!(user.failed_attempts, 0, "{backend}: a completed sign-in");
        assert_eq!(user.locked_until, None, "{backend}");
    }
}

#[actix_web::test]
async fn a_hundred_failures_lock_until_a_password_reset() {
    for (backend, mut f, mailer) in every_backend_recording_mail() {
        for _ in 0..10 {
            fail(&mut f, 10).await;
            // Past the longest lock (24 hours): the next series starts unlocked.
            f.tick(86_401);
        }
        assert_eq!(ada(&f).failed_attempts, 100, "{backend}");
        let notices = lock_notices(&mailer);
        assert_eq!(notices.len(), 10, "{backend}");
        assert_eq!(notices[9].0, None, "{backend}: the tenth lock has no end");
        f.tick(30 * 86_400);
        assert!(
            !opens(&mut f).await,
            "{backend}: still locked a month later"
        );
        assert_eq!(
            ada(&f).failed_attempts,
            100,
            "{backend}: locked steps count nothing"
        );

        let csrf = f.csrf("/forgot-password").await;
        let sent = f
            .post("/forgot-password", &[("csrf", &csrf), ("email", ADA)])
            .await;
        assert_eq!(sent.status, 200, "{backend}");
        let page = f.get(&mailer.last_link_path()).await;
        let token = form_field(&page.body, "token").expect("token");
        let csrf = form_field(&page.body, "csrf").expect("csrf");
        let new_password = "a fresh passphrase after the lock";
        let done = f
            .post(
                "/reset-password",
                &[
                    ("csrf", &csrf),
                    ("token", &token),
                    ("password", new_password),
                    ("password_confirmation", new_password),
                ],
            )
            .await;
        assert_eq!(done.status, 200, "{backend}: {}", done.body);
        let user = ada(&f);
        assert_eq!(
            user.failed_attempts, 0,
            "{backend}: the reset lifts the lock"
        );
        f.jar.clear();
        assert_eq!(
            f.password(ADA, new_password).await.status,
            303,
            "{backend}: the new password opens the account"
        );
    }
}
