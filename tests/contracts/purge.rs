//! The purge of expired rows (SPEC 7, "Nothing grows without a bound"): the `Purger`
//! contract, one function per behaviour, run on every implementation (memory, SQLite,
//! PostgreSQL when `TEST_DATABASE_URL` is set): exactly the expired rows of each table go,
//! the live ones keep working, a second purge deletes nothing, two nodes purging at once
//! delete each row once, audit events go after their retention. SQL only: a backlog goes in
//! batches, and `saml-idp purge` as an operator runs it.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use common::stores::Stores;
use saml_idp::accounts::tokens::{TokenPurpose, TokenRecord};
use saml_idp::sessions::purge::{PurgeCutoffs, PurgeReport, Purger};
use saml_idp::sessions::{AuditLog, SessionRecord, SessionStore};
use saml_idp::store::{Database, DieselPurger};

common::stores::contract_tests! {
    exactly_the_expired_rows_go_and_the_live_ones_keep_working(stores);
    rows_exactly_at_the_cutoff_are_purged_only_if_readers_refuse_them(stores);
    two_nodes_purging_at_once_delete_each_row_once(stores);
    audit_events_past_their_retention_are_purged(audit, purger);
}

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

fn create_user(s: &Stores, at: DateTime<Utc>) -> i64 {
    let user = common::stores::bare_user("user-purge");
    s.accounts.create(&user, at).expect("create user")
}

/// What `seed` made: the instant it seeded around, the margin, the remembered browsers' user.
struct Seeded {
    now: DateTime<Utc>,
    margin: Duration,
    user: i64,
}

