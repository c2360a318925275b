//! The `MailQueue` contract (SPEC 17), one function per behaviour, run on every
//! implementation (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set): a queued
//! message is claimed once under a lease, even by concurrent claimers on two nodes; a failure
//! schedules a retry; a sent message loses its payload but still counts for the caps until
//! purged; the caps count per address, per hour and per day.

use crate::common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use common::stores::{at, concurrently, Stores};
use saml_idp::mail::queue::{Caps, Enqueued, MailQueue, NewQueuedMail, QueueStats};

common::stores::contract_tests! {
    a_message_is_claimed_once_until_its_lease_ends(mail_queue);
    claims_take_the_oldest_due_first_and_at_most_the_limit(mail_queue);
    concurrent_claimers_on_two_nodes_never_get_the_same_message(stores);
    a_failure_schedules_a_retry_and_is_counted(mail_queue);
    a_released_message_is_due_again_at_once(mail_queue);
    a_sent_message_loses_its_payload_and_is_purged_after_the_caps_window(stores);
    the_caps_count_every_message_to_one_address_per_hour_and_per_day(mail_queue);
    two_nodes_queueing_at_once_do_not_pass_a_cap_together(stores);
}

const ROOMY: Caps = Caps {
    per_hour: 1000,
    per_day: 10_000,
};

fn message(id: &str, recipient: &str, created_at: DateTime<Utc>) -> NewQueuedMail {
    NewQueuedMail {
        id: id.into(),
        recipient_key: recipient.into(),
        kind: "reset_password".into(),
        payload: format!("sealed-{id}"),
        created_at,
    }
}

fn queue(q: &dyn MailQueue, id: &str, recipient: &str, created_at: DateTime<Utc>) {
    let enqueued = q.enqueue(&message(id, recipient, created_at), ROOMY);
    assert_eq!(enqueued, Ok(Enqueued::Queued), "{id}");
}

fn ids(claimed: &[saml_idp::mail::queue::QueuedMail]) -> Vec<&str> {
    claimed.iter().map(|m| m.id.as_str()).collect()
}

fn a_message_is_claimed_once_until_its_lease_ends(q: &dyn MailQueue) {
    queue(q, "m1", "k1", at(0));
    let lease = at(600);
    let first = q.claim("worker-a", at(1), lease, 10).expect("claim");
    assert_eq!(ids(&first), ["m1"]);
    let m = &first[0];
    assert_eq!(
        (
            m.recipient_key.as_str(),
            m.kind.as_str(),
            m.payload.as_str()
        ),
        ("k1", "reset_password", "sealed-m1")
    );
    assert_eq!((m.attempts, m.created_at), (0, at(0)));
    let again = q.claim("worker-b", at(2), at(602), 10).expect("claim");
    assert!(again.is_empty(), "leased to worker-a");
    let before_end = q.claim("worker-b", at(599), at(1200), 10).expect("claim");
    assert!(before_end.is_empty(), "still leased");
    let after = q.claim("worker-b", at(600), at(1200), 10).expect("claim");
    assert_eq!(
        ids(&after),
        ["m1"],
        "a dead claimer's message goes to another"
    );
}

fn claims_take_the_oldest_due_first_and_at_most_the_limit(q: &dyn MailQueue) {
    for (i, id) in ["c", "a", "b", "d"].iter().enumerate() {
        let i = i64::try_from(i).expect("small");
        queue(q, id, "k", at(i));
    }
    let first = q.claim("w1", at(10), at(600), 3).expect("claim");
    assert_eq!(
        ids(&first),
        ["c", "a", "b"],
        "in the order they were queued"
    );
    let rest = q.claim("w2", at(10), at(600), 3).expect("claim");
    assert_eq!(ids(&rest), ["d"]);
    queue(q, "later", "k", at(20));
    let not_yet = q.claim("w3", at(19), at(600), 3).expect("claim");
    assert!(not_yet.is_empty(), "not due before it was queued");
}

fn concurrent_claimers_on_two_nodes_never_get_the_same_message(s: &Stores) {
    let total = 60;
    for i in 0..total {
        queue(s.mail_queue(), &format!("m{i:03}"), "k", at(0));
    }
    let other = s.another_node();
    let nodes = Arc::new([s.mail_queue.clone(), other.mail_queue.clone()]);
    // Eight claimers, four per node, each claiming batches of 3 until nothing is left.
    let claimed: Vec<Vec<String>> = concurrently(&nodes, 8, |nodes, i| {
        let q = &nodes[i % 2];
        let mut mine = Vec::new();
        for round in 0.. {
            let batch = q
                .claim(&format!("worker-{i}-{round}"), at(1), at(600), 3)
                .expect("claim");
            if batch.is_empty() {
                return mine;
            }
            mine.extend(batch.into_iter().map(|m| m.id));
        }
        unreachable!("the rounds end when the queue is empty")
    });
    let all: Vec<&String> = claimed.iter().flatten().collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len(), "a message was claimed twice");
    assert_eq!(distinct.len(), total, "every message was claimed");
}

