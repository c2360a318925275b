//! The account, session, identity, consent, audit and rate-limit stores, checked against
//! every backend (SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set).

mod common;

use chrono::{DateTime, Duration, NaiveDateTime, SubsecRound, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use common::{every_backend, TestDb};
use saml_idp::accounts::{
    AccountError, AccountStore, EmailRecord, NewUser, UserRecord, UserStatus,
};
use saml_idp::sessions::{
    AuditEvent, AuditLog, IdentityStore, MfaMethod, RateLimiter, SessionRecord, SessionStore,
};
use saml_idp::store::{Backend, Database, DieselAccountStore, DieselSessionStore};

/// 2026-03-15T12:00:00Z plus `secs`.
fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
        .single()
        .expect("time")
        + Duration::seconds(secs)
}

fn accounts(db: &TestDb) -> DieselAccountStore {
    DieselAccountStore::new(db.db.clone())
}

fn sessions(db: &TestDb) -> DieselSessionStore {
    DieselSessionStore::new(db.db.clone())
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
fn create(store: &DieselAccountStore, tag: &str) -> i64 {
    store.create(&new_user(tag), at(0)).expect("create user")
}

fn session(token: &str, user_id: Option<i64>) -> SessionRecord {
    SessionRecord {
        token_hash: token.into(),
        user_id,
        csrf_token: format!("csrf-{token}"),
        password_at: None,
        mfa_at: None,
        mfa_method: None,
        created_at: at(0),
        last_seen_at: at(0),
        expires_at: at(12 * 3600),
        failed_attempts: 0,
    }
}

/// Reads `sp_consents.last_authenticated_at` straight from the database.
fn last_authenticated(db: &TestDb, user_id: i64, issuer: &str) -> Option<NaiveDateTime> {
    #[derive(diesel::QueryableByName)]
    struct Stamp {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
        at: Option<NaiveDateTime>,
    }
    let sql = format!(
        "SELECT last_authenticated_at AS at FROM sp_consents \
         WHERE user_id = {user_id} AND issuer = '{issuer}'"
    );
    let query = diesel::sql_query(sql);
    let rows: Vec<Stamp> = match Backend::from_url(&db.url) {
        (Backend::Sqlite, path) => {
            let mut c = SqliteConnection::establish(&path).expect("sqlite");
            query.load(&mut c).expect("select")
        }
        (Backend::Postgres, url) => {
            let mut c = PgConnection::establish(&url).expect("postgres");
            query.load(&mut c).expect("select")
        }
    };
    rows.into_iter().next().and_then(|r| r.at)
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
        // Nanoseconds are cut to the microseconds both backends keep.
        created_at: now.trunc_subsecs(6),
    }
}

#[test]
fn a_created_user_reads_back_with_every_field() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let user = new_user("a");
        let now = at(0) + Duration::nanoseconds(123_456_789);
        let id = store.create(&user, now).expect("create");
        let expected = Some(expected_record(&user, id, now));
        assert_eq!(store.get(id), Ok(expected.clone()), "{backend}: get");
        for email in &user.emails {
            let found = store.find_by_email(&email.lookup);
            assert_eq!(found, Ok(expected.clone()), "{backend}: find_by_email");
        }
        let by_public = store.find_by_public_id(&user.public_id);
        assert_eq!(
            by_public,
            Ok(expected.clone()),
            "{backend}: find_by_public_id"
        );
        let listed = store.list().map(|l| l.into_iter().next());
        assert_eq!(listed, Ok(expected), "{backend}: list");
        assert_eq!(
            store.emails(id),
            Ok(user.emails.clone()),
            "{backend}: emails"
        );
        let codes: Vec<String> = store
            .unused_backup_codes(id)
            .expect("codes")
            .into_iter()
            .map(|(_, hash)| hash)
            .collect();
        assert_eq!(codes, user.backup_code_hashes, "{backend}: backup codes");
    }
}