/// Through the stores, one expired and one live row per table as seen at `now`, each
/// `margin` away from its cutoff (two expired sessions: one past `expires_at`, one idle).
fn seed(s: &Stores, now: DateTime<Utc>, margin: Duration) -> Seeded {
    let user = create_user(s, now - Duration::days(1));
    for (token, expires_at) in [("p-expired", now - margin), ("p-live", now + margin)] {
        let mut request = common::pending_request(ISSUER, expires_at);
        request.request_id = format!("_{token}");
        s.pending.put(token, &request).expect("put");
    }
    let idle = now - minutes(15);
    let later = now + Duration::hours(11);
    for session in [
        session("s-expired", now - margin, now - margin),
        session("s-idle", idle - margin, later),
        session("s-live", idle + margin, later),
    ] {
        s.sessions.create(&session).expect("create session");
    }
    for (token, until) in [("r-expired", now - margin), ("r-live", now + margin)] {
        let r = s.sessions.remember_browser(token, user, until);
        r.expect("remember");
    }
    // Nothing forgotten while seeding: `forget_before` far in the past.
    let long_ago = now - Duration::days(1);
    for (id, seen_at) in [
        ("_old", now - minutes(14) - margin),
        ("_new", now - minutes(14) + margin),
    ] {
        let first = s.replay.first_use(ISSUER, id, seen_at, long_ago);
        assert_eq!(first, Ok(true), "seeding {id}");
    }
    for (token, expires_at) in [("t-expired", now - margin), ("t-live", now + margin)] {
        let purpose = TokenPurpose::ResetPassword;
        let issued = TokenRecord::issue(token.into(), purpose, Some(user), None, now);
        let record = TokenRecord {
            expires_at,
            ..issued
        };
        s.tokens.insert(&record).expect("insert token");
    }
    for (bucket, window) in [
        ("ip:old", now - minutes(60) - margin),
        ("ip:new", now - minutes(60) + margin),
    ] {
        s.limiter.hit(bucket, window, 1).expect("hit");
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

const TABLES: [&str; 6] = [
    "pending_requests",
    "browser_sessions",
    "remembered_browsers",
    "seen_requests",
    "rate_limits",
    "one_time_tokens",
];

fn counts(s: &Stores) -> Vec<i64> {
    TABLES.iter().map(|t| s.count(t)).collect()
}

/// The live rows `seed` made still do their job at the instant it seeded around.
fn assert_live_rows_work(s: &Stores, seeded: &Seeded) {
    let now = seeded.now;
    let token = s.tokens.find("t-live", TokenPurpose::ResetPassword, now);
    assert!(token.expect("find token").is_some(), "live token");
    let pending = s.pending.get("p-live", now).expect("get pending");
    assert!(pending.is_some(), "live pending request");
    let live = s.sessions.get("s-live", now, now - minutes(15));
    assert!(live.expect("get session").is_some(), "live session");
    let remembered = s.sessions.is_remembered("r-live", seeded.user, now);
    assert_eq!(remembered, Ok(true), "live remembered browser");
    // Still remembered: a replay of the recent request ID is refused.
    let replay = s.replay.first_use(ISSUER, "_new", now, now - minutes(14));
    assert_eq!(replay, Ok(false), "replay cache kept its recent entry");
    // The window kept its count: a second hit in it is over a limit of 1.
    let window = now - minutes(60) + seeded.margin;
    let second = s.limiter.hit("ip:new", window, 1);
    assert_eq!(second, Ok(false), "rate-limit window kept its count");
}

fn exactly_the_expired_rows_go_and_the_live_ones_keep_working(s: &Stores) {
    let seeded = seed(s, now(), Duration::seconds(1));
    assert_eq!(counts(s), vec![2, 3, 2, 2, 2, 2], "seeded");
    let cutoffs = PurgeCutoffs::at(now());
    let report = s.purger.purge(&cutoffs).expect("purge");
    assert_eq!(report, seeded_expired(), "first purge");
    assert_eq!(report.total(), 7, "total");
    assert_eq!(counts(s), vec![1, 1, 1, 1, 1, 1], "left");
    let again = s.purger.purge(&cutoffs).expect("purge again");
    assert_eq!(again, PurgeReport::default(), "second purge");
    assert_live_rows_work(s, &seeded);
}

/// At the cutoff itself the purge agrees with the readers: what they refuse it deletes.
fn rows_exactly_at_the_cutoff_are_purged_only_if_readers_refuse_them(s: &Stores) {
    seed(s, now(), Duration::zero());
    let idle_cutoff = now() - minutes(15);
    let pending = s.pending.get("p-live", now()).expect("get");
    assert!(pending.is_none(), "expires_at = now is expired");
    let idle = s.sessions.get("s-live", now(), idle_cutoff).expect("get");
    assert!(idle.is_none(), "idle exactly 15 minutes is idle");
    let token = s.tokens.find("t-live", TokenPurpose::ResetPassword, now());
    assert!(
        token.expect("find").is_none(),
        "a token at expires_at is dead"
    );
    let report = s.purger.purge(&PurgeCutoffs::at(now())).expect("purge");
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
    assert_eq!(report, expected);
}

/// `n` sessions idle for 20 minutes at `now()` (still before their absolute end).
fn idle_sessions(sessions: &dyn SessionStore, n: usize) {
    for i in 0..n {
        let dead = session(
            &format!("dead-{i}"),
            now() - minutes(20),
            now() + minutes(1),
        );
        sessions.create(&dead).expect("create");
    }
}

/// Each purger on a thread of its own, at once; how many sessions they deleted together.
fn purge_at_once(purgers: Vec<Arc<dyn Purger>>) -> usize {
    let nodes: Vec<_> = purgers
        .into_iter()
        .map(|purger| std::thread::spawn(move || purger.purge(&PurgeCutoffs::at(now()))))
        .collect();
    nodes
        .into_iter()
        .map(|n| n.join().expect("thread").expect("purge").browser_sessions)
        .sum()
}

/// Two nodes purging the same backlog at once: no error, each row deleted once.
fn two_nodes_purging_at_once_delete_each_row_once(s: &Stores) {
    const DEAD: usize = 60;
    idle_sessions(s.sessions(), DEAD);
    let deleted = purge_at_once(vec![s.purger.clone(), s.another_node().purger]);
    assert_eq!(deleted, DEAD, "every row deleted exactly once");
    assert_eq!(s.count("browser_sessions"), 0);
}

/// SQL only: the batch size is the Diesel purger's (the in-memory one deletes under one
/// lock, in one go).
#[test]
fn a_backlog_is_deleted_in_batches() {
    for (name, stores) in common::stores::every_sql_store() {
        let db = stores.sql_db().expect("a database");
        idle_sessions(stores.sessions(), 7);
        let live = session("live", now(), now() + minutes(1));
        stores.sessions.create(&live).expect("create");
        let purger = DieselPurger::with_batch_size(db.db.clone(), 3);
        let report = purger.purge(&PurgeCutoffs::at(now())).expect("purge");
        assert_eq!(report.browser_sessions, 7, "{name}: 3 + 3 + 1");
        assert_eq!(stores.count("browser_sessions"), 1, "{name}");
        let idle_cutoff = now() - minutes(15);
        let kept = stores
            .sessions
            .get("live", now(), idle_cutoff)
            .expect("get");
        assert!(kept.is_some(), "{name}: the live session survives");
    }
}

/// SQL only: two pools whose small batches interleave on one backlog.
#[test]
fn two_nodes_purging_in_small_batches_delete_each_row_once() {
    const DEAD: usize = 60;
    for (name, stores) in common::stores::every_sql_store() {
        let db = stores.sql_db().expect("a database");
        idle_sessions(stores.sessions(), DEAD);
        let purgers: Vec<Arc<dyn Purger>> = (0..2)
            .map(|_| {
                let pool = Database::connect(&db.url).expect("pool");
                Arc::new(DieselPurger::with_batch_size(pool, 4)) as Arc<dyn Purger>
            })
            .collect();
        assert_eq!(purge_at_once(purgers), DEAD, "{name}: each row once");
        assert_eq!(stores.count("browser_sessions"), 0, "{name}");
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

/// SQL only: the command purges a database.
#[test]
fn the_purge_command_prints_what_it_deleted_on_one_line() {
    for (backend, stores) in common::stores::every_sql_store() {
        let url = &stores.sql_db().expect("a database").url;
        // The binary reads the system clock: seed around it, with room to start up.
        let seeded = seed(&stores, common::wall_clock(), minutes(5));
        let dir = tempfile::tempdir().expect("dir");
        let expected = format!("{}\n", seeded_expired());
        let first = purge_command(dir.path(), url);
        assert_eq!(
            first,
            (Some(0), expected, String::new()),
            "{backend}: first"
        );
        let nothing = format!("{}\n", PurgeReport::default());
        let second = purge_command(dir.path(), url);
        assert_eq!(
            second,
            (Some(0), nothing, String::new()),
            "{backend}: again"
        );
        assert_live_rows_work(&stores, &seeded);
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
fn audit_events_past_their_retention_are_purged(audit: &dyn AuditLog, purger: &dyn Purger) {
    use saml_idp::sessions::AuditEvent;
    let event = |detail: &str| AuditEvent {
        event: saml_idp::sessions::AuditKind::SamlAuth,
        issuer: None,
        user_public_id: None,
        success: true,
        detail: Some(detail.into()),
        count: 1,
        binding: None,
        reference: None,
    };
    audit
        .record_many(&[
            (event("old"), now() - Duration::days(31)),
            (event("recent"), now() - Duration::days(29)),
        ])
        .expect("recorded");
    assert_eq!(audit.recent(10).expect("recent").len(), 2);
    let kept_for_ever = PurgeCutoffs::at(now()).with_audit_retention(now(), 0);
    let report = purger.purge(&kept_for_ever).expect("purge");
    assert_eq!(report.audit_events, 0, "retention 0 keeps everything");
    let thirty_days = PurgeCutoffs::at(now()).with_audit_retention(now(), 30);
    let report = purger.purge(&thirty_days).expect("purge");
    assert_eq!(report.audit_events, 1);
    let left: Vec<_> = audit
        .recent(10)
        .expect("recent")
        .into_iter()
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(left, vec!["recent".to_string()]);
}
