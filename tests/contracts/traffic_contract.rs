//! The `AuditLog`, `RateLimiter` and `ReplayCache` contracts (what requests leave behind),
//! one function per behaviour, run on every implementation (memory, SQLite, PostgreSQL when
//! `TEST_DATABASE_URL` is set): events in order, fixed rate-limit windows counted across
//! nodes and racing threads, and request IDs accepted once until they are forgotten.

use crate::common;

use chrono::{DateTime, Duration, Utc};

use common::stores::{at, concurrently, Stores};
use saml_idp::sessions::{AuditEvent, AuditKind, AuditLog, ReplayCache};

common::stores::contract_tests! {
    audit_events_are_listed_newest_first(audit);
    a_batch_of_events_is_recorded_in_order(audit);
    the_rate_limiter_counts_per_window(stores);
    concurrent_hits_are_all_counted(stores);
    a_request_id_is_used_once_per_issuer(replay);
    a_request_id_is_forgotten_only_after_forget_before(replay);
    concurrent_uses_of_one_request_id_let_one_through(stores);
}

/// An event told apart by its `label` (its detail); its kind follows the label, so several
/// kinds are written and each stored name must read back as the kind it was written as.
fn event(label: &str, success: bool) -> AuditEvent {
    let sum: usize = label.bytes().map(usize::from).sum();
    let kind = AuditKind::ALL[sum % AuditKind::ALL.len()];
    AuditEvent {
        event: kind,
        issuer: success.then(|| "https://sp.example.gov".to_string()),
        user_public_id: success.then(|| "user-a".to_string()),
        success,
        detail: Some(label.to_string()),
        count: 1,
        binding: None,
        reference: None,
    }
}

fn audit_events_are_listed_newest_first(store: &dyn AuditLog) {
    let events: Vec<AuditEvent> = (0..4)
        .map(|i| event(&format!("event-{i}"), i % 2 == 0))
        .collect();
    for e in &events {
        // Same timestamp for all: the order must come from insertion.
        store.record(e, at(0)).expect("record");
    }
    let newest: Vec<AuditEvent> = events.iter().rev().cloned().collect();
    assert_eq!(store.recent(10), Ok(newest.clone()), "all");
    assert_eq!(store.recent(2), Ok(newest[..2].to_vec()), "limited");
    assert_eq!(store.recent(0), Ok(vec![]), "none");
}

fn a_batch_of_events_is_recorded_in_order(store: &dyn AuditLog) {
    store.record(&event("before", true), at(0)).expect("record");
    let mut batch: Vec<(AuditEvent, DateTime<Utc>)> = (1..=3)
        .map(|i| (event(&format!("batch-{i}"), true), at(i)))
        .collect();
    // Every column, NULLs included, survives the batch's one statement.
    batch[0].0.binding = Some(saml_idp::sessions::Binding::BackChannel);
    batch[0].0.count = 7;
    batch[1].0.reference = Some("ref-2".into());
    batch[1].0.issuer = None;
    batch[1].0.success = false;
    store.record_many(&batch).expect("record_many");
    let stored = store.recent(3).expect("recent");
    let sent: Vec<AuditEvent> = batch.iter().rev().map(|(e, _)| e.clone()).collect();
    assert_eq!(stored, sent, "the batch as sent, newest first");
    let names: Vec<String> = store
        .recent(10)
        .expect("recent")
        .into_iter()
        .filter_map(|e| e.detail)
        .collect();
    assert_eq!(names, ["batch-3", "batch-2", "batch-1", "before"]);
    let times: Vec<DateTime<Utc>> = store
        .recent_for_user("user-a", 2)
        .expect("recent_for_user")
        .into_iter()
        .map(|e| e.at)
        .collect();
    assert_eq!(times, [at(3), at(2)], "with their own times");
}

fn the_rate_limiter_counts_per_window(s: &Stores) {
    let store = s.limiter();
    for i in 1..=3 {
        assert_eq!(store.hit("ip:1", at(0), 3), Ok(true), "hit {i}");
    }
    assert_eq!(store.hit("ip:1", at(0), 3), Ok(false), "over");
    assert_eq!(store.hit("ip:1", at(0), 3), Ok(false), "still over");
    assert_eq!(store.hit("ip:2", at(0), 3), Ok(true), "other bucket");
    assert_eq!(store.hit("ip:1", at(60), 3), Ok(true), "new window");
    for _ in 0..2 {
        store.hit("ip:1", at(60), 3).expect("hit");
    }
    assert_eq!(store.hit("ip:1", at(60), 3), Ok(false), "over again");
    let node = s.another_node();
    let shared = node.limiter.hit("ip:1", at(60), 3);
    assert_eq!(shared, Ok(false), "another node shares the count");
}

fn concurrent_hits_are_all_counted(s: &Stores) {
    let allowed = concurrently(&s.limiter, 8, |store, _| {
        (0..5)
            .filter(|_| store.hit("ip:9", at(0), 20).expect("hit"))
            .count()
    });
    let total: usize = allowed.iter().sum();
    assert_eq!(total, 20, "exactly the limit of 40 hits allowed");
}

/// Nothing is forgotten: `forget_before` a day before.
fn first_use(store: &dyn ReplayCache, issuer: &str, id: &str, secs: i64) -> bool {
    let long_ago = at(secs) - Duration::days(1);
    store
        .first_use(issuer, id, at(secs), long_ago)
        .expect("first_use")
}

fn a_request_id_is_used_once_per_issuer(store: &dyn ReplayCache) {
    assert!(first_use(store, "urn:sp1", "_r1", 0), "first use");
    assert!(!first_use(store, "urn:sp1", "_r1", 1), "a replay");
    assert!(first_use(store, "urn:sp2", "_r1", 2), "another issuer");
    assert!(first_use(store, "urn:sp1", "_r2", 3), "another ID");
}

/// An entry goes once `forget_before` passes its time (a store may wait up to
/// `FORGET_EVERY_SECONDS` to drop it), never before.
fn a_request_id_is_forgotten_only_after_forget_before(store: &dyn ReplayCache) {
    assert!(first_use(store, "urn:sp1", "_old", 0));
    assert!(first_use(store, "urn:sp1", "_kept", 10));
    let forget = |id: &str| store.first_use("urn:sp1", id, at(100), at(10));
    assert_eq!(forget("_old"), Ok(true), "forgotten: used again");
    assert_eq!(
        forget("_kept"),
        Ok(false),
        "seen exactly at forget_before: kept"
    );
}

fn concurrent_uses_of_one_request_id_let_one_through(s: &Stores) {
    let firsts = concurrently(&s.replay, 8, |store, _| {
        first_use(store, "urn:sp1", "_raced", 0)
    });
    assert_eq!(firsts.iter().filter(|f| **f).count(), 1, "{firsts:?}");
}
