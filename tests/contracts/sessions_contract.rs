//! The `SessionStore` and `IdentityStore` contracts, one function per behaviour, run on every
//! implementation (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set): browser
//! sessions and their expiry, remembered browsers, agency UUIDs (one per user and agency,
//! even when first hand-offs race) and consent.

use crate::common;

use chrono::{Duration, SubsecRound};

use common::stores::{at, concurrently, fresh_session, Stores};
use saml_idp::accounts::{AccountStore, EmailRecord};
use saml_idp::sessions::signed_in::SignedInQuery;
use saml_idp::sessions::{IdentityStore, MfaMethod, SessionStore};

common::stores::contract_tests! {
    sessions_round_trip_and_expire(accounts, sessions);
    session_times_are_kept_to_the_microsecond(sessions);
    a_session_token_is_unique_and_names_an_existing_user(accounts, sessions);
    changes_to_an_unknown_session_change_nothing(sessions);
    set_password_clears_the_second_factor_and_set_mfa_records_it(accounts, sessions);
    sessions_are_deleted_one_by_one_or_per_user(accounts, sessions);
    a_lock_ends_only_the_unfinished_sessions_and_failures_count_per_session(accounts, sessions);
    remembered_browsers_expire_and_belong_to_one_user(accounts, sessions);
    browsers_are_forgotten_per_user(accounts, sessions);
    an_agency_uuid_is_stable_per_user_and_agency(stores);
    an_agency_uuid_belongs_to_one_user(accounts, identities);
    an_agency_uuid_leads_back_to_its_user(accounts, identities);
    concurrent_first_hand_offs_end_with_one_agency_uuid(stores);
    consent_is_saved_overwritten_and_read(accounts, identities);
    consent_names_an_existing_user(identities);
    record_authentication_stamps_only_existing_consent(accounts, identities);
    record_authentication_keeps_a_time_less_than_a_minute_old(accounts, identities);
    one_read_gives_a_signed_in_session_with_its_users_facts(stores);
}

/// A user with no address; returns its id.
fn create(store: &dyn AccountStore, tag: &str) -> i64 {
    let user = common::stores::bare_user(&format!("user-{tag}"));
    store.create(&user, at(0)).expect("create user")
}

fn sessions_round_trip_and_expire(accounts: &dyn AccountStore, store: &dyn SessionStore) {
    let id = create(accounts, "a");
    let anonymous = fresh_session("anon", None);
    store.create(&anonymous).expect("create");
    let mut full = fresh_session("full", Some(id));
    full.password_at = Some(at(10));
    full.mfa_at = Some(at(20));
    full.mfa_method = Some(MfaMethod::BackupCode);
    store.create(&full).expect("create");
    let get = |token: &str, now: i64, idle: i64| store.get(token, at(now), at(idle)).expect("get");
    assert_eq!(get("anon", 60, -60), Some(anonymous), "anon");
    assert_eq!(get("full", 60, -60), Some(full), "full");
    assert_eq!(get("other", 60, -60), None, "unknown");
    // Idle: last seen at 0 is not after a cutoff of 0.
    assert_eq!(get("anon", 60, 0), None, "idle expiry");
    // Absolute: expires at 12 h.
    assert_eq!(get("anon", 12 * 3600, -60), None, "absolute expiry");
    store.touch("anon", at(600)).expect("touch");
    let seen = get("anon", 700, 300).map(|s| s.last_seen_at);
    assert_eq!(seen, Some(at(600)), "touch extends idle");
    assert_eq!(get("anon", 12 * 3600, 300), None, "but not absolute");
}

fn session_times_are_kept_to_the_microsecond(store: &dyn SessionStore) {
    let t = at(0) + Duration::nanoseconds(1_234_567);
    let mut s = fresh_session("s", None);
    (s.created_at, s.last_seen_at) = (t, t);
    s.expires_at = t + Duration::hours(1);
    store.create(&s).expect("create");
    let read = store
        .get("s", at(1), at(-1))
        .expect("get")
        .expect("session");
    assert_eq!(read.created_at, t.trunc_subsecs(6));
    assert_eq!(read.last_seen_at, t.trunc_subsecs(6));
    store.touch("s", t + Duration::seconds(1)).expect("touch");
    let read = store
        .get("s", at(2), at(-1))
        .expect("get")
        .expect("session");
    assert_eq!(
        read.last_seen_at,
        (t + Duration::seconds(1)).trunc_subsecs(6)
    );
}