#[test]
fn unknown_users_are_not_found() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let id = create(&store, "a");
        assert_eq!(store.list().map(|l| l.len()), Ok(1), "{backend}: one user");
        assert_eq!(store.get(id + 1000), Ok(None), "{backend}: unknown id");
        let email = store.find_by_email("nope");
        assert_eq!(email, Ok(None), "{backend}: unknown email");
        let public = store.find_by_public_id("nope");
        assert_eq!(public, Ok(None), "{backend}: unknown public id");
        assert_eq!(store.emails(id + 1000), Ok(vec![]), "{backend}: no emails");
    }
}

#[test]
fn a_duplicate_email_is_refused_and_nothing_is_written() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let first = create(&store, "a");
        let before = store.list().expect("list");
        let mut second = new_user("b");
        second.emails[1].lookup = "lookup-a-2".into();
        let result = store.create(&second, at(1));
        assert_eq!(
            result,
            Err(AccountError::DuplicateEmail),
            "{backend}: refused"
        );
        assert_eq!(
            store.list().expect("list"),
            before,
            "{backend}: no user written"
        );
        let owner = store.find_by_email("lookup-b-1").expect("find");
        assert_eq!(owner, None, "{backend}: no email written");
        let owner = store.find_by_email("lookup-a-2").expect("find");
        assert_eq!(
            owner.map(|u| u.id),
            Some(first),
            "{backend}: owner unchanged"
        );
        // Two emails of one new user with the same lookup are a duplicate too.
        let mut twice = new_user("c");
        twice.emails[1].lookup = twice.emails[0].lookup.clone();
        let result = store.create(&twice, at(2));
        assert_eq!(
            result,
            Err(AccountError::DuplicateEmail),
            "{backend}: twice"
        );
        assert_eq!(
            store.list().expect("list"),
            before,
            "{backend}: still unchanged"
        );
    }
}

#[test]
fn set_status_and_remove_know_unknown_users() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let id = create(&store, "a");
        let other = create(&store, "b");
        store
            .set_status("user-a", UserStatus::Suspended)
            .expect("suspend");
        let status = store.get(id).expect("get").map(|u| u.status);
        assert_eq!(status, Some(UserStatus::Suspended), "{backend}: suspended");
        let missing = store.set_status("user-x", UserStatus::Active);
        assert_eq!(
            missing,
            Err(AccountError::NotFound("user-x".into())),
            "{backend}: set_status unknown"
        );
        let missing = store.remove("user-x");
        assert_eq!(
            missing,
            Err(AccountError::NotFound("user-x".into())),
            "{backend}: remove unknown"
        );
        store.remove("user-a").expect("remove");
        assert_eq!(store.get(id).expect("get"), None, "{backend}: removed");
        assert!(
            store.emails(id).expect("emails").is_empty(),
            "{backend}: emails"
        );
        let codes = store.unused_backup_codes(id).expect("codes");
        assert!(codes.is_empty(), "{backend}: codes removed");
        let left: Vec<i64> = store.list().expect("list").iter().map(|u| u.id).collect();
        assert_eq!(left, vec![other], "{backend}: the other user stays");
        // The address is free again.
        store.create(&new_user("a"), at(5)).expect("re-create");
    }
}

#[test]
fn removing_a_user_removes_their_sessions_and_identities() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let state = sessions(&db);
        let id = create(&store, "a");
        state.create(&session("s1", Some(id))).expect("session");
        state.remember_browser("b1", id, at(100)).expect("remember");
        let uuid = state
            .agency_uuid(id, "agency", "uuid-1", at(0))
            .expect("uuid");
        state
            .save_consent(id, "sp", &["email".into()], at(0))
            .expect("consent");
        store.remove("user-a").expect("remove");
        let got = state.get("s1", at(1), at(-1)).expect("get");
        assert_eq!(got, None, "{backend}: session gone");
        let remembered = state.is_remembered("b1", id, at(1)).expect("remembered");
        assert!(!remembered, "{backend}: remembered browser gone");
        let owner = state.user_for_agency_uuid("agency", &uuid).expect("owner");
        assert_eq!(owner, None, "{backend}: identity gone");
        assert_eq!(
            state.consent(id, "sp").expect("consent"),
            None,
            "{backend}: consent"
        );
    }
}

