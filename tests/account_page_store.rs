//! The store methods behind the account page (SPEC 17), on every backend (SQLite always,
//! PostgreSQL when `TEST_DATABASE_URL` is set): addresses (never the last one, even when two
//! removals race; one address for SPs), TOTP, backup codes, consents, a user's own events,
//! and the session changes (re-authentication, ending the other sessions).

mod common;

use std::sync::{Arc, Barrier};

use chrono::{DateTime, Duration, TimeZone, Utc};

use common::{every_backend, TestDb};
use saml_idp::accounts::{AccountError, AccountStore, EmailRecord, EmailRemoval, NewUser};
use saml_idp::sessions::{
    AuditEvent, AuditLog, IdentityStore, MfaMethod, SessionRecord, SessionStore,
};
use saml_idp::store::{DieselAccountStore, DieselSessionStore};

fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
        .single()
        .expect("time")
        + Duration::seconds(secs)
}

fn email(lookup: &str, for_sign_in: bool) -> EmailRecord {
    EmailRecord {
        lookup: lookup.into(),
        sealed: format!("v1:{lookup}"),
        for_sign_in,
    }
}

/// A user with `n` addresses (the first one for SPs); returns its id.
fn create(db: &TestDb, tag: &str, n: usize) -> i64 {
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
    DieselAccountStore::new(db.db.clone())
        .create(&user, at(0))
        .expect("create")
}

fn ids(store: &DieselAccountStore, user_id: i64) -> Vec<(i64, String, bool)> {
    store
        .stored_emails(user_id)
        .expect("emails")
        .into_iter()
        .map(|e| (e.id, e.record.lookup, e.record.for_sign_in))
        .collect()
}

#[test]
fn addresses_are_added_once_across_accounts_and_one_is_for_sps() {
    for (backend, db) in every_backend() {
        let store = DieselAccountStore::new(db.db.clone());
        let ada = create(&db, "ada", 1);
        let bob = create(&db, "bob", 1);
        store
            .add_email(ada, &email("ada-new", false), at(1))
            .expect("added");
        assert_eq!(
            store.add_email(bob, &email("ada-new", false), at(2)),
            Err(AccountError::DuplicateEmail),
            "{backend}"
        );
        assert!(matches!(
            store.add_email(9999, &email("nobody", false), at(2)),
            Err(AccountError::NotFound(_))
        ));
        let listed = ids(&store, ada);
        assert_eq!(listed.len(), 2, "{backend}");
        let new_id = listed[1].0;
        let bob_id = ids(&store, bob)[0].0;
        assert!(
            !store.set_sp_email(ada, bob_id, at(3)).expect("store"),
            "{backend}"
        );
        assert!(
            store.set_sp_email(ada, new_id, at(3)).expect("store"),
            "{backend}"
        );
        let flags: Vec<bool> = ids(&store, ada).iter().map(|e| e.2).collect();
        assert_eq!(flags, vec![false, true], "{backend}: exactly one for SPs");
        assert!(ids(&store, bob)[0].2, "{backend}: bob's untouched");
    }
}

#[test]
fn removing_the_sp_address_hands_the_role_on_and_the_last_one_stays() {
    for (backend, db) in every_backend() {
        let store = DieselAccountStore::new(db.db.clone());
        let ada = create(&db, "ada", 3);
        let bob = create(&db, "bob", 1);
        let listed = ids(&store, ada);
        let bob_id = ids(&store, bob)[0].0;
        assert_eq!(
            store.remove_email(ada, bob_id, at(1)).expect("store"),
            EmailRemoval::NotFound,
            "{backend}"
        );
        assert_eq!(
            store.remove_email(ada, listed[0].0, at(1)).expect("store"),
            EmailRemoval::Removed {
                was_for_sign_in: true
            },
            "{backend}"
        );
        let left = ids(&store, ada);
        assert_eq!(left.len(), 2, "{backend}");
        assert_eq!(
            (left[0].0, left[0].2),
            (listed[1].0, true),
            "{backend}: the oldest"
        );
        assert_eq!(
            store.remove_email(ada, left[1].0, at(2)).expect("store"),
            EmailRemoval::Removed {
                was_for_sign_in: false
            }
        );
        assert_eq!(
            store.remove_email(ada, left[0].0, at(3)).expect("store"),
            EmailRemoval::LastOne,
            "{backend}"
        );
        assert_eq!(ids(&store, ada).len(), 1, "{backend}");
    }
}

#[test]
fn two_removals_racing_for_the_last_two_addresses_leave_one() {
    for (backend, db) in every_backend() {
        for round in 0..5 {
            let ada = create(&db, &format!("race-{round}"), 2);
            let store = Arc::new(DieselAccountStore::new(db.db.clone()));
            let listed = ids(&store, ada);
            let barrier = Arc::new(Barrier::new(2));
            let handles: Vec<_> = listed
                .iter()
                .map(|(id, _, _)| {
                    let (store, barrier, id) = (store.clone(), barrier.clone(), *id);
                    std::thread::spawn(move || {
                        barrier.wait();
                        store
                            .remove_email(ada, id, at(1))
                            .expect("no storage error")
                    })
                })
                .collect();
            let results: Vec<EmailRemoval> = handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect();
            let removed = results
                .iter()
                .filter(|r| matches!(r, EmailRemoval::Removed { .. }))
                .count();
            assert_eq!(removed, 1, "{backend}: {results:?}");
            assert!(results.contains(&EmailRemoval::LastOne), "{backend}");
            let left = ids(&store, ada);
            assert_eq!(left.len(), 1, "{backend}");
            assert!(left[0].2, "{backend}: the one left is for SPs");
        }
    }
}

