//! The store methods behind the account page (SPEC 17), one function per behaviour, run on
//! every implementation (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set):
//! addresses (never the last one, even when two removals race; one address for SPs), TOTP,
//! backup codes, consents, a user's own events, and the session changes (re-authentication,
//! ending the other sessions).

use crate::common;

use chrono::{DateTime, Duration, Utc};

use common::stores::{at, concurrently, Stores};
use saml_idp::accounts::{AccountError, AccountStore, EmailRecord, EmailRemoval, NewUser};
use saml_idp::sessions::{
    AuditEvent, AuditLog, IdentityStore, MfaMethod, SessionRecord, SessionStore,
};

common::stores::contract_tests! {
    addresses_are_added_once_across_accounts_and_one_is_for_sps(accounts);
    removing_the_sp_address_hands_the_role_on_and_the_last_one_stays(accounts);
    two_removals_racing_for_the_last_two_addresses_leave_one(stores);
    totp_and_backup_codes_are_replaced(accounts);
    consents_are_listed_and_revoked_per_user(accounts, identities);
    a_users_events_come_most_recent_first_with_their_times(audit);
    re_authentication_keeps_the_second_factor_and_other_sessions_can_end(accounts, sessions);
}

fn email(lookup: &str, for_sign_in: bool) -> EmailRecord {
    EmailRecord {
        lookup: lookup.into(),
        sealed: format!("v1:{lookup}"),
        for_sign_in,
    }
}

/// A user with `n` addresses (the first one for SPs); returns its id.
fn create(store: &dyn AccountStore, tag: &str, n: usize) -> i64 {
    let user = NewUser {
        public_id: format!("user-{tag}"),
        password_hash: "$argon2id$x".into(),
        totp_secret_sealed: Some("v1:totp".into()),
        locale: "en".into(),
        emails: (0..n)
            .map(|i| email(&format!("{tag}-{i}"), i == 0))
            .collect(),
        backup_code_hashes: vec!["old-1".into(), "old-2".into()],
        verified_profile_sealed: None,
        verified_at: None,
        piv_record_sealed: None,
    };
    store.create(&user, at(0)).expect("create")
}

fn ids(store: &dyn AccountStore, user_id: i64) -> Vec<(i64, String, bool)> {
    store
        .stored_emails(user_id)
        .expect("emails")
        .into_iter()
        .map(|e| (e.id, e.record.lookup, e.record.for_sign_in))
        .collect()
}

fn addresses_are_added_once_across_accounts_and_one_is_for_sps(store: &dyn AccountStore) {
    let ada = create(store, "ada", 1);
    let bob = create(store, "bob", 1);
    store
        .add_email(ada, &email("ada-new", false), at(1))
        .expect("added");
    let taken = store.add_email(bob, &email("ada-new", false), at(2));
    assert_eq!(taken, Err(AccountError::DuplicateEmail));
    let nobody = store.add_email(9999, &email("nobody", false), at(2));
    assert!(
        matches!(nobody, Err(AccountError::NotFound(_))),
        "{nobody:?}"
    );
    let listed = ids(store, ada);
    assert_eq!(listed.len(), 2);
    let new_id = listed[1].0;
    let bob_id = ids(store, bob)[0].0;
    assert_eq!(store.set_sp_email(ada, bob_id, at(3)), Ok(false), "bob's");
    assert_eq!(store.set_sp_email(ada, new_id, at(3)), Ok(true));
    let flags: Vec<bool> = ids(store, ada).iter().map(|e| e.2).collect();
    assert_eq!(flags, vec![false, true], "exactly one for SPs");
    assert!(ids(store, bob)[0].2, "bob's untouched");
    let nobody = store.set_sp_email(9999, new_id, at(4));
    assert!(
        matches!(nobody, Err(AccountError::NotFound(_))),
        "{nobody:?}"
    );
}

fn removing_the_sp_address_hands_the_role_on_and_the_last_one_stays(store: &dyn AccountStore) {
    let ada = create(store, "ada", 3);
    let bob = create(store, "bob", 1);
    let listed = ids(store, ada);
    let bob_id = ids(store, bob)[0].0;
    let removal = |id, secs| store.remove_email(ada, id, at(secs)).expect("store");
    assert_eq!(removal(bob_id, 1), EmailRemoval::NotFound);
    let was_for_sign_in = |was_for_sign_in| EmailRemoval::Removed { was_for_sign_in };
    assert_eq!(removal(listed[0].0, 1), was_for_sign_in(true));
    let left = ids(store, ada);
    assert_eq!(left.len(), 2);
    assert_eq!((left[0].0, left[0].2), (listed[1].0, true), "the oldest");
    assert_eq!(removal(left[1].0, 2), was_for_sign_in(false));
    assert_eq!(removal(left[0].0, 3), EmailRemoval::LastOne);
    assert_eq!(ids(store, ada).len(), 1);
    let nobody = store.remove_email(9999, left[0].0, at(4));
    assert!(
        matches!(nobody, Err(AccountError::NotFound(_))),
        "{nobody:?}"
    );
}

fn two_removals_racing_for_the_last_two_addresses_leave_one(s: &Stores) {
    for round in 0..5 {
        let ada = create(s.accounts(), &format!("race-{round}"), 2);
        let listed: Vec<i64> = ids(s.accounts(), ada).iter().map(|e| e.0).collect();
        let results = concurrently(&s.accounts, 2, move |store, i| {
            let removal = store.remove_email(ada, listed[i], at(1));
            removal.expect("no storage error")
        });
        let removed = results
            .iter()
            .filter(|r| matches!(r, EmailRemoval::Removed { .. }))
            .count();
        assert_eq!(removed, 1, "{results:?}");
        assert!(results.contains(&EmailRemoval::LastOne));
        let left = ids(s.accounts(), ada);
        assert_eq!(left.len(), 1);
        assert!(left[0].2, "the one left is for SPs");
    }
}

