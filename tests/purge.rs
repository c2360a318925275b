//! The purge of expired rows (SPEC 7, "Nothing grows without a bound") on every backend:
//! exactly the expired rows of each table go, the live ones keep working, a second purge
//! deletes nothing, a backlog goes in batches, two nodes purging at once delete each row
//! once; and `saml-idp purge` as an operator runs it.

mod common;

use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use common::{every_backend, TestDb};
use saml_idp::accounts::tokens::{TokenPurpose, TokenRecord};
use saml_idp::accounts::NewUser;
use saml_idp::sessions::purge::{PurgeCutoffs, PurgeReport, Purger};
use saml_idp::sessions::SessionRecord;
use saml_idp::store::{Backend, Database, DieselPurger};
use saml_idp::web::AppState;

const ISSUER: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:purge";

/// The fixed "now" of the contract tests (the test clock's instant).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
        .single()
        .expect("time")
}

fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

fn session(token: &str, last_seen_at: DateTime<Utc>, expires_at: DateTime<Utc>) -> SessionRecord {
    SessionRecord {
        token_hash: token.into(),
        user_id: None,
        csrf_token: format!("csrf-{token}"),
        password_at: None,
        mfa_at: None,
        mfa_method: None,
        created_at: last_seen_at,
        last_seen_at,
        expires_at,
        failed_attempts: 0,
    }
}

fn create_user(state: &AppState, at: DateTime<Utc>) -> i64 {
    let user = NewUser {
        public_id: "user-purge".into(),
        password_hash: "$argon2id$hash".into(),
        totp_secret_sealed: None,
        locale: "en".into(),
        emails: Vec::new(),
        backup_code_hashes: Vec::new(),
        verified_profile_sealed: None,
        verified_at: None,
        piv_record_sealed: None,
    };
    state.accounts.create(&user, at).expect("create user")
}

/// What `seed` made: the instant it seeded around, the margin, the remembered browsers' user.
struct Seeded {
    now: DateTime<Utc>,
    margin: Duration,
    user: i64,
}

/// Through the stores, one expired and one live row per table as seen at `now`, each
/// `margin` away from its cutoff (two expired sessions: one past `expires_at`, one idle).
fn seed(state: &AppState, now: DateTime<Utc>, margin: Duration) -> Seeded {
    let user = create_user(state, now - Duration::days(1));
    for (token, expires_at) in [("p-expired", now - margin), ("p-live", now + margin)] {
        let request = common::pending_request(ISSUER, expires_at);
        state.pending.put(token, &request).expect("put");
    }
    let idle = now - minutes(15);
    let later = now + Duration::hours(11);
    for s in [
        session("s-expired", now - margin, now - margin),
        session("s-idle", idle - margin, later),
        session("s-live", idle + margin, later),
    ] {
        state.sessions.create(&s).expect("create session");
    }
    for (token, until) in [("r-expired", now - margin), ("r-live", now + margin)] {
        let r = state.sessions.remember_browser(token, user, until);
        r.expect("remember");
    }
    // Nothing forgotten while seeding: `forget_before` far in the past.
    let long_ago = now - Duration::days(1);
    for (id, seen_at) in [
        ("_old", now - minutes(14) - margin),
        ("_new", now - minutes(14) + margin),
    ] {
        let first = state.replay_cache.first_use(ISSUER, id, seen_at, long_ago);
        assert_eq!(first, Ok(true), "seeding {id}");
    }
    for (token, expires_at) in [("t-expired", now - margin), ("t-live", now + margin)] {
        let purpose = TokenPurpose::ResetPassword;
        let issued = TokenRecord::issue(token.into(), purpose, Some(user), None, now);
        let record = TokenRecord {
            expires_at,
            ..issued
        };
        state.tokens.insert(&record).expect("insert token");
    }
    for (bucket, window) in [
        ("ip:old", now - minutes(60) - margin),
        ("ip:new", now - minutes(60) + margin),
    ] {
        state.rate_limiter.hit(bucket, window, 1).expect("hit");
    }
    Seeded { now, margin, user }
}

/// What purging `seed`'s rows deletes: the expired ones, both kinds of dead session.
fn seeded_expired() -> PurgeReport {
    PurgeReport {
        pending_requests: 1,
        browser_sessions: 2,
        remembered_browsers: 1,
        seen_requests: 1,
        rate_limits: 1,
        one_time_tokens: 1,
        audit_events: 0,
    }
}

/// `SELECT COUNT(*)` of a table, straight from the database.
fn count_rows(db: &TestDb, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
    let rows: Vec<Count> = match Backend::from_url(&db.url) {
        (Backend::Sqlite, path) => {
            let mut c = SqliteConnection::establish(&path).expect("sqlite");
            query.load(&mut c).expect("count")
        }
        (Backend::Postgres, url) => {
            let mut c = PgConnection::establish(&url).expect("postgres");
            query.load(&mut c).expect("count")
        }
    };
    rows.first().map_or(0, |r| r.n)
}

