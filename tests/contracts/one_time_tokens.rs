//! The `TokenStore` contract (SPEC 17, 18), one function per behaviour, run on every
//! implementation (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set): tokens are
//! found only with their purpose and before they expire, taken exactly once even by racing
//! callers, payload replaced in place, deleted per user, and gone with their user.

use crate::common;

use chrono::{DateTime, Duration, Utc};

use common::stores::{concurrently, Stores};
use saml_idp::accounts::tokens::{TokenPurpose, TokenRecord, TokenStore};
use saml_idp::accounts::AccountStore;

common::stores::contract_tests! {
    a_token_opens_only_its_own_door_and_only_until_it_expires(tokens);
    a_token_is_taken_whole_and_once(tokens);
    a_token_is_taken_once_even_by_racing_callers(stores);
    the_payload_is_replaced_only_while_the_token_lives(tokens);
    a_token_hash_is_unique_and_a_token_names_an_existing_user(accounts, tokens);
    tokens_are_deleted_per_user_and_with_their_user(accounts, tokens);
    only_the_newest_tokens_of_a_user_and_purpose_are_kept(accounts, tokens);
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn user(accounts: &dyn AccountStore, public_id: &str) -> i64 {
    let new = common::stores::bare_user(public_id);
    accounts.create(&new, now()).expect("create user")
}

fn record(hash: &str, purpose: TokenPurpose, user: Option<i64>) -> TokenRecord {
    TokenRecord::issue(hash.into(), purpose, user, Some("p".into()), now())
}

fn issue(tokens: &dyn TokenStore, hash: &str, purpose: TokenPurpose, user: Option<i64>) {
    tokens.insert(&record(hash, purpose, user)).expect("insert");
}

fn a_token_opens_only_its_own_door_and_only_until_it_expires(tokens: &dyn TokenStore) {
    issue(tokens, "h1", TokenPurpose::ResetPassword, None);
    let find = |purpose, at| tokens.find("h1", purpose, at).expect("find");
    let found = find(TokenPurpose::ResetPassword, now()).expect("found");
    assert_eq!(found.payload.as_deref(), Some("p"));
    assert_eq!(found.expires_at, now() + Duration::hours(1));
    assert!(find(TokenPurpose::ConfirmEmail, now()).is_none(), "purpose");
    let last = now() + Duration::hours(1) - Duration::seconds(1);
    assert!(find(TokenPurpose::ResetPassword, last).is_some());
    let end = now() + Duration::hours(1);
    assert!(find(TokenPurpose::ResetPassword, end).is_none(), "expired");
    let taken = tokens.take("h1", TokenPurpose::ResetPassword, end);
    assert_eq!(taken, Ok(None), "an expired token cannot be taken");
    let wrong = tokens.take("h1", TokenPurpose::SignUp, now());
    assert_eq!(wrong, Ok(None), "nor taken with another purpose");
    let still = find(TokenPurpose::ResetPassword, now());
    assert!(still.is_some(), "still there");
}

fn a_token_is_taken_whole_and_once(tokens: &dyn TokenStore) {
    let issued = record("h1", TokenPurpose::ConfirmNewEmail, None);
    tokens.insert(&issued).expect("insert");
    let purpose = TokenPurpose::ConfirmNewEmail;
    assert_eq!(tokens.take("h1", purpose, now()), Ok(Some(issued)));
    assert_eq!(tokens.take("h1", purpose, now()), Ok(None), "gone");
    assert_eq!(tokens.find("h1", purpose, now()), Ok(None), "gone");
}

fn a_token_is_taken_once_even_by_racing_callers(s: &Stores) {
    for i in 0..5 {
        let hash = format!("race-{i}");
        issue(s.tokens(), &hash, TokenPurpose::ConfirmEmail, None);
    }
    let won = concurrently(&s.tokens, 4, |tokens, _| {
        (0..5)
            .filter(|i| {
                let taken = tokens.take(&format!("race-{i}"), TokenPurpose::ConfirmEmail, now());
                taken.expect("take").is_some()
            })
            .count()
    });
    let winners: usize = won.iter().sum();
    assert_eq!(winners, 5, "each of 5 tokens taken exactly once");
}

fn the_payload_is_replaced_only_while_the_token_lives(tokens: &dyn TokenStore) {
    issue(tokens, "s1", TokenPurpose::SignUp, None);
    let update = |payload, at| {
        let r = tokens.update_payload("s1", TokenPurpose::SignUp, payload, at);
        r.expect("update")
    };
    assert!(update("step-2", now()));
    let found = tokens
        .find("s1", TokenPurpose::SignUp, now())
        .expect("find");
    assert_eq!(found.and_then(|t| t.payload).as_deref(), Some("step-2"));
    assert!(!update("late", now() + Duration::hours(2)), "expired");
    let wrong = tokens.update_payload("s1", TokenPurpose::ResetPassword, "x", now());
    assert_eq!(wrong, Ok(false), "another purpose");
}

fn a_token_hash_is_unique_and_a_token_names_an_existing_user(
    accounts: &dyn AccountStore,
    tokens: &dyn TokenStore,
) {
    let ada = user(accounts, "u-ada");
    issue(tokens, "h1", TokenPurpose::ResetPassword, Some(ada));
    let again = record("h1", TokenPurpose::SignUp, None);
    assert!(tokens.insert(&again).is_err(), "same hash");
    let orphan = record("h2", TokenPurpose::ResetPassword, Some(ada + 1000));
    assert!(tokens.insert(&orphan).is_err(), "no such user");
    let found = |hash, purpose| tokens.find(hash, purpose, now()).expect("find");
    assert!(
        found("h1", TokenPurpose::ResetPassword).is_some(),
        "first kept"
    );
    assert!(
        found("h2", TokenPurpose::ResetPassword).is_none(),
        "none stored"
    );
}

fn tokens_are_deleted_per_user_and_with_their_user(
    accounts: &dyn AccountStore,
    tokens: &dyn TokenStore,
) {
    let (ada, bob) = (user(accounts, "u-ada"), user(accounts, "u-bob"));
    issue(tokens, "a1", TokenPurpose::ResetPassword, Some(ada));
    issue(tokens, "a2", TokenPurpose::ResetPassword, Some(ada));
    issue(tokens, "a3", TokenPurpose::ConfirmNewEmail, Some(ada));
    issue(tokens, "b1", TokenPurpose::ResetPassword, Some(bob));
    let deleted = tokens.delete_for_user(ada, TokenPurpose::ResetPassword);
    assert_eq!(deleted, Ok(2));
    let alive = |hash, purpose| tokens.find(hash, purpose, now()).expect("find").is_some();
    assert!(alive("a3", TokenPurpose::ConfirmNewEmail), "other purpose");
    assert!(alive("b1", TokenPurpose::ResetPassword), "other user");
    accounts.remove("u-ada").expect("remove");
    assert!(!alive("a3", TokenPurpose::ConfirmNewEmail), "cascade");
}

fn only_the_newest_tokens_of_a_user_and_purpose_are_kept(
    accounts: &dyn AccountStore,
    tokens: &dyn TokenStore,
) {
    let ada = user(accounts, "ada");
    let bob = user(accounts, "bob");
    let purpose = TokenPurpose::WebauthnAuthentication;
    for n in 0..5 {
        let mut r = record(&format!("ada-{n}"), purpose, Some(ada));
        r.created_at = now() + Duration::seconds(n);
        tokens.insert(&r).expect("insert");
    }
    issue(tokens, "bob-0", purpose, Some(bob));
    issue(tokens, "ada-other", TokenPurpose::AccountTotp, Some(ada));
    assert_eq!(
        tokens.keep_newest(ada, purpose, 2),
        Ok(3),
        "three older ones go"
    );
    let live = |hash: &str, purpose| tokens.find(hash, purpose, now()).expect("find").is_some();
    for (hash, kept) in [
        ("ada-0", false),
        ("ada-1", false),
        ("ada-2", false),
        ("ada-3", true),
        ("ada-4", true),
    ] {
        assert_eq!(live(hash, purpose), kept, "{hash}");
    }
    assert!(live("bob-0", purpose), "another user's tokens stay");
    assert!(
        live("ada-other", TokenPurpose::AccountTotp),
        "another purpose stays"
    );
    assert_eq!(tokens.keep_newest(ada, purpose, 0), Ok(2));
    assert!(!live("ada-4", purpose));
}