#[test]
fn failures_lock_at_the_threshold_and_reset_clears() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let id = create(&store, "a");
        let until = at(900) + Duration::nanoseconds(5_500);
        for expected in 1..=2 {
            let n = store.record_failure(id, 3, until).expect("failure");
            assert_eq!(n, expected, "{backend}: count");
            let user = store.get(id).expect("get").expect("user");
            assert_eq!(user.failed_attempts, expected, "{backend}: stored count");
            assert_eq!(user.locked_until, None, "{backend}: not locked yet");
        }
        assert_eq!(
            store.record_failure(id, 3, until),
            Ok(3),
            "{backend}: third"
        );
        let user = store.get(id).expect("get").expect("user");
        let locked = Some(until.trunc_subsecs(6));
        assert_eq!(user.locked_until, locked, "{backend}: locked");
        assert_eq!(user.failed_attempts, 0, "{backend}: count restarts");
        assert_eq!(
            store.record_failure(id, 3, until),
            Ok(1),
            "{backend}: counts again"
        );
        store.reset_failures(id).expect("reset");
        let user = store.get(id).expect("get").expect("user");
        assert_eq!(user.failed_attempts, 0, "{backend}: reset count");
        assert_eq!(user.locked_until, None, "{backend}: reset lock");
        let missing = store.record_failure(id + 1000, 3, until);
        assert!(
            matches!(missing, Err(AccountError::NotFound(_))),
            "{backend}: unknown user"
        );
    }
}

#[test]
fn a_totp_step_is_claimed_once() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let id = create(&store, "a");
        assert_eq!(store.claim_totp_step(id, 100), Ok(true), "{backend}: first");
        assert_eq!(
            store.claim_totp_step(id, 100),
            Ok(false),
            "{backend}: same step"
        );
        assert_eq!(
            store.claim_totp_step(id, 99),
            Ok(false),
            "{backend}: older step"
        );
        assert_eq!(
            store.claim_totp_step(id, 101),
            Ok(true),
            "{backend}: newer step"
        );
        let last = store.get(id).expect("get").and_then(|u| u.totp_last_step);
        assert_eq!(last, Some(101), "{backend}: stored step");
        let unknown = store.claim_totp_step(id + 1000, 5);
        assert_eq!(unknown, Ok(false), "{backend}: unknown user");
    }
}

#[test]
fn a_totp_step_is_claimed_once_across_two_pools() {
    for (backend, db) in every_backend() {
        let one = accounts(&db);
        let other_db = Database::connect(&db.url).expect("second pool");
        let two = DieselAccountStore::new(other_db);
        let id = create(&one, "a");
        assert_eq!(one.claim_totp_step(id, 7), Ok(true), "{backend}: pool one");
        assert_eq!(
            two.claim_totp_step(id, 7),
            Ok(false),
            "{backend}: pool two same"
        );
        assert_eq!(
            two.claim_totp_step(id, 8),
            Ok(true),
            "{backend}: pool two newer"
        );
        assert_eq!(
            one.claim_totp_step(id, 8),
            Ok(false),
            "{backend}: pool one same"
        );
    }
}

#[test]
fn a_backup_code_is_claimed_once() {
    for (backend, db) in every_backend() {
        let store = accounts(&db);
        let id = create(&store, "a");
        let other = create(&store, "b");
        let codes = store.unused_backup_codes(id).expect("codes");
        assert_eq!(codes.len(), 3, "{backend}: three codes");
        let (code_id, _) = codes[1].clone();
        assert_eq!(
            store.claim_backup_code(code_id, at(1)),
            Ok(true),
            "{backend}: first"
        );
        assert_eq!(
            store.claim_backup_code(code_id, at(2)),
            Ok(false),
            "{backend}: again"
        );
        let left = store.unused_backup_codes(id).expect("codes");
        assert_eq!(
            left,
            vec![codes[0].clone(), codes[2].clone()],
            "{backend}: left"
        );
        let others = store.unused_backup_codes(other).expect("codes");
        assert_eq!(others.len(), 3, "{backend}: other user's codes untouched");
        let two = DieselAccountStore::new(Database::connect(&db.url).expect("pool"));
        let (next, _) = codes[0].clone();
        assert_eq!(
            one_claim(&store, &two, next),
            1,
            "{backend}: one of two pools"
        );
    }
}