const TABLES: [&str; 6] = [
    "pending_requests",
    "browser_sessions",
    "remembered_browsers",
    "seen_requests",
    "rate_limits",
    "one_time_tokens",
];

fn counts(db: &TestDb) -> Vec<i64> {
    TABLES.iter().map(|t| count_rows(db, t)).collect()
}

/// The live rows `seed` made still do their job at the instant it seeded around.
fn assert_live_rows_work(state: &AppState, seeded: &Seeded, backend: &str) {
    let now = seeded.now;
    let token = state
        .tokens
        .find("t-live", TokenPurpose::ResetPassword, now);
    assert!(
        token.expect("find token").is_some(),
        "{backend}: live token"
    );
    let pending = state.pending.get("p-live", now).expect("get pending");
    assert!(pending.is_some(), "{backend}: live pending request");
    let live = state.sessions.get("s-live", now, now - minutes(15));
    assert!(
        live.expect("get session").is_some(),
        "{backend}: live session"
    );
    let remembered = state.sessions.is_remembered("r-live", seeded.user, now);
    assert_eq!(remembered, Ok(true), "{backend}: live remembered browser");
    // Still remembered: a replay of the recent request ID is refused.
    let replay = state
        .replay_cache
        .first_use(ISSUER, "_new", now, now - minutes(14));
    assert_eq!(
        replay,
        Ok(false),
        "{backend}: replay cache kept its recent entry"
    );
    // The window kept its count: a second hit in it is over a limit of 1.
    let window = now - minutes(60) + seeded.margin;
    let second = state.rate_limiter.hit("ip:new", window, 1);
    assert_eq!(
        second,
        Ok(false),
        "{backend}: rate-limit window kept its count"
    );
}

#[test]
fn exactly_the_expired_rows_go_and_the_live_ones_keep_working() {
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        let seeded = seed(&state, now(), Duration::seconds(1));
        assert_eq!(counts(&db), vec![2, 3, 2, 2, 2, 2], "{backend}: seeded");
        let cutoffs = PurgeCutoffs::at(now());
        let report = state.purger.purge(&cutoffs).expect("purge");
        assert_eq!(report, seeded_expired(), "{backend}: first purge");
        assert_eq!(report.total(), 7, "{backend}: total");
        assert_eq!(counts(&db), vec![1, 1, 1, 1, 1, 1], "{backend}: left");
        let again = state.purger.purge(&cutoffs).expect("purge again");
        assert_eq!(again, PurgeReport::default(), "{backend}: second purge");
        assert_live_rows_work(&state, &seeded, backend);
    }
}

/// At the cutoff itself the purge agrees with the readers: what they refuse it deletes.
#[test]
fn rows_exactly_at_the_cutoff_are_purged_only_if_readers_refuse_them() {
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        seed(&state, now(), Duration::zero());
        let idle_cutoff = now() - minutes(15);
        let pending = state.pending.get("p-live", now()).expect("get");
        assert!(pending.is_none(), "{backend}: expires_at = now is expired");
        let idle = state
            .sessions
            .get("s-live", now(), idle_cutoff)
            .expect("get");
        assert!(idle.is_none(), "{backend}: idle exactly 15 minutes is idle");
        let token = state
            .tokens
            .find("t-live", TokenPurpose::ResetPassword, now());
        assert!(
            token.expect("find").is_none(),
            "{backend}: a token at expires_at is dead"
        );
        let report = state.purger.purge(&PurgeCutoffs::at(now())).expect("purge");
        // Every pending request, session, remembered browser and token is at or past its end;
        // replay entries and rate windows exactly at their cutoff are still kept.
        let expected = PurgeReport {
            pending_requests: 2,
            browser_sessions: 3,
            remembered_browsers: 2,
            seen_requests: 0,
            rate_limits: 0,
            one_time_tokens: 2,
            audit_events: 0,
        };
        assert_eq!(report, expected, "{backend}");
    }
}

#[test]
fn a_backlog_is_deleted_in_batches() {
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        for i in 0..7 {
            let dead = session(
                &format!("dead-{i}"),
                now() - minutes(20),
                now() + minutes(1),
            );
            state.sessions.create(&dead).expect("create");
        }
        let live = session("live", now(), now() + minutes(1));
        state.sessions.create(&live).expect("create");
        let purger = DieselPurger::with_batch_size(db.db.clone(), 3);
        let report = purger.purge(&PurgeCutoffs::at(now())).expect("purge");
        assert_eq!(report.browser_sessions, 7, "{backend}: 3 + 3 + 1");
        assert_eq!(count_rows(&db, "browser_sessions"), 1, "{backend}");
        let idle_cutoff = now() - minutes(15);
        let kept = state.sessions.get("live", now(), idle_cutoff).expect("get");
        assert!(kept.is_some(), "{backend}: the live session survives");
    }
}

