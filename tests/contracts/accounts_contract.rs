//! The `AccountStore` contract, one function per behaviour, run on every implementation
//! (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set): users read back whole,
//! unique addresses, removal with everything that names the user, the failure lock, and the
//! replay guards (TOTP steps, backup codes) that hold across nodes.

use crate::common;

use chrono::{DateTime, Duration, SubsecRound, Utc};

use common::stores::{at, fresh_session, Stores};
use saml_idp::accounts::{
    AccountError, AccountStore, EmailRecord, NewUser, UserRecord, UserStatus,
};
use saml_idp::sessions::{IdentityStore, SessionStore};

common::stores::contract_tests! {
    a_created_user_reads_back_with_every_field(accounts);
    unknown_users_are_not_found(accounts);
    a_duplicate_email_is_refused_and_nothing_is_written(accounts);
    a_duplicate_public_id_is_refused(accounts);
    set_status_and_remove_know_unknown_users(accounts);
    removing_a_user_removes_their_sessions_and_identities(accounts, sessions, identities);
    failures_count_across_locks_and_only_reset_clears(accounts);
    the_password_hash_is_replaced(accounts);
    a_totp_step_is_claimed_once(accounts);
    a_totp_step_is_claimed_once_across_two_nodes(stores);
    a_backup_code_is_claimed_once(accounts);
    a_backup_code_is_claimed_by_one_of_two_nodes(stores);
}

fn new_user(tag: &str) -> NewUser {
    NewUser {
        public_id: format!("user-{tag}"),
        password_hash: format!("$argon2id$hash-{tag}"),
        totp_secret_sealed: Some(format!("v1:totp-{tag}")),
        locale: "en".into(),
        emails: vec![
            EmailRecord {
                lookup: format!("lookup-{tag}-1"),
                sealed: format!("v1:email-{tag}-1"),
                for_sign_in: true,
            },
            EmailRecord {
                lookup: format!("lookup-{tag}-2"),
                sealed: format!("v1:email-{tag}-2"),
                for_sign_in: false,
            },
        ],
        backup_code_hashes: (1..=3).map(|i| format!("code-{tag}-{i}")).collect(),
        verified_profile_sealed: Some(format!("v1:profile-{tag}")),
        verified_at: Some(at(-3600)),
        piv_record_sealed: Some(format!("v1:piv-{tag}")),
    }
}

/// Creates `new_user(tag)` at `at(0)` and returns its id.
fn create(store: &dyn AccountStore, tag: &str) -> i64 {
    store.create(&new_user(tag), at(0)).expect("create user")
}

/// The record `user` should read back as once created with `id` at `now`.
fn expected_record(user: &NewUser, id: i64, now: DateTime<Utc>) -> UserRecord {
    UserRecord {
        id,
        public_id: user.public_id.clone(),
        password_hash: user.password_hash.clone(),
        totp_secret_sealed: user.totp_secret_sealed.clone(),
        totp_last_step: None,
        locale: user.locale.clone(),
        status: UserStatus::Active,
        failed_attempts: 0,
        locked_until: None,
        verified_profile_sealed: user.verified_profile_sealed.clone(),
        verified_at: user.verified_at,
        piv_record_sealed: user.piv_record_sealed.clone(),
        // Nanoseconds are cut to the microseconds both databases keep.
        created_at: now.trunc_subsecs(6),
    }
}

fn a_created_user_reads_back_with_every_field(store: &dyn AccountStore) {
    let user = new_user("a");
    let now = at(0) + Duration::nanoseconds(123_456_789);
    let id = store.create(&user, now).expect("create");
    let expected = Some(expected_record(&user, id, now));
    assert_eq!(store.get(id), Ok(expected.clone()), "get");
    for email in &user.emails {
        let found = store.find_by_email(&email.lookup);
        assert_eq!(found, Ok(expected.clone()), "find_by_email");
    }
    let by_public = store.find_by_public_id(&user.public_id);
    assert_eq!(by_public, Ok(expected.clone()), "find_by_public_id");
    let listed = store.list().map(|l| l.into_iter().next());
    assert_eq!(listed, Ok(expected), "list");
    assert_eq!(store.emails(id), Ok(user.emails.clone()), "emails");
    let codes: Vec<String> = store
        .unused_backup_codes(id)
        .expect("codes")
        .into_iter()
        .map(|(_, hash)| hash)
        .collect();
    assert_eq!(codes, user.backup_code_hashes, "backup codes");
}