/// Both stores try to claim `code_id`; returns how many succeeded.
fn one_claim(a: &DieselAccountStore, b: &DieselAccountStore, code_id: i64) -> usize {
    [a, b]
        .iter()
        .filter(|s| s.claim_backup_code(code_id, at(3)).expect("claim"))
        .count()
}

#[test]
fn sessions_round_trip_and_expire() {
    for (backend, db) in every_backend() {
        let id = create(&accounts(&db), "a");
        let store = sessions(&db);
        let anonymous = session("anon", None);
        store.create(&anonymous).expect("create");
        let mut full = session("full", Some(id));
        full.password_at = Some(at(10));
        full.mfa_at = Some(at(20));
        full.mfa_method = Some(MfaMethod::BackupCode);
        store.create(&full).expect("create");
        let get =
            |token: &str, now: i64, idle: i64| store.get(token, at(now), at(idle)).expect("get");
        assert_eq!(
            get("anon", 60, -60),
            Some(anonymous.clone()),
            "{backend}: anon"
        );
        assert_eq!(get("full", 60, -60), Some(full), "{backend}: full");
        assert_eq!(get("other", 60, -60), None, "{backend}: unknown");
        // Idle: last seen at 0 is not after a cutoff of 0.
        assert_eq!(get("anon", 60, 0), None, "{backend}: idle expiry");
        // Absolute: expires at 12 h.
        assert_eq!(
            get("anon", 12 * 3600, -60),
            None,
            "{backend}: absolute expiry"
        );
        store.touch("anon", at(600)).expect("touch");
        let touched = get("anon", 700, 300);
        let seen = touched.map(|s| s.last_seen_at);
        assert_eq!(seen, Some(at(600)), "{backend}: touch extends idle");
        assert_eq!(
            get("anon", 12 * 3600, 300),
            None,
            "{backend}: but not absolute"
        );
    }
}

#[test]
fn set_password_clears_the_second_factor_and_set_mfa_records_it() {
    for (backend, db) in every_backend() {
        let id = create(&accounts(&db), "a");
        let store = sessions(&db);
        store.create(&session("s", None)).expect("create");
        store.set_password("s", id, at(5)).expect("password");
        store.set_mfa("s", MfaMethod::Totp, at(6)).expect("mfa");
        let s = store
            .get("s", at(10), at(-10))
            .expect("get")
            .expect("session");
        assert_eq!(s.user_id, Some(id), "{backend}: user");
        assert_eq!(s.password_at, Some(at(5)), "{backend}: password_at");
        assert_eq!(s.mfa_at, Some(at(6)), "{backend}: mfa_at");
        assert_eq!(s.mfa_method, Some(MfaMethod::Totp), "{backend}: mfa_method");
        store.set_password("s", id, at(7)).expect("password again");
        let s = store
            .get("s", at(10), at(-10))
            .expect("get")
            .expect("session");
        assert_eq!(s.password_at, Some(at(7)), "{backend}: new password_at");
        assert_eq!(s.mfa_at, None, "{backend}: mfa_at cleared");
        assert_eq!(s.mfa_method, None, "{backend}: mfa_method cleared");
        assert_eq!(s.csrf_token, "csrf-s", "{backend}: csrf kept");
    }
}

#[test]
fn sessions_are_deleted_one_by_one_or_per_user() {
    for (backend, db) in every_backend() {
        let users = accounts(&db);
        let (a, b) = (create(&users, "a"), create(&users, "b"));
        let store = sessions(&db);
        for (token, user) in [("a1", a), ("a2", a), ("a3", a), ("b1", b)] {
            store.create(&session(token, Some(user))).expect("create");
        }
        store.create(&session("anon", None)).expect("create");
        store.delete("a3").expect("delete");
        store.delete("never").expect("delete unknown");
        let live = |t: &str| store.get(t, at(1), at(-1)).expect("get").is_some();
        assert!(!live("a3"), "{backend}: deleted");
        assert_eq!(store.delete_for_user(a), Ok(2), "{backend}: two of a");
        assert_eq!(store.delete_for_user(a), Ok(0), "{backend}: none left");
        assert!(!live("a1") && !live("a2"), "{backend}: a's sessions gone");
        assert!(live("b1") && live("anon"), "{backend}: others stay");
    }
}

