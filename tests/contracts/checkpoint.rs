//! SQLite's write-ahead log is copied back into the database by `Database::checkpoint` (the
//! server runs it every second), not by whichever request's commit crosses SQLite's default
//! 1,000 pages (issue 23); PostgreSQL has nothing to checkpoint.

use crate::common;

use chrono::Duration;
use saml_idp::sessions::{AuditEvent, AuditKind, AuditLog};
use saml_idp::store::DieselSessionStore;

/// An audit event, one per `n` (the contract tests of the SQLite log write them).
pub(crate) fn event(n: usize) -> AuditEvent {
    AuditEvent {
        event: AuditKind::SamlAuth,
        issuer: Some(format!("urn:checkpoint:{n}")),
        user_public_id: None,
        success: true,
        detail: Some("handoff".into()),
        count: 1,
        binding: None,
        reference: None,
    }
}

#[test]
fn a_checkpoint_copies_the_whole_log_which_requests_leave_to_it() {
    for (name, db) in common::every_backend() {
        let store = DieselSessionStore::new(db.db.clone());
        let now = common::stores::at(0);
        // One commit each, as requests write: more frames than SQLite's default threshold.
        for n in 0..1_500 {
            let at = now + Duration::seconds(i64::try_from(n).unwrap_or(0));
            store.record(&event(n), at).expect("recorded");
        }
        let first = db.db.checkpoint().expect("checkpoint");
        if name == "postgres" {
            assert_eq!(first, None, "PostgreSQL manages its own log");
            continue;
        }
        let first = first.expect("SQLite reports its checkpoint");
        assert!(
            first.frames_in_log > 1_000,
            "no commit checkpointed at SQLite's default 1,000 pages: {first:?}"
        );
        assert_eq!(
            first.frames_copied, first.frames_in_log,
            "all copied: {first:?}"
        );
        // The next commit starts the log over: it does not grow past what was copied.
        store.record(&event(0), now).expect("recorded");
        let second = db.db.checkpoint().expect("checkpoint").expect("SQLite");
        assert!(second.frames_in_log < 10, "the log restarted: {second:?}");
        assert_eq!(second.frames_copied, second.frames_in_log, "{second:?}");
    }
}