fn a_session_token_is_unique_and_names_an_existing_user(
    accounts: &dyn AccountStore,
    store: &dyn SessionStore,
) {
    let id = create(accounts, "a");
    store.create(&fresh_session("s", Some(id))).expect("create");
    assert!(
        store.create(&fresh_session("s", None)).is_err(),
        "same token"
    );
    assert!(
        store.create(&fresh_session("t", Some(id + 1000))).is_err(),
        "no user"
    );
    assert_eq!(store.get("t", at(1), at(-1)), Ok(None), "nothing written");
    store.create(&fresh_session("u", None)).expect("anonymous");
    let set = store.set_password("u", id + 1000, at(1));
    assert!(set.is_err(), "a password for no user: {set:?}");
    let read = store
        .get("u", at(1), at(-1))
        .expect("get")
        .expect("session");
    assert_eq!((read.user_id, read.password_at), (None, None), "unchanged");
}

fn changes_to_an_unknown_session_change_nothing(store: &dyn SessionStore) {
    assert_eq!(store.touch("gone", at(1)), Ok(()));
    assert_eq!(store.set_password("gone", 1, at(1)), Ok(()));
    assert_eq!(store.set_mfa("gone", MfaMethod::Totp, at(1)), Ok(()));
    assert_eq!(store.delete("gone"), Ok(()));
    assert_eq!(store.refresh_password("gone", 1, at(1)), Ok(false));
    assert_eq!(store.record_failure("gone"), Ok(0));
    assert_eq!(store.get("gone", at(1), at(-1)), Ok(None));
}

fn set_password_clears_the_second_factor_and_set_mfa_records_it(
    accounts: &dyn AccountStore,
    store: &dyn SessionStore,
) {
    let id = create(accounts, "a");
    store.create(&fresh_session("s", None)).expect("create");
    store.set_password("s", id, at(5)).expect("password");
    store.set_mfa("s", MfaMethod::Totp, at(6)).expect("mfa");
    let read = || {
        store
            .get("s", at(10), at(-10))
            .expect("get")
            .expect("session")
    };
    let s = read();
    assert_eq!(s.user_id, Some(id), "user");
    assert_eq!(s.password_at, Some(at(5)), "password_at");
    assert_eq!(s.mfa_at, Some(at(6)), "mfa_at");
    assert_eq!(s.mfa_method, Some(MfaMethod::Totp), "mfa_method");
    store.set_password("s", id, at(7)).expect("password again");
    let s = read();
    assert_eq!(s.password_at, Some(at(7)), "new password_at");
    assert_eq!(s.mfa_at, None, "mfa_at cleared");
    assert_eq!(s.mfa_method, None, "mfa_method cleared");
    assert_eq!(s.csrf_token, "csrf-s", "csrf kept");
}

fn sessions_are_deleted_one_by_one_or_per_user(
    accounts: &dyn AccountStore,
    store: &dyn SessionStore,
) {
    let (a, b) = (create(accounts, "a"), create(accounts, "b"));
    for (token, user) in [("a1", a), ("a2", a), ("a3", a), ("b1", b)] {
        store
            .create(&fresh_session(token, Some(user)))
            .expect("create");
    }
    store.create(&fresh_session("anon", None)).expect("create");
    store.delete("a3").expect("delete");
    let live = |t: &str| store.get(t, at(1), at(-1)).expect("get").is_some();
    assert!(!live("a3"), "deleted");
    assert_eq!(store.delete_for_user(a), Ok(2), "two of a");
    assert_eq!(store.delete_for_user(a), Ok(0), "none left");
    assert!(!live("a1") && !live("a2"), "a's sessions gone");
    assert!(live("b1") && live("anon"), "others stay");
}