#[test]
fn a_lock_ends_only_the_unfinished_sessions_and_failures_count_per_session() {
    for (backend, db) in every_backend() {
        let users = accounts(&db);
        let (a, b) = (create(&users, "a"), create(&users, "b"));
        let store = sessions(&db);
        for (token, user) in [("half", a), ("done", a), ("other", b)] {
            store.create(&session(token, Some(user))).expect("create");
        }
        store.set_mfa("done", MfaMethod::Totp, at(1)).expect("mfa");
        assert_eq!(store.record_failure("half"), Ok(1), "{backend}");
        assert_eq!(store.record_failure("half"), Ok(2), "{backend}");
        assert_eq!(store.record_failure("gone"), Ok(0), "{backend}: no session");
        let read = |t: &str| store.get(t, at(1), at(-1)).expect("get");
        assert_eq!(read("half").map(|s| s.failed_attempts), Some(2));
        assert_eq!(store.delete_unfinished_for_user(a), Ok(1), "{backend}");
        assert!(read("half").is_none(), "{backend}: half-signed-in ended");
        assert!(
            read("done").is_some() && read("other").is_some(),
            "{backend}"
        );
    }
}

#[test]
fn a_pending_request_is_taken_once() {
    use saml_idp::idp::sso::pending::{PendingRequest, PendingStore};
    for (backend, db) in every_backend() {
        let store = saml_idp::store::DieselPendingStore::new(db.db.clone());
        let policy = saml_idp::saml::authn_context::SpPolicy {
            ial: 1,
            default_aal: None,
            ialmax_allowed: false,
            facial_match_enabled: false,
        };
        let pending = PendingRequest {
            issuer: "urn:sp".into(),
            request_id: "_r".into(),
            year: 2026,
            acs_url: "https://sp.example.gov/acs".into(),
            relay_state: None,
            authn_context: saml_idp::saml::authn_context::parse(&[], None, &policy)
                .expect("context"),
            email_name_id: false,
            force_authn: false,
            is_passive: false,
            matching_certificate: Some("ab".repeat(32)),
            received_at: at(0),
        };
        store.put("token", &pending).expect("put");
        assert_eq!(store.get("token", at(1)), Ok(Some(pending)), "{backend}");
        assert_eq!(store.take("token"), Ok(true), "{backend}");
        assert_eq!(store.take("token"), Ok(false), "{backend}: only once");
        assert_eq!(store.get("token", at(1)), Ok(None), "{backend}");
    }
}

#[test]
fn remembered_browsers_expire_and_belong_to_one_user() {
    for (backend, db) in every_backend() {
        let users = accounts(&db);
        let (a, b) = (create(&users, "a"), create(&users, "b"));
        let store = sessions(&db);
        store.remember_browser("br", a, at(100)).expect("remember");
        let remembered = |user: i64, now: i64| store.is_remembered("br", user, at(now));
        assert_eq!(remembered(a, 99), Ok(true), "{backend}: remembered");
        assert_eq!(remembered(a, 100), Ok(false), "{backend}: expired");
        assert_eq!(remembered(b, 99), Ok(false), "{backend}: other user");
        let other = store.is_remembered("other", a, at(1));
        assert_eq!(other, Ok(false), "{backend}: other browser");
        // Remembering again replaces the row: new user, new expiry.
        store.remember_browser("br", b, at(200)).expect("again");
        assert_eq!(remembered(b, 150), Ok(true), "{backend}: replaced user");
        assert_eq!(remembered(a, 50), Ok(false), "{backend}: old user dropped");
    }
}

