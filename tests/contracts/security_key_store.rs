//! The `SecurityKeyStore` contract, one function per behaviour, run on every implementation
//! (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set): keys are listed per user in
//! the order they were added, removed only by their own user, a credential id is unique
//! across users, a use updates the credential and its time, names are 1 to 64 characters,
//! the attestation verdict and the backup-eligible flag come back as stored, and removing
//! the user removes the keys.

use crate::common;

use chrono::{DateTime, Duration, TimeZone, Utc};

use saml_idp::accounts::security_keys::{
    Attestation, NewSecurityKey, SecurityKeyStore, NAME_MAX_CHARS,
};
use saml_idp::accounts::AccountStore;

common::stores::contract_tests! {
    keys_are_listed_and_counted_per_user_oldest_first(accounts, security_keys);
    a_credential_id_is_registered_once_for_anyone(accounts, security_keys);
    a_use_updates_the_credential_and_its_time(accounts, security_keys);
    only_its_own_user_removes_a_key(accounts, security_keys);
    a_name_is_one_to_sixty_four_characters(accounts, security_keys);
    the_attestation_verdict_and_backup_eligibility_round_trip(accounts, security_keys);
    removing_a_user_removes_their_keys_and_frees_the_credential_id(accounts, security_keys);
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
        .single()
        .expect("t")
}

/// A user without addresses; returns its id.
fn user(accounts: &dyn AccountStore, public_id: &str) -> i64 {
    let new = common::stores::bare_user(public_id);
    accounts.create(&new, t0()).expect("create user")
}

fn key(user_id: i64, name: &str, credential_id: &str) -> NewSecurityKey {
    NewSecurityKey {
        user_id,
        name: name.into(),
        credential_id: credential_id.into(),
        credential: format!("{{\"cred\":\"{credential_id}\"}}"),
        attestation: Attestation::Absent,
        backup_eligible: false,
    }
}

/// Adds a key and returns its id.
fn add(store: &dyn SecurityKeyStore, key: NewSecurityKey, at: DateTime<Utc>) -> i64 {
    store
        .add(&key, at)
        .expect("add")
        .expect("a new credential id")
}

fn keys_are_listed_and_counted_per_user_oldest_first(
    accounts: &dyn AccountStore,
    store: &dyn SecurityKeyStore,
) {
    let (ada, bob) = (user(accounts, "ada"), user(accounts, "bob"));
    let first = add(store, key(ada, "Blue", "cred-a1"), t0());
    add(store, key(bob, "Bob's", "cred-b1"), t0());
    add(
        store,
        key(ada, "Laptop", "cred-a2"),
        t0() + Duration::seconds(1),
    );
    let listed = store.list_for_user(ada).expect("list");
    let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["Blue", "Laptop"]);
    assert_eq!(listed[0].id, first);
    assert_eq!(listed[0].user_id, ada);
    assert_eq!(listed[0].credential_id, "cred-a1");
    assert_eq!(listed[0].credential, "{\"cred\":\"cred-a1\"}");
    assert_eq!(listed[0].created_at, t0());
    assert_eq!(listed[0].last_used_at, None);
    assert_eq!(store.count_for_user(ada), Ok(2));
    assert_eq!(store.count_for_user(bob), Ok(1));
    assert_eq!(store.list_for_user(bob + 1000), Ok(vec![]), "nobody's");
}

fn a_credential_id_is_registered_once_for_anyone(
    accounts: &dyn AccountStore,
    store: &dyn SecurityKeyStore,
) {
    let (ada, bob) = (user(accounts, "ada"), user(accounts, "bob"));
    add(store, key(ada, "Blue", "cred-a1"), t0());
    // The same credential id, for anyone: refused, nothing added.
    assert_eq!(store.add(&key(bob, "Again", "cred-a1"), t0()), Ok(None));
    assert_eq!(store.add(&key(ada, "Again", "cred-a1"), t0()), Ok(None));
    assert_eq!(store.count_for_user(bob), Ok(0));
    assert_eq!(store.count_for_user(ada), Ok(1));
}