/// Two nodes (two pools) purging the same backlog at once: no error, each row deleted once.
#[test]
fn two_nodes_purging_at_once_delete_each_row_once() {
    const DEAD: usize = 60;
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        for i in 0..DEAD {
            let dead = session(
                &format!("dead-{i}"),
                now() - minutes(20),
                now() + minutes(1),
            );
            state.sessions.create(&dead).expect("create");
        }
        let nodes: Vec<_> = (0..2)
            .map(|_| {
                let pool = Database::connect(&db.url).expect("pool");
                std::thread::spawn(move || {
                    let purger = DieselPurger::with_batch_size(pool, 4);
                    purger.purge(&PurgeCutoffs::at(now()))
                })
            })
            .collect();
        let deleted: usize = nodes
            .into_iter()
            .map(|n| n.join().expect("thread").expect("purge").browser_sessions)
            .sum();
        assert_eq!(deleted, DEAD, "{backend}: every row deleted exactly once");
        assert_eq!(count_rows(&db, "browser_sessions"), 0, "{backend}");
    }
}

// ---------------------------------------------------------------------------------------
// saml-idp purge

/// (exit code, stdout, stderr) of `saml-idp purge` with `dir` as data directory.
fn purge_command(dir: &Path, database_url: &str) -> (Option<i32>, String, String) {
    let out = common::saml_idp(dir)
        .args(["purge", "--database-url", database_url])
        .output()
        .expect("saml-idp runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_purge_command_prints_what_it_deleted_on_one_line() {
    for (backend, db) in every_backend() {
        // The binary reads the system clock: seed around it, with room to start up.
        let state = common::app_state(&db);
        let seeded = seed(&state, Utc::now(), minutes(5));
        let dir = tempfile::tempdir().expect("dir");
        let expected = format!("{}\n", seeded_expired());
        let first = purge_command(dir.path(), &db.url);
        assert_eq!(
            first,
            (Some(0), expected, String::new()),
            "{backend}: first"
        );
        let nothing = format!("{}\n", PurgeReport::default());
        let second = purge_command(dir.path(), &db.url);
        assert_eq!(
            second,
            (Some(0), nothing, String::new()),
            "{backend}: again"
        );
        assert_live_rows_work(&state, &seeded, backend);
    }
}

/// Fails with a non-zero status, nothing on stdout and one stderr line containing `needle`.
fn assert_fails_on_one_line(database_url: &str, needle: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let (code, stdout, stderr) = purge_command(dir.path(), database_url);
    assert!(code.is_some_and(|c| c != 0), "exit status {code:?}");
    assert_eq!(stdout, "");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr:?}");
    assert!(lines[0].contains(needle), "{stderr:?}");
}

#[test]
fn the_purge_command_fails_on_one_line_when_the_database_cannot_be_opened() {
    assert_fails_on_one_line("/dev/null/no/saml-idp.sqlite3", "/dev/null");
}

/// libpq's refusal spans two lines; the command still prints one (after the pool's 5 s).
#[test]
fn the_purge_command_fails_on_one_line_when_postgresql_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let url = format!("postgres://nobody@127.0.0.1:{port}/none");
    assert_fails_on_one_line(&url, "cannot connect to the database");
}

/// Audit events are kept for `audit_retention_days`: older ones go with the purge, newer
/// ones stay, and 0 keeps every one.
#[test]
fn audit_events_past_their_retention_are_purged() {
    use saml_idp::sessions::AuditEvent;
    for (backend, db) in every_backend() {
        let state = common::app_state(&db);
        let event = |detail: &str| AuditEvent {
            event: "SAML Auth".into(),
            issuer: None,
            user_public_id: None,
            success: true,
            detail: Some(detail.into()),
        };
        state
            .audit
            .record_many(&[
                (event("old"), now() - Duration::days(31)),
                (event("recent"), now() - Duration::days(29)),
            ])
            .expect("recorded");
        // Reading the trail stores what the audit buffer holds.
        assert_eq!(
            state.audit.recent(10).expect("recent").len(),
            2,
            "{backend}"
        );
        let kept_for_ever = PurgeCutoffs::at(now()).with_audit_retention(now(), 0);
        assert_eq!(
            state
                .purger
                .purge(&kept_for_ever)
                .expect("purge")
                .audit_events,
            0,
            "{backend}: retention 0 keeps everything"
        );
        let thirty_days = PurgeCutoffs::at(now()).with_audit_retention(now(), 30);
        let report = state.purger.purge(&thirty_days).expect("purge");
        assert_eq!(report.audit_events, 1, "{backend}");
        let left: Vec<_> = state
            .audit
            .recent(10)
            .expect("recent")
            .into_iter()
            .filter_map(|e| e.detail)
            .collect();
        assert_eq!(left, vec!["recent".to_string()], "{backend}");
    }
}