#[test]
fn totp_and_backup_codes_are_replaced() {
    for (backend, db) in every_backend() {
        let store = DieselAccountStore::new(db.db.clone());
        let ada = create(&db, "ada", 1);
        assert!(store.claim_totp_step(ada, 100).expect("claim"));
        store.set_totp(ada, None, at(1)).expect("removed");
        let user = store.get(ada).expect("get").expect("user");
        assert_eq!(
            (user.totp_secret_sealed, user.totp_last_step),
            (None, None),
            "{backend}"
        );
        store.set_totp(ada, Some("v1:new"), at(2)).expect("set");
        let user = store.get(ada).expect("get").expect("user");
        assert_eq!(
            user.totp_secret_sealed.as_deref(),
            Some("v1:new"),
            "{backend}"
        );
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
        assert_eq!(hashes, new, "{backend}: used and unused old codes are gone");
        assert!(matches!(
            store.set_totp(9999, None, at(5)),
            Err(AccountError::NotFound(_))
        ));
    }
}

#[test]
fn consents_are_listed_and_revoked_per_user() {
    for (backend, db) in every_backend() {
        let sessions = DieselSessionStore::new(db.db.clone());
        let ada = create(&db, "ada", 1);
        let bob = create(&db, "bob", 1);
        let attrs = vec!["email".to_string(), "uuid".to_string()];
        sessions
            .save_consent(ada, "urn:b", &attrs, at(2))
            .expect("save");
        sessions
            .save_consent(ada, "urn:a", &attrs[..1], at(1))
            .expect("save");
        sessions
            .save_consent(bob, "urn:a", &attrs, at(1))
            .expect("save");
        sessions
            .record_authentication(ada, "urn:b", at(5))
            .expect("stamp");
        let listed = sessions.consents_for_user(ada).expect("list");
        let summary: Vec<_> = listed
            .iter()
            .map(|c| {
                (
                    c.issuer.as_str(),
                    c.attributes.len(),
                    c.consented_at,
                    c.last_authenticated_at,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![("urn:a", 1, at(1), None), ("urn:b", 2, at(2), Some(at(5)))],
            "{backend}"
        );
        assert!(
            sessions.revoke_consent(ada, "urn:a").expect("revoke"),
            "{backend}"
        );
        assert!(
            !sessions.revoke_consent(ada, "urn:a").expect("revoke"),
            "{backend}"
        );
        assert_eq!(
            sessions.consent(ada, "urn:a").expect("read"),
            None,
            "{backend}"
        );
        assert!(
            sessions.consent(bob, "urn:a").expect("read").is_some(),
            "{backend}"
        );
    }
}

#[test]
fn a_users_events_come_most_recent_first_with_their_times() {
    for (backend, db) in every_backend() {
        let audit = DieselSessionStore::new(db.db.clone());
        let event = |user: &str, detail: &str| AuditEvent {
            event: "Account".into(),
            issuer: None,
            user_public_id: Some(user.into()),
            success: true,
            detail: Some(detail.into()),
        };
        for i in 0..5 {
            audit
                .record(&event("user-ada", &format!("ada-{i}")), at(i))
                .expect("record");
            audit
                .record(&event("user-bob", &format!("bob-{i}")), at(i))
                .expect("record");
        }
        let recent = audit.recent_for_user("user-ada", 3).expect("read");
        let seen: Vec<_> = recent
            .iter()
            .map(|r| (r.event.detail.as_deref().unwrap_or_default(), r.at))
            .collect();
        assert_eq!(
            seen,
            vec![("ada-4", at(4)), ("ada-3", at(3)), ("ada-2", at(2))],
            "{backend}"
        );
    }
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

#[test]
fn re_authentication_keeps_the_second_factor_and_other_sessions_can_end() {
    for (backend, db) in every_backend() {
        let sessions = DieselSessionStore::new(db.db.clone());
        let ada = create(&db, "ada", 1);
        let bob = create(&db, "bob", 1);
        for (token, user) in [("a1", ada), ("a2", ada), ("a3", ada), ("b1", bob)] {
            sessions
                .create(&session(token, user, at(0)))
                .expect("create");
        }
        assert!(!sessions.refresh_password("a1", bob, at(60)).expect("store"));
        assert!(sessions.refresh_password("a1", ada, at(60)).expect("store"));
        let live = |token: &str| sessions.get(token, at(61), at(-1)).expect("get");
        let a1 = live("a1").expect("live");
        assert_eq!(
            (a1.password_at, a1.mfa_at),
            (Some(at(60)), Some(at(0))),
            "{backend}"
        );
        assert_eq!(
            sessions.delete_others_for_user(ada, "a1").expect("end"),
            2,
            "{backend}"
        );
        assert!(live("a1").is_some() && live("a2").is_none() && live("a3").is_none());
        assert!(
            live("b1").is_some(),
            "{backend}: another user's session stays"
        );
    }
}