fn unknown_users_are_not_found(store: &dyn AccountStore) {
    let id = create(store, "a");
    assert_eq!(store.list().map(|l| l.len()), Ok(1), "one user");
    assert_eq!(store.get(id + 1000), Ok(None), "unknown id");
    assert_eq!(store.find_by_email("nope"), Ok(None), "unknown email");
    let public = store.find_by_public_id("nope");
    assert_eq!(public, Ok(None), "unknown public id");
    assert_eq!(store.emails(id + 1000), Ok(vec![]), "no emails");
}

fn a_duplicate_email_is_refused_and_nothing_is_written(store: &dyn AccountStore) {
    let first = create(store, "a");
    let before = store.list().expect("list");
    let mut second = new_user("b");
    second.emails[1].lookup = "lookup-a-2".into();
    let result = store.create(&second, at(1));
    assert_eq!(result, Err(AccountError::DuplicateEmail), "refused");
    assert_eq!(store.list().expect("list"), before, "no user written");
    let owner = store.find_by_email("lookup-b-1").expect("find");
    assert_eq!(owner, None, "no email written");
    let owner = store.find_by_email("lookup-a-2").expect("find");
    assert_eq!(owner.map(|u| u.id), Some(first), "owner unchanged");
    // Two emails of one new user with the same lookup are a duplicate too.
    let mut twice = new_user("c");
    twice.emails[1].lookup = twice.emails[0].lookup.clone();
    let result = store.create(&twice, at(2));
    assert_eq!(result, Err(AccountError::DuplicateEmail), "twice");
    assert_eq!(store.list().expect("list"), before, "still unchanged");
}

/// The public id is unique too; the store says so as a storage error (nothing in the
/// flow creates one twice: it is random).
fn a_duplicate_public_id_is_refused(store: &dyn AccountStore) {
    create(store, "a");
    let mut again = new_user("b");
    again.public_id = "user-a".into();
    let result = store.create(&again, at(1));
    assert!(
        matches!(result, Err(AccountError::Storage(_))),
        "{result:?}"
    );
    assert_eq!(store.list().map(|l| l.len()), Ok(1), "nothing written");
    assert_eq!(
        store.find_by_email("lookup-b-1"),
        Ok(None),
        "no email written"
    );
}

fn set_status_and_remove_know_unknown_users(store: &dyn AccountStore) {
    let id = create(store, "a");
    let other = create(store, "b");
    store
        .set_status("user-a", UserStatus::Suspended)
        .expect("suspend");
    let status = store.get(id).expect("get").map(|u| u.status);
    assert_eq!(status, Some(UserStatus::Suspended), "suspended");
    let missing = store.set_status("user-x", UserStatus::Active);
    let not_found = Err(AccountError::NotFound("user-x".into()));
    assert_eq!(missing, not_found, "set_status unknown");
    assert_eq!(store.remove("user-x"), not_found, "remove unknown");
    store.remove("user-a").expect("remove");
    assert_eq!(store.get(id).expect("get"), None, "removed");
    assert!(store.emails(id).expect("emails").is_empty(), "emails");
    let codes = store.unused_backup_codes(id).expect("codes");
    assert!(codes.is_empty(), "codes removed");
    let left: Vec<i64> = store.list().expect("list").iter().map(|u| u.id).collect();
    assert_eq!(left, vec![other], "the other user stays");
    // The address is free again.
    store.create(&new_user("a"), at(5)).expect("re-create");
}

fn removing_a_user_removes_their_sessions_and_identities(
    store: &dyn AccountStore,
    sessions: &dyn SessionStore,
    identities: &dyn IdentityStore,
) {
    let id = create(store, "a");
    sessions
        .create(&fresh_session("s1", Some(id)))
        .expect("session");
    sessions
        .remember_browser("b1", id, at(100))
        .expect("remember");
    let uuid = identities
        .agency_uuid(id, "agency", "uuid-1", at(0))
        .expect("uuid");
    identities
        .save_consent(id, "sp", &["email".into()], at(0))
        .expect("consent");
    store.remove("user-a").expect("remove");
    let got = sessions.get("s1", at(1), at(-1)).expect("get");
    assert_eq!(got, None, "session gone");
    let remembered = sessions.is_remembered("b1", id, at(1)).expect("remembered");
    assert!(!remembered, "remembered browser gone");
    let owner = identities
        .user_for_agency_uuid("agency", &uuid)
        .expect("owner");
    assert_eq!(owner, None, "identity gone");
    assert_eq!(identities.consent(id, "sp"), Ok(None), "consent");
}