fn a_lock_ends_only_the_unfinished_sessions_and_failures_count_per_session(
    accounts: &dyn AccountStore,
    store: &dyn SessionStore,
) {
    let (a, b) = (create(accounts, "a"), create(accounts, "b"));
    for (token, user) in [("half", a), ("done", a), ("other", b)] {
        store
            .create(&fresh_session(token, Some(user)))
            .expect("create");
    }
    store.set_mfa("done", MfaMethod::Totp, at(1)).expect("mfa");
    assert_eq!(store.record_failure("half"), Ok(1));
    assert_eq!(store.record_failure("half"), Ok(2));
    let read = |t: &str| store.get(t, at(1), at(-1)).expect("get");
    assert_eq!(read("half").map(|s| s.failed_attempts), Some(2));
    assert_eq!(store.delete_unfinished_for_user(a), Ok(1));
    assert!(read("half").is_none(), "half-signed-in ended");
    assert!(read("done").is_some() && read("other").is_some());
}

fn remembered_browsers_expire_and_belong_to_one_user(
    accounts: &dyn AccountStore,
    store: &dyn SessionStore,
) {
    let (a, b) = (create(accounts, "a"), create(accounts, "b"));
    store.remember_browser("br", a, at(100)).expect("remember");
    let remembered = |user: i64, now: i64| store.is_remembered("br", user, at(now));
    assert_eq!(remembered(a, 99), Ok(true), "remembered");
    assert_eq!(remembered(a, 100), Ok(false), "expired");
    assert_eq!(remembered(b, 99), Ok(false), "other user");
    let other = store.is_remembered("other", a, at(1));
    assert_eq!(other, Ok(false), "other browser");
    // Remembering again replaces the row: new user, new expiry.
    store.remember_browser("br", b, at(200)).expect("again");
    assert_eq!(remembered(b, 150), Ok(true), "replaced user");
    assert_eq!(remembered(a, 50), Ok(false), "old user dropped");
    // A browser remembered for no user is refused, and the row stays as it was.
    assert!(store.remember_browser("br", b + 1000, at(300)).is_err());
    assert_eq!(remembered(b, 150), Ok(true), "kept");
}

fn browsers_are_forgotten_per_user(accounts: &dyn AccountStore, store: &dyn SessionStore) {
    let (a, b) = (create(accounts, "a"), create(accounts, "b"));
    for (token, user) in [("a1", a), ("a2", a), ("b1", b)] {
        store
            .remember_browser(token, user, at(100))
            .expect("remember");
    }
    assert_eq!(store.forget_browsers(a), Ok(2));
    assert_eq!(store.forget_browsers(a), Ok(0), "none left");
    assert_eq!(store.is_remembered("a1", a, at(1)), Ok(false));
    assert_eq!(store.is_remembered("b1", b, at(1)), Ok(true), "b's stays");
}

fn an_agency_uuid_is_stable_per_user_and_agency(s: &Stores) {
    let (a, b) = (create(s.accounts(), "a"), create(s.accounts(), "b"));
    let store = s.identities();
    let first = store.agency_uuid(a, "gsa", "uuid-1", at(0)).expect("first");
    assert_eq!(first, "uuid-1", "created");
    let again = store.agency_uuid(a, "gsa", "uuid-2", at(1)).expect("again");
    assert_eq!(again, "uuid-1", "the first one is kept");
    let other_agency = store.agency_uuid(a, "nasa", "uuid-3", at(2)).expect("nasa");
    assert_eq!(other_agency, "uuid-3", "per agency");
    let other_user = store.agency_uuid(b, "gsa", "uuid-4", at(3)).expect("b");
    assert_eq!(other_user, "uuid-4", "per user");
    let node = s.another_node();
    let from_two = node.identities.agency_uuid(a, "gsa", "uuid-5", at(4));
    assert_eq!(from_two, Ok("uuid-1".to_string()), "another node sees it");
}

fn an_agency_uuid_belongs_to_one_user(accounts: &dyn AccountStore, store: &dyn IdentityStore) {
    let (a, b) = (create(accounts, "a"), create(accounts, "b"));
    store.agency_uuid(a, "gsa", "uuid-1", at(0)).expect("a");
    let taken = store.agency_uuid(b, "gsa", "uuid-1", at(1));
    assert!(taken.is_err(), "another user's UUID: {taken:?}");
    let elsewhere = store.agency_uuid(b, "nasa", "uuid-1", at(1));
    assert!(
        elsewhere.is_err(),
        "unique across agencies too: {elsewhere:?}"
    );
    assert_eq!(store.user_for_agency_uuid("gsa", "uuid-1"), Ok(Some(a)));
    let no_user = store.agency_uuid(b + 1000, "gsa", "uuid-9", at(1));
    assert!(no_user.is_err(), "no such user: {no_user:?}");
}