fn a_use_updates_the_credential_and_its_time(
    accounts: &dyn AccountStore,
    store: &dyn SecurityKeyStore,
) {
    let ada = user(accounts, "ada");
    add(store, key(ada, "Blue", "cred-a1"), t0());
    let second = add(store, key(ada, "Laptop", "cred-a2"), t0());
    let used_at = t0() + Duration::minutes(5);
    assert_eq!(
        store.record_use(second, "{\"counter\":7}", used_at),
        Ok(true)
    );
    let used = store.list_for_user(ada).expect("list");
    assert_eq!(used[1].credential, "{\"counter\":7}");
    assert_eq!(used[1].last_used_at, Some(used_at));
    assert_eq!(used[0].last_used_at, None, "only that key");
    assert_eq!(
        store.record_use(second + 1000, "{}", used_at),
        Ok(false),
        "gone"
    );
}

fn only_its_own_user_removes_a_key(accounts: &dyn AccountStore, store: &dyn SecurityKeyStore) {
    let (ada, bob) = (user(accounts, "ada"), user(accounts, "bob"));
    let first = add(store, key(ada, "Blue", "cred-a1"), t0());
    add(store, key(ada, "Laptop", "cred-a2"), t0());
    let bobs = add(store, key(bob, "Bob's", "cred-b1"), t0());
    assert_eq!(store.remove(bobs, ada), Ok(false), "not ada's");
    assert_eq!(store.count_for_user(bob), Ok(1));
    assert_eq!(store.remove(first, ada), Ok(true));
    assert_eq!(store.remove(first, ada), Ok(false), "gone");
    assert_eq!(store.record_use(first, "{}", t0()), Ok(false), "gone");
    assert_eq!(store.count_for_user(ada), Ok(1));
}

fn a_name_is_one_to_sixty_four_characters(
    accounts: &dyn AccountStore,
    store: &dyn SecurityKeyStore,
) {
    let ada = user(accounts, "ada");
    let longest = "é".repeat(NAME_MAX_CHARS);
    add(store, key(ada, &longest, "cred-long"), t0());
    let too_long = format!("{longest}x");
    assert!(store.add(&key(ada, &too_long, "cred-x"), t0()).is_err());
    assert!(store.add(&key(ada, "", "cred-y"), t0()).is_err(), "empty");
    assert_eq!(store.count_for_user(ada), Ok(1));
}

fn the_attestation_verdict_and_backup_eligibility_round_trip(
    accounts: &dyn AccountStore,
    store: &dyn SecurityKeyStore,
) {
    let ada = user(accounts, "ada");
    let kinds = [
        (Attestation::Absent, false),
        (Attestation::Untrusted, true),
        (Attestation::Trusted, false),
        (Attestation::Trusted, true),
    ];
    for (i, (attestation, backup_eligible)) in kinds.into_iter().enumerate() {
        let new = NewSecurityKey {
            attestation,
            backup_eligible,
            ..key(ada, "Key", &format!("cred-{i}"))
        };
        add(store, new, t0());
    }
    let listed = store.list_for_user(ada).expect("list");
    let read: Vec<(Attestation, bool)> = listed
        .iter()
        .map(|k| (k.attestation, k.backup_eligible))
        .collect();
    assert_eq!(read, kinds);
    let bound: Vec<bool> = listed.iter().map(|k| k.is_hardware_bound()).collect();
    assert_eq!(
        bound,
        [false, false, true, false],
        "only trusted and not synced"
    );
    // A use changes neither.
    store
        .record_use(listed[2].id, "{}", t0())
        .expect("record use");
    let used = &store.list_for_user(ada).expect("list")[2];
    assert_eq!((used.attestation, used.backup_eligible), kinds[2]);
}

fn removing_a_user_removes_their_keys_and_frees_the_credential_id(
    accounts: &dyn AccountStore,
    store: &dyn SecurityKeyStore,
) {
    let (ada, bob) = (user(accounts, "ada"), user(accounts, "bob"));
    add(store, key(ada, "Blue", "cred-a1"), t0());
    add(store, key(bob, "Bob's", "cred-b1"), t0());
    accounts.remove("ada").expect("remove user");
    assert_eq!(store.count_for_user(ada), Ok(0));
    assert_eq!(store.count_for_user(bob), Ok(1));
    let again = store.add(&key(bob, "Now Bob's", "cred-a1"), t0());
    assert!(
        matches!(again, Ok(Some(_))),
        "the id is free again: {again:?}"
    );
    // A key for a user that does not exist is not stored.
    assert!(store.add(&key(ada, "Orphan", "cred-x"), t0()).is_err());
}
