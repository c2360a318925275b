//! An SQLite write that finds another connection's write lock waits for it (short sleeps,
//! bounded: `store::sqlite_wait`) instead of failing with "database is locked"; the server's
//! short requests run on its workers and rely on it (issue 23).

use std::sync::mpsc;
use std::time::Duration;

use crate::checkpoint::event;
use crate::common;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use saml_idp::sessions::AuditLog;
use saml_idp::store::DieselSessionStore;

#[test]
fn a_write_waits_for_another_connections_lock_and_then_succeeds() {
    let db = common::sqlite_db();
    let store = DieselSessionStore::new(db.db.clone());
    let now = common::stores::at(0);
    store.record(&event(0), now).expect("first write");
    let path = db.url.trim_start_matches("sqlite://").to_string();
    let (locked, wait_for_lock) = mpsc::channel();
    let (committing, wait_for_commit) = mpsc::channel();
    let holder = std::thread::spawn(move || {
        // Another connection of the same process, as another worker's would be.
        let mut other = diesel::SqliteConnection::establish(&path).expect("second connection");
        other.batch_execute("BEGIN IMMEDIATE").expect("write lock");
        locked.send(()).expect("signal");
        std::thread::sleep(Duration::from_millis(200));
        committing.send(()).expect("signal");
        other.batch_execute("COMMIT").expect("commit");
    });
    wait_for_lock.recv().expect("the lock is held");
    store
        .record(&event(1), now)
        .expect("the write waited for the lock instead of failing");
    assert!(
        wait_for_commit.try_recv().is_ok(),
        "the write went through only once the other connection was committing"
    );
    holder.join().expect("holder");
}