#[test]
fn an_agency_uuid_is_stable_per_user_and_agency() {
    for (backend, db) in every_backend() {
        let users = accounts(&db);
        let (a, b) = (create(&users, "a"), create(&users, "b"));
        let store = sessions(&db);
        let first = store.agency_uuid(a, "gsa", "uuid-1", at(0)).expect("first");
        assert_eq!(first, "uuid-1", "{backend}: created");
        let again = store.agency_uuid(a, "gsa", "uuid-2", at(1)).expect("again");
        assert_eq!(again, "uuid-1", "{backend}: the first one is kept");
        let other_agency = store.agency_uuid(a, "nasa", "uuid-3", at(2)).expect("nasa");
        assert_eq!(other_agency, "uuid-3", "{backend}: per agency");
        let other_user = store.agency_uuid(b, "gsa", "uuid-4", at(3)).expect("b");
        assert_eq!(other_user, "uuid-4", "{backend}: per user");
        let two = DieselSessionStore::new(Database::connect(&db.url).expect("pool"));
        let from_two = two.agency_uuid(a, "gsa", "uuid-5", at(4)).expect("two");
        assert_eq!(from_two, "uuid-1", "{backend}: second pool sees it");
    }
}

#[test]
fn an_agency_uuid_leads_back_to_its_user() {
    for (backend, db) in every_backend() {
        let users = accounts(&db);
        let (a, b) = (create(&users, "a"), create(&users, "b"));
        let store = sessions(&db);
        store.agency_uuid(a, "gsa", "uuid-a", at(0)).expect("a");
        store.agency_uuid(b, "gsa", "uuid-b", at(0)).expect("b");
        let owner = |agency: &str, uuid: &str| store.user_for_agency_uuid(agency, uuid);
        assert_eq!(owner("gsa", "uuid-a"), Ok(Some(a)), "{backend}: a");
        assert_eq!(owner("gsa", "uuid-b"), Ok(Some(b)), "{backend}: b");
        assert_eq!(owner("nasa", "uuid-a"), Ok(None), "{backend}: other agency");
        assert_eq!(owner("gsa", "uuid-x"), Ok(None), "{backend}: unknown uuid");
    }
}

#[test]
fn consent_is_saved_overwritten_and_read() {
    for (backend, db) in every_backend() {
        let users = accounts(&db);
        let (a, b) = (create(&users, "a"), create(&users, "b"));
        let store = sessions(&db);
        assert_eq!(store.consent(a, "sp1"), Ok(None), "{backend}: none yet");
        let first = vec!["email".to_string(), "x509_subject".to_string()];
        store.save_consent(a, "sp1", &first, at(0)).expect("save");
        assert_eq!(store.consent(a, "sp1"), Ok(Some(first)), "{backend}: saved");
        let second = vec!["email".to_string()];
        store
            .save_consent(a, "sp1", &second, at(1))
            .expect("overwrite");
        assert_eq!(
            store.consent(a, "sp1"),
            Ok(Some(second)),
            "{backend}: overwritten"
        );
        store.save_consent(a, "sp2", &[], at(2)).expect("empty");
        assert_eq!(
            store.consent(a, "sp2"),
            Ok(Some(vec![])),
            "{backend}: empty list"
        );
        assert_eq!(store.consent(b, "sp1"), Ok(None), "{backend}: per user");
    }
}

#[test]
fn record_authentication_stamps_only_existing_consent() {
    for (backend, db) in every_backend() {
        let id = create(&accounts(&db), "a");
        let store = sessions(&db);
        store
            .record_authentication(id, "sp1", at(5))
            .expect("no row");
        assert_eq!(
            store.consent(id, "sp1"),
            Ok(None),
            "{backend}: no row created"
        );
        let attributes = vec!["email".to_string()];
        store
            .save_consent(id, "sp1", &attributes, at(0))
            .expect("save");
        let stamp = last_authenticated(&db, id, "sp1");
        assert_eq!(stamp, None, "{backend}: not yet authenticated");
        store
            .record_authentication(id, "sp1", at(10))
            .expect("record");
        let stamp = last_authenticated(&db, id, "sp1");
        assert_eq!(stamp, Some(at(10).naive_utc()), "{backend}: stamped");
        let kept = store.consent(id, "sp1");
        assert_eq!(
            kept,
            Ok(Some(attributes.clone())),
            "{backend}: consent kept"
        );
        store
            .save_consent(id, "sp1", &attributes, at(20))
            .expect("save");
        let stamp = last_authenticated(&db, id, "sp1");
        assert_eq!(stamp, Some(at(10).naive_utc()), "{backend}: kept on save");
    }
}

