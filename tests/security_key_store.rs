//! The `SecurityKeyStore` contract on SQLite and on PostgreSQL (when `TEST_DATABASE_URL` is
//! set): keys are listed per user in the order they were added, removed only by their own
//! user, a credential id is unique across users, a use updates the credential and its
//! time, and removing the user removes the keys.

mod common;

use chrono::{Duration, TimeZone, Utc};

use saml_idp::accounts::security_keys::NewSecurityKey;
use saml_idp::web::AppState;

fn user(state: &AppState, email: &str) -> (i64, String) {
    common::flow::add_user(state, email, None, None);
    let (_, lookup) = state.account_crypto.email_lookup(email).expect("email");
    let record = state
        .accounts
        .find_by_email(&lookup)
        .expect("lookup")
        .expect("user");
    (record.id, record.public_id)
}

fn key(user_id: i64, name: &str, credential_id: &str) -> NewSecurityKey {
    NewSecurityKey {
        user_id,
        name: name.into(),
        credential_id: credential_id.into(),
        credential: format!("{{\"cred\":\"{credential_id}\"}}"),
    }
}

#[test]
fn keys_are_added_listed_used_and_removed_per_user() {
    for (backend, db) in common::every_backend() {
        let state = common::app_state(&db);
        let store = &state.security_keys;
        let (ada, _) = user(&state, "ada@example.gov");
        let (bob, _) = user(&state, "bob@example.gov");
        let t0 = Utc
            .with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
            .single()
            .expect("t");
        let first = store.add(&key(ada, "Blue", "cred-a1"), t0).expect("add");
        let second = store
            .add(&key(ada, "Laptop", "cred-a2"), t0 + Duration::seconds(1))
            .expect("add");
        let bobs = store.add(&key(bob, "Bob's", "cred-b1"), t0).expect("add");
        let (first, second, bobs) = (first.expect("id"), second.expect("id"), bobs.expect("id"));
        let listed = store.list_for_user(ada).expect("list");
        let names: Vec<&str> = listed.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["Blue", "Laptop"], "{backend}");
        assert_eq!(listed[0].id, first);
        assert_eq!(listed[0].created_at, t0, "{backend}");
        assert_eq!(listed[0].last_used_at, None);
        assert_eq!(store.count_for_user(ada).expect("count"), 2, "{backend}");
        assert_eq!(store.count_for_user(bob).expect("count"), 1, "{backend}");

        // The same credential id, for anyone: refused, nothing added.
        assert_eq!(
            store.add(&key(bob, "Again", "cred-a1"), t0).expect("add"),
            None,
            "{backend}"
        );
        assert_eq!(
            store.add(&key(ada, "Again", "cred-a1"), t0).expect("add"),
            None,
            "{backend}"
        );
        assert_eq!(store.count_for_user(bob).expect("count"), 1, "{backend}");

        let used_at = t0 + Duration::minutes(5);
        assert!(store
            .record_use(second, "{\"counter\":7}", used_at)
            .expect("use"));
        let used = store.list_for_user(ada).expect("list");
        assert_eq!(used[1].credential, "{\"counter\":7}", "{backend}");
        assert_eq!(used[1].last_used_at, Some(used_at), "{backend}");
        assert_eq!(used[0].last_used_at, None, "{backend}: only that key");

        // Only its own user removes a key.
        assert!(!store.remove(bobs, ada).expect("remove"), "{backend}");
        assert_eq!(store.count_for_user(bob).expect("count"), 1, "{backend}");
        assert!(store.remove(first, ada).expect("remove"), "{backend}");
        assert!(
            !store.remove(first, ada).expect("remove"),
            "{backend}: gone"
        );
        assert!(
            !store.record_use(first, "{}", used_at).expect("use"),
            "{backend}"
        );
        assert_eq!(store.count_for_user(ada).expect("count"), 1, "{backend}");
    }
}

#[test]
fn removing_a_user_removes_their_keys_and_frees_the_credential_id() {
    for (backend, db) in common::every_backend() {
        let state = common::app_state(&db);
        let store = &state.security_keys;
        let (ada, ada_public) = user(&state, "ada@example.gov");
        let (bob, _) = user(&state, "bob@example.gov");
        let now = state.clock.now();
        store.add(&key(ada, "Blue", "cred-a1"), now).expect("add");
        store.add(&key(bob, "Bob's", "cred-b1"), now).expect("add");
        state.accounts.remove(&ada_public).expect("remove user");
        assert_eq!(store.count_for_user(ada).expect("count"), 0, "{backend}");
        assert_eq!(store.count_for_user(bob).expect("count"), 1, "{backend}");
        assert!(
            store
                .add(&key(bob, "Now Bob's", "cred-a1"), now)
                .expect("add")
                .is_some(),
            "{backend}: the id is free again"
        );
        // A key for a user that does not exist is not stored.
        assert!(
            store.add(&key(ada, "Orphan", "cred-x"), now).is_err(),
            "{backend}"
        );
    }
}