fn a_failure_schedules_a_retry_and_is_counted(q: &dyn MailQueue) {
    queue(q, "m1", "k", at(0));
    queue(q, "m2", "k", at(0));
    q.claim("w0", at(1), at(600), 10).expect("claim");
    q.retry("m1", at(31)).expect("retry");
    q.mark_sent("m2", at(1)).expect("sent");
    let stats = q.stats().expect("stats");
    assert_eq!(
        stats,
        QueueStats {
            waiting: 1,
            failing: 1
        }
    );
    assert!(q
        .claim("w1", at(30), at(630), 10)
        .expect("claim")
        .is_empty());
    let due = q.claim("w2", at(31), at(631), 10).expect("claim");
    assert_eq!(ids(&due), ["m1"], "due at the retry time, lease or not");
    assert_eq!(due[0].attempts, 1);
    assert_eq!(
        due[0].payload, "sealed-m1",
        "the payload is kept for the retry"
    );
    q.retry("m1", at(91)).expect("retry");
    let third = q.claim("w3", at(91), at(700), 10).expect("claim");
    assert_eq!(third[0].attempts, 2);
}

fn a_released_message_is_due_again_at_once(q: &dyn MailQueue) {
    queue(q, "m1", "k", at(0));
    q.claim("w", at(1), at(600), 10).expect("claim");
    q.release("m1").expect("release");
    let again = q.claim("v", at(2), at(600), 10).expect("claim");
    assert_eq!(ids(&again), ["m1"]);
    assert_eq!(again[0].attempts, 0, "no failure counted");
}

fn a_sent_message_loses_its_payload_and_is_purged_after_the_caps_window(s: &Stores) {
    let q = s.mail_queue();
    queue(q, "old", "k", at(0));
    queue(q, "new", "k", at(3600));
    queue(q, "unsent", "k", at(0));
    q.mark_sent("old", at(1)).expect("sent");
    q.mark_sent("new", at(3601)).expect("sent");
    assert!(
        q.claim("w1", at(7200), at(7800), 10)
            .expect("claim")
            .iter()
            .all(|m| m.id == "unsent"),
        "a sent message is never claimed"
    );
    if let Some(db) = s.sql_db() {
        let with_payload = common::stores::count_where(db, "mail_queue", "payload IS NOT NULL");
        assert_eq!(with_payload, 1, "only the unsent message keeps its payload");
    }
    assert_eq!(s.count("mail_queue"), 3);
    let purged = q.purge_sent(at(0)).expect("purge");
    assert_eq!(purged, 0, "created at the cutoff: kept");
    let purged = q.purge_sent(at(1)).expect("purge");
    assert_eq!(
        purged, 1,
        "the old sent one; the unsent one stays whatever its age"
    );
    assert_eq!(s.count("mail_queue"), 2);
}

fn the_caps_count_every_message_to_one_address_per_hour_and_per_day(q: &dyn MailQueue) {
    let caps = Caps {
        per_hour: 3,
        per_day: 5,
    };
    let send = |id: &str, key: &str, t| q.enqueue(&message(id, key, t), caps).expect("enqueue");
    for i in 0..3 {
        assert_eq!(send(&format!("a{i}"), "alice", at(i)), Enqueued::Queued);
    }
    // Sent or not, the three count.
    q.claim("w", at(5), at(600), 1).expect("claim");
    q.mark_sent("a0", at(6)).expect("sent");
    assert_eq!(send("a3", "alice", at(10)), Enqueued::OverHourlyCap);
    assert_eq!(send("b0", "bob", at(10)), Enqueued::Queued, "per address");
    // An hour after the first, one slot is free again.
    assert_eq!(send("a4", "alice", at(3599)), Enqueued::OverHourlyCap);
    assert_eq!(send("a5", "alice", at(3600)), Enqueued::Queued);
    assert_eq!(send("a6", "alice", at(7300)), Enqueued::Queued);
    // Five in a day: the sixth waits for the day to pass, whatever the hour says.
    assert_eq!(send("a7", "alice", at(11_000)), Enqueued::OverDailyCap);
    let a_day_later = at(0) + Duration::days(1);
    assert_eq!(send("a8", "alice", a_day_later), Enqueued::Queued);
    let stats = q.stats().expect("stats");
    assert_eq!(stats.waiting, 6, "dropped messages are not stored");
}

fn two_nodes_queueing_at_once_do_not_pass_a_cap_together(s: &Stores) {
    let caps = Caps {
        per_hour: 4,
        per_day: 100,
    };
    let other = s.another_node();
    let nodes = Arc::new([s.mail_queue.clone(), other.mail_queue.clone()]);
    let outcomes = concurrently(&nodes, 10, move |nodes, i| {
        let mail = message(&format!("m{i}"), "target", at(0));
        nodes[i % 2].enqueue(&mail, caps).expect("enqueue")
    });
    let queued = outcomes.iter().filter(|o| **o == Enqueued::Queued).count();
    assert_eq!(queued, 4, "{outcomes:?}");
    assert_eq!(s.mail_queue().stats().expect("stats").waiting, 4);
}