fn event(name: &str, success: bool) -> AuditEvent {
    AuditEvent {
        event: name.into(),
        issuer: success.then(|| "https://sp.example.gov".to_string()),
        user_public_id: success.then(|| "user-a".to_string()),
        success,
        detail: (!success).then(|| "bad_password".to_string()),
    }
}

#[test]
fn audit_events_are_listed_newest_first() {
    for (backend, db) in every_backend() {
        let store = sessions(&db);
        let events: Vec<AuditEvent> = (0..4)
            .map(|i| event(&format!("event-{i}"), i % 2 == 0))
            .collect();
        for e in &events {
            // Same timestamp for all: the order must come from insertion.
            store.record(e, at(0)).expect("record");
        }
        let newest: Vec<AuditEvent> = events.iter().rev().cloned().collect();
        assert_eq!(store.recent(10), Ok(newest.clone()), "{backend}: all");
        assert_eq!(
            store.recent(2),
            Ok(newest[..2].to_vec()),
            "{backend}: limited"
        );
    }
}

#[test]
fn the_rate_limiter_counts_per_window() {
    for (backend, db) in every_backend() {
        let store = sessions(&db);
        for i in 1..=3 {
            assert_eq!(store.hit("ip:1", at(0), 3), Ok(true), "{backend}: hit {i}");
        }
        assert_eq!(store.hit("ip:1", at(0), 3), Ok(false), "{backend}: over");
        assert_eq!(
            store.hit("ip:1", at(0), 3),
            Ok(false),
            "{backend}: still over"
        );
        assert_eq!(
            store.hit("ip:2", at(0), 3),
            Ok(true),
            "{backend}: other bucket"
        );
        assert_eq!(
            store.hit("ip:1", at(60), 3),
            Ok(true),
            "{backend}: new window"
        );
        for _ in 0..2 {
            store.hit("ip:1", at(60), 3).expect("hit");
        }
        assert_eq!(
            store.hit("ip:1", at(60), 3),
            Ok(false),
            "{backend}: over again"
        );
        let two = DieselSessionStore::new(Database::connect(&db.url).expect("pool"));
        assert_eq!(
            two.hit("ip:1", at(60), 3),
            Ok(false),
            "{backend}: shared count"
        );
    }
}

/// Runs `f(i)` on `n` threads at once, each with its own store over the shared pool (so
/// each its own connection), and collects the answers.
fn concurrently<T: Send + 'static>(
    db: &TestDb,
    n: usize,
    f: impl Fn(DieselSessionStore, usize) -> T + Send + Sync + Clone + 'static,
) -> Vec<T> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let store = DieselSessionStore::new(db.db.clone());
            let (barrier, f) = (barrier.clone(), f.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(store, i)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect()
}

#[test]
fn concurrent_first_hand_offs_end_with_one_agency_uuid() {
    for (backend, db) in every_backend() {
        let id = create(&accounts(&db), "a");
        let uuids = concurrently(&db, 8, move |store, i| {
            store
                .agency_uuid(id, "gsa", &format!("uuid-{i}"), at(0))
                .expect("agency uuid")
        });
        let first = uuids[0].clone();
        assert!(uuids.iter().all(|u| *u == first), "{backend}: {uuids:?}");
        let stored = sessions(&db).agency_uuid(id, "gsa", "late", at(1));
        assert_eq!(stored, Ok(first), "{backend}: the winner is stored");
    }
}

#[test]
fn concurrent_hits_are_all_counted() {
    for (backend, db) in every_backend() {
        let allowed = concurrently(&db, 8, |store, _| {
            (0..5)
                .filter(|_| store.hit("ip:9", at(0), 20).expect("hit"))
                .count()
        });
        let total: usize = allowed.iter().sum();
        assert_eq!(total, 20, "{backend}: exactly the limit of 40 hits allowed");
    }
}