fn an_agency_uuid_leads_back_to_its_user(accounts: &dyn AccountStore, store: &dyn IdentityStore) {
    let (a, b) = (create(accounts, "a"), create(accounts, "b"));
    store.agency_uuid(a, "gsa", "uuid-a", at(0)).expect("a");
    store.agency_uuid(b, "gsa", "uuid-b", at(0)).expect("b");
    let owner = |agency: &str, uuid: &str| store.user_for_agency_uuid(agency, uuid);
    assert_eq!(owner("gsa", "uuid-a"), Ok(Some(a)), "a");
    assert_eq!(owner("gsa", "uuid-b"), Ok(Some(b)), "b");
    assert_eq!(owner("nasa", "uuid-a"), Ok(None), "other agency");
    assert_eq!(owner("gsa", "uuid-x"), Ok(None), "unknown uuid");
}

fn concurrent_first_hand_offs_end_with_one_agency_uuid(s: &Stores) {
    let id = create(s.accounts(), "a");
    let uuids = concurrently(&s.identities, 8, move |store, i| {
        store
            .agency_uuid(id, "gsa", &format!("uuid-{i}"), at(0))
            .expect("agency uuid")
    });
    let first = uuids[0].clone();
    assert!(uuids.iter().all(|u| *u == first), "{uuids:?}");
    let stored = s.identities.agency_uuid(id, "gsa", "late", at(1));
    assert_eq!(stored, Ok(first), "the winner is stored");
}

fn consent_is_saved_overwritten_and_read(accounts: &dyn AccountStore, store: &dyn IdentityStore) {
    let (a, b) = (create(accounts, "a"), create(accounts, "b"));
    assert_eq!(store.consent(a, "sp1"), Ok(None), "none yet");
    let first = vec!["email".to_string(), "x509_subject".to_string()];
    store.save_consent(a, "sp1", &first, at(0)).expect("save");
    assert_eq!(store.consent(a, "sp1"), Ok(Some(first)), "saved");
    let second = vec!["email".to_string()];
    store
        .save_consent(a, "sp1", &second, at(1))
        .expect("overwrite");
    assert_eq!(store.consent(a, "sp1"), Ok(Some(second)), "overwritten");
    store.save_consent(a, "sp2", &[], at(2)).expect("empty");
    assert_eq!(store.consent(a, "sp2"), Ok(Some(vec![])), "empty list");
    assert_eq!(store.consent(b, "sp1"), Ok(None), "per user");
}

fn consent_names_an_existing_user(store: &dyn IdentityStore) {
    let saved = store.save_consent(4242, "sp1", &["email".into()], at(0));
    assert!(saved.is_err(), "{saved:?}");
    assert_eq!(store.consent(4242, "sp1"), Ok(None));
}

/// When the user last signed in to `issuer`, as the account page lists it.
fn last_authenticated(store: &dyn IdentityStore, user_id: i64, issuer: &str) -> Option<i64> {
    let consents = store.consents_for_user(user_id).expect("consents");
    let consent = consents.into_iter().find(|c| c.issuer == issuer);
    consent
        .and_then(|c| c.last_authenticated_at)
        .map(|t| (t - at(0)).num_seconds())
}

fn record_authentication_stamps_only_existing_consent(
    accounts: &dyn AccountStore,
    store: &dyn IdentityStore,
) {
    let id = create(accounts, "a");
    store
        .record_authentication(id, "sp1", at(5))
        .expect("no row");
    assert_eq!(store.consent(id, "sp1"), Ok(None), "no row created");
    let attributes = vec!["email".to_string()];
    store
        .save_consent(id, "sp1", &attributes, at(0))
        .expect("save");
    assert_eq!(last_authenticated(store, id, "sp1"), None, "not yet");
    store
        .record_authentication(id, "sp1", at(10))
        .expect("record");
    assert_eq!(last_authenticated(store, id, "sp1"), Some(10), "stamped");
    let kept = store.consent(id, "sp1");
    assert_eq!(kept, Ok(Some(attributes.clone())), "consent kept");
    store
        .save_consent(id, "sp1", &attributes, at(20))
        .expect("save");
    assert_eq!(
        last_authenticated(store, id, "sp1"),
        Some(10),
        "kept on save"
    );
}