fn failures_count_across_locks_and_only_reset_clears(store: &dyn AccountStore) {
    let id = create(store, "a");
    let until = at(900) + Duration::nanoseconds(5_500);
    for expected in 1..=3 {
        let n = store.record_failure(id).expect("failure");
        assert_eq!(n, expected, "count");
        let user = store.get(id).expect("get").expect("user");
        assert_eq!(user.failed_attempts, expected, "stored count");
        assert_eq!(user.locked_until, None, "counting does not lock");
    }
    store.lock_until(id, until).expect("lock");
    let user = store.get(id).expect("get").expect("user");
    assert_eq!(user.locked_until, Some(until.trunc_subsecs(6)), "locked");
    assert_eq!(user.failed_attempts, 3, "locking keeps the count");
    assert_eq!(store.record_failure(id), Ok(4), "counts on from the lock");
    store.reset_failures(id).expect("reset");
    let user = store.get(id).expect("get").expect("user");
    assert_eq!(user.failed_attempts, 0, "reset count");
    assert_eq!(user.locked_until, None, "reset lock");
    let missing = store.record_failure(id + 1000);
    assert!(matches!(missing, Err(AccountError::NotFound(_))), "unknown");
    let missing = store.lock_until(id + 1000, until);
    assert!(matches!(missing, Err(AccountError::NotFound(_))), "unknown");
    let missing = store.reset_failures(id + 1000);
    assert!(matches!(missing, Err(AccountError::NotFound(_))), "unknown");
}

fn the_password_hash_is_replaced(store: &dyn AccountStore) {
    let (a, b) = (create(store, "a"), create(store, "b"));
    store.set_password_hash(a, "$argon2id$new").expect("set");
    let hash = |id| store.get(id).expect("get").expect("user").password_hash;
    assert_eq!(hash(a), "$argon2id$new");
    assert_eq!(hash(b), "$argon2id$hash-b", "the other user's stays");
    let missing = store.set_password_hash(b + 1000, "x");
    assert!(matches!(missing, Err(AccountError::NotFound(_))), "unknown");
}

fn a_totp_step_is_claimed_once(store: &dyn AccountStore) {
    let id = create(store, "a");
    assert_eq!(store.claim_totp_step(id, 100), Ok(true), "first");
    assert_eq!(store.claim_totp_step(id, 100), Ok(false), "same step");
    assert_eq!(store.claim_totp_step(id, 99), Ok(false), "older step");
    assert_eq!(store.claim_totp_step(id, 101), Ok(true), "newer step");
    let last = store.get(id).expect("get").and_then(|u| u.totp_last_step);
    assert_eq!(last, Some(101), "stored step");
    assert_eq!(
        store.claim_totp_step(id + 1000, 5),
        Ok(false),
        "unknown user"
    );
}

fn a_totp_step_is_claimed_once_across_two_nodes(s: &Stores) {
    let (one, other) = (s.accounts(), s.another_node());
    let two = other.accounts();
    let id = create(one, "a");
    assert_eq!(one.claim_totp_step(id, 7), Ok(true), "node one");
    assert_eq!(two.claim_totp_step(id, 7), Ok(false), "node two, same step");
    assert_eq!(two.claim_totp_step(id, 8), Ok(true), "node two, newer");
    assert_eq!(one.claim_totp_step(id, 8), Ok(false), "node one, same step");
}

fn a_backup_code_is_claimed_once(store: &dyn AccountStore) {
    let id = create(store, "a");
    let other = create(store, "b");
    let codes = store.unused_backup_codes(id).expect("codes");
    assert_eq!(codes.len(), 3, "three codes");
    let (code_id, _) = codes[1].clone();
    assert_eq!(store.claim_backup_code(code_id, at(1)), Ok(true), "first");
    assert_eq!(store.claim_backup_code(code_id, at(2)), Ok(false), "again");
    let left = store.unused_backup_codes(id).expect("codes");
    assert_eq!(left, vec![codes[0].clone(), codes[2].clone()], "left");
    let others = store.unused_backup_codes(other).expect("codes");
    assert_eq!(others.len(), 3, "other user's codes untouched");
    assert_eq!(
        store.claim_backup_code(9999, at(3)),
        Ok(false),
        "unknown code"
    );
}

fn a_backup_code_is_claimed_by_one_of_two_nodes(s: &Stores) {
    let id = create(s.accounts(), "a");
    let (code_id, _) = s.accounts.unused_backup_codes(id).expect("codes")[0].clone();
    let other = s.another_node();
    let claimed = [s.accounts(), other.accounts()]
        .iter()
        .filter(|store| store.claim_backup_code(code_id, at(3)).expect("claim"))
        .count();
    assert_eq!(claimed, 1);
}
