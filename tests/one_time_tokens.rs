//! One-time tokens (SPEC 17, 18) on every backend: found only with their purpose and before
//! they expire, taken exactly once even by racing callers, payload replaced in place, deleted
//! per user, and gone with their user.

mod common;

use std::sync::Arc;
use std::thread;

use chrono::{DateTime, Duration, Utc};
use common::every_backend;
use saml_idp::accounts::tokens::{TokenPurpose, TokenRecord, TokenStore};
use saml_idp::accounts::NewUser;
use saml_idp::web::AppState;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn user(state: &AppState, public_id: &str) -> i64 {
    let new = NewUser {
        public_id: public_id.into(),
        password_hash: "$argon2id$hash".into(),
        totp_secret_sealed: None,
        locale: "en".into(),
        emails: Vec::new(),
        backup_code_hashes: Vec::new(),
        verified_profile_sealed: None,
        verified_at: None,
        piv_record_sealed: None,
    };
    state.accounts.create(&new, now()).expect("create user")
}

fn issue(state: &AppState, hash: &str, purpose: TokenPurpose, user: Option<i64>) {
    let record = TokenRecord::issue(hash.into(), purpose, user, Some("p".into()), now());
    state.tokens.insert(&record).expect("insert");
}

#[test]
fn a_token_opens_only_its_own_door_and_only_until_it_expires() {
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        issue(&state, "h1", TokenPurpose::ResetPassword, None);
        let find = |purpose, at| state.tokens.find("h1", purpose, at).expect("find");
        let found = find(TokenPurpose::ResetPassword, now()).expect("{backend}: found");
        assert_eq!(found.payload.as_deref(), Some("p"), "{backend}");
        assert_eq!(found.expires_at, now() + Duration::hours(1), "{backend}");
        assert!(
            find(TokenPurpose::ConfirmEmail, now()).is_none(),
            "{backend}: purpose"
        );
        let last = now() + Duration::hours(1) - Duration::seconds(1);
        assert!(
            find(TokenPurpose::ResetPassword, last).is_some(),
            "{backend}"
        );
        let end = now() + Duration::hours(1);
        assert!(
            find(TokenPurpose::ResetPassword, end).is_none(),
            "{backend}: expired"
        );
        let taken = state.tokens.take("h1", TokenPurpose::ResetPassword, end);
        assert_eq!(
            taken,
            Ok(None),
            "{backend}: an expired token cannot be taken"
        );
        let wrong = state.tokens.take("h1", TokenPurpose::SignUp, now());
        assert_eq!(wrong, Ok(None), "{backend}: nor taken with another purpose");
        assert!(
            find(TokenPurpose::ResetPassword, now()).is_some(),
            "{backend}: still there"
        );
    }
}

#[test]
fn a_token_is_taken_once_even_by_racing_callers() {
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        for i in 0..5 {
            issue(
                &state,
                &format!("race-{i}"),
                TokenPurpose::ConfirmEmail,
                None,
            );
        }
        let tokens: Arc<dyn TokenStore> = state.tokens.clone();
        let winners: usize = (0..4)
            .map(|_| {
                let tokens = tokens.clone();
                thread::spawn(move || {
                    (0..5)
                        .filter(|i| {
                            let hash = format!("race-{i}");
                            let taken = tokens.take(&hash, TokenPurpose::ConfirmEmail, now());
                            taken.expect("take").is_some()
                        })
                        .count()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .sum();
        assert_eq!(winners, 5, "{backend}: each of 5 tokens taken exactly once");
        let again = state
            .tokens
            .take("race-0", TokenPurpose::ConfirmEmail, now());
        assert_eq!(again, Ok(None), "{backend}: a used token is gone");
    }
}

#[test]
fn the_payload_is_replaced_only_while_the_token_lives() {
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        issue(&state, "s1", TokenPurpose::SignUp, None);
        let update = |payload, at| {
            let r = state
                .tokens
                .update_payload("s1", TokenPurpose::SignUp, payload, at);
            r.expect("update")
        };
        assert!(update("step-2", now()), "{backend}");
        let found = state
            .tokens
            .find("s1", TokenPurpose::SignUp, now())
            .expect("find");
        assert_eq!(found.and_then(|t| t.payload).as_deref(), Some("step-2"));
        assert!(
            !update("late", now() + Duration::hours(2)),
            "{backend}: expired"
        );
        let wrong = state
            .tokens
            .update_payload("s1", TokenPurpose::ResetPassword, "x", now());
        assert_eq!(wrong, Ok(false), "{backend}: another purpose");
    }
}

#[test]
fn tokens_are_deleted_per_user_and_with_their_user() {
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        let (ada, bob) = (user(&state, "u-ada"), user(&state, "u-bob"));
        issue(&state, "a1", TokenPurpose::ResetPassword, Some(ada));
        issue(&state, "a2", TokenPurpose::ResetPassword, Some(ada));
        issue(&state, "a3", TokenPurpose::ConfirmNewEmail, Some(ada));
        issue(&state, "b1", TokenPurpose::ResetPassword, Some(bob));
        let deleted = state
            .tokens
            .delete_for_user(ada, TokenPurpose::ResetPassword);
        assert_eq!(deleted, Ok(2), "{backend}");
        let alive = |hash, purpose| {
            let found = state.tokens.find(hash, purpose, now()).expect("find");
            found.is_some()
        };
        assert!(
            alive("a3", TokenPurpose::ConfirmNewEmail),
            "{backend}: other purpose"
        );
        assert!(
            alive("b1", TokenPurpose::ResetPassword),
            "{backend}: other user"
        );
        state.accounts.remove("u-ada").expect("remove");
        assert!(
            !alive("a3", TokenPurpose::ConfirmNewEmail),
            "{backend}: cascade"
        );
    }
}