fn totp_and_backup_codes_are_replaced(store: &dyn AccountStore) {
    let ada = create(store, "ada", 1);
    assert!(store.claim_totp_step(ada, 100).expect("claim"));
    store.set_totp(ada, None, at(1)).expect("removed");
    let user = store.get(ada).expect("get").expect("user");
    assert_eq!((user.totp_secret_sealed, user.totp_last_step), (None, None));
    store.set_totp(ada, Some("v1:new"), at(2)).expect("set");
    let user = store.get(ada).expect("get").expect("user");
    assert_eq!(user.totp_secret_sealed.as_deref(), Some("v1:new"));
    let old = store.unused_backup_codes(ada).expect("codes");
    assert!(store.claim_backup_code(old[0].0, at(3)).expect("claim"));
    let new: Vec<String> = (1..=10).map(|i| format!("new-{i}")).collect();
    store
        .replace_backup_codes(ada, &new, at(4))
        .expect("replaced");
    let hashes: Vec<String> = store
        .unused_backup_codes(ada)
        .expect("codes")
        .into_iter()
        .map(|(_, h)| h)
        .collect();
    assert_eq!(hashes, new, "used and unused old codes are gone");
    let nobody = store.set_totp(9999, None, at(5));
    assert!(matches!(nobody, Err(AccountError::NotFound(_))));
    let nobody = store.replace_backup_codes(9999, &new, at(5));
    assert!(matches!(nobody, Err(AccountError::NotFound(_))));
}

fn consents_are_listed_and_revoked_per_user(
    accounts: &dyn AccountStore,
    identities: &dyn IdentityStore,
) {
    let ada = create(accounts, "ada", 1);
    let bob = create(accounts, "bob", 1);
    let attrs = vec!["email".to_string(), "uuid".to_string()];
    let save = |user, issuer, attributes: &[String], secs| {
        let saved = identities.save_consent(user, issuer, attributes, at(secs));
        saved.expect("save");
    };
    save(ada, "urn:b", &attrs, 2);
    save(ada, "urn:a", &attrs[..1], 1);
    save(bob, "urn:a", &attrs, 1);
    identities
        .record_authentication(ada, "urn:b", at(5))
        .expect("stamp");
    let listed = identities.consents_for_user(ada).expect("list");
    let summary: Vec<_> = listed
        .iter()
        .map(|c| {
            let n = c.attributes.len();
            (
                c.issuer.as_str(),
                n,
                c.consented_at,
                c.last_authenticated_at,
            )
        })
        .collect();
    let expected = vec![("urn:a", 1, at(1), None), ("urn:b", 2, at(2), Some(at(5)))];
    assert_eq!(summary, expected);
    assert_eq!(identities.revoke_consent(ada, "urn:a"), Ok(true));
    assert_eq!(identities.revoke_consent(ada, "urn:a"), Ok(false), "gone");
    assert_eq!(identities.consent(ada, "urn:a"), Ok(None));
    assert!(identities.consent(bob, "urn:a").expect("read").is_some());
}

fn a_users_events_come_most_recent_first_with_their_times(audit: &dyn AuditLog) {
    let event = |user: &str, detail: &str| AuditEvent {
        event: saml_idp::sessions::AuditKind::Account,
        issuer: None,
        user_public_id: Some(user.into()),
        success: true,
        detail: Some(detail.into()),
        count: 1,
        binding: None,
        reference: None,
    };
    for i in 0..5 {
        for user in ["ada", "bob"] {
            let e = event(&format!("user-{user}"), &format!("{user}-{i}"));
            audit.record(&e, at(i)).expect("record");
        }
    }
    let recent = audit.recent_for_user("user-ada", 3).expect("read");
    let seen: Vec<_> = recent
        .iter()
        .map(|r| (r.event.detail.as_deref().unwrap_or_default(), r.at))
        .collect();
    assert_eq!(
        seen,
        vec![("ada-4", at(4)), ("ada-3", at(3)), ("ada-2", at(2))]
    );
    let nobody = audit.recent_for_user("user-nobody", 3);
    assert_eq!(nobody, Ok(vec![]));
}

fn session(token: &str, user_id: i64, now: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        token_hash: token.into(),
        user_id: Some(user_id),
        csrf_token: "csrf".into(),
        password_at: Some(now),
        mfa_at: Some(now),
        mfa_method: Some(MfaMethod::Totp),
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::hours(12),
        failed_attempts: 0,
    }
}

fn re_authentication_keeps_the_second_factor_and_other_sessions_can_end(
    accounts: &dyn AccountStore,
    sessions: &dyn SessionStore,
) {
    let ada = create(accounts, "ada", 1);
    let bob = create(accounts, "bob", 1);
    for (token, user) in [("a1", ada), ("a2", ada), ("a3", ada), ("b1", bob)] {
        sessions
            .create(&session(token, user, at(0)))
            .expect("create");
    }
    assert_eq!(sessions.refresh_password("a1", bob, at(60)), Ok(false));
    assert_eq!(sessions.refresh_password("a1", ada, at(60)), Ok(true));
    let live = |token: &str| sessions.get(token, at(61), at(-1)).expect("get");
    let a1 = live("a1").expect("live");
    assert_eq!((a1.password_at, a1.mfa_at), (Some(at(60)), Some(at(0))));
    assert_eq!(sessions.delete_others_for_user(ada, "a1"), Ok(2));
    assert!(live("a1").is_some() && live("a2").is_none() && live("a3").is_none());
    assert!(live("b1").is_some(), "another user's session stays");
}