fn record_authentication_keeps_a_time_less_than_a_minute_old(
    accounts: &dyn AccountStore,
    store: &dyn IdentityStore,
) {
    let id = create(accounts, "a");
    store.save_consent(id, "sp1", &[], at(0)).expect("save");
    store
        .record_authentication(id, "sp1", at(10))
        .expect("record");
    store
        .record_authentication(id, "sp1", at(69))
        .expect("record");
    assert_eq!(last_authenticated(store, id, "sp1"), Some(10), "59 s: kept");
    store
        .record_authentication(id, "sp1", at(71))
        .expect("record");
    assert_eq!(
        last_authenticated(store, id, "sp1"),
        Some(71),
        "61 s: replaced"
    );
}

/// `SignedInReads`: what single sign-on reads in one statement equals what the separate
/// reads give, for the SP's issuer and agency only; nothing for a session without a live
/// user.
fn one_read_gives_a_signed_in_session_with_its_users_facts(s: &Stores) {
    let mut user = common::stores::bare_user("user-read");
    let email = |n: &str, for_sign_in| EmailRecord {
        lookup: format!("lookup-{n}"),
        sealed: format!("sealed-{n}"),
        for_sign_in,
    };
    user.emails = vec![email("first", true), email("second", false)];
    let id = s.accounts().create(&user, at(0)).expect("create user");
    let mut session = fresh_session("full", Some(id));
    session.password_at = Some(at(10));
    session.mfa_at = Some(at(20));
    session.mfa_method = Some(MfaMethod::Totp);
    s.sessions().create(&session).expect("create");
    s.sessions()
        .create(&fresh_session("anon", None))
        .expect("create anonymous");
    let read = |token: &str, now: i64, idle: i64, issuer: &str, agency: &str| {
        let query = SignedInQuery {
            token_hash: token,
            now: at(now),
            idle_cutoff: at(idle),
            issuer,
            agency_key: agency,
        };
        s.signed_in().signed_in(&query).expect("read")
    };
    let first = read("full", 60, -60, "urn:sp", "agency:gsa").expect("signed in");
    assert_eq!(
        Some(&first.session),
        s.sessions()
            .get("full", at(60), at(-60))
            .expect("get")
            .as_ref()
    );
    assert_eq!(
        Some(&first.user),
        s.accounts().get(id).expect("get user").as_ref()
    );
    assert_eq!(
        first.emails,
        s.accounts().emails(id).expect("emails"),
        "every email, in order"
    );
    assert_eq!(first.emails.len(), 2);
    assert_eq!((first.consent, first.agency_uuid), (None, None), "none yet");
    let ids = s.identities();
    ids.save_consent(id, "urn:sp", &["email".to_string()], at(30))
        .expect("consent");
    ids.save_consent(id, "urn:other", &["all_emails".to_string()], at(30))
        .expect("consent");
    ids.agency_uuid(id, "agency:gsa", "uuid-gsa", at(30))
        .expect("uuid");
    ids.agency_uuid(id, "agency:nasa", "uuid-nasa", at(30))
        .expect("uuid");
    let later = read("full", 60, -60, "urn:sp", "agency:gsa").expect("signed in");
    assert_eq!(
        later.consent,
        Some(vec!["email".to_string()]),
        "this SP's consent"
    );
    assert_eq!(
        later.agency_uuid.as_deref(),
        Some("uuid-gsa"),
        "this agency's UUID"
    );
    assert_eq!(later.emails.len(), 2, "one row per email, not per join");
    let elsewhere = read("full", 60, -60, "urn:third", "agency:doe").expect("signed in");
    assert_eq!((elsewhere.consent, elsewhere.agency_uuid), (None, None));
    assert_eq!(
        read("anon", 60, -60, "urn:sp", "agency:gsa"),
        None,
        "no user"
    );
    assert_eq!(
        read("other", 60, -60, "urn:sp", "agency:gsa"),
        None,
        "unknown"
    );
    assert_eq!(read("full", 60, 0, "urn:sp", "agency:gsa"), None, "idle");
    assert_eq!(
        read("full", 12 * 3600, -60, "urn:sp", "agency:gsa"),
        None,
        "expired"
    );
    s.accounts().remove("user-read").expect("remove");
    assert_eq!(
        read("full", 60, -60, "urn:sp", "agency:gsa"),
        None,
        "user removed"
    );
}
