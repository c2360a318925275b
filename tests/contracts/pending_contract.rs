//! The `PendingStore` contract, one function per behaviour, run on every implementation
//! (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set): a pending request reads back
//! whole until it expires, is taken by exactly one caller, and is counted until it is gone.

use crate::common;

use chrono::Duration;

use common::stores::{at, concurrently, Stores};
use saml_idp::idp::sso::pending::{PendingRequest, PendingStore, PENDING_LIFETIME_MINUTES};

common::stores::contract_tests! {
    a_pending_request_reads_back_whole(pending);
    a_pending_request_lives_for_its_lifetime(pending);
    a_pending_request_is_taken_once(pending);
    an_expired_request_can_still_be_taken(pending);
    a_token_hash_holds_one_request(pending);
    the_count_includes_expired_requests(pending);
    concurrent_takes_let_one_through(stores);
    a_replayed_request_takes_over_its_row(pending);
}

fn lifetime() -> Duration {
    Duration::minutes(PENDING_LIFETIME_MINUTES)
}

/// A request received at `at(0)`.
fn request() -> PendingRequest {
    common::pending_request("urn:sp", at(0) + lifetime())
}

fn a_pending_request_reads_back_whole(store: &dyn PendingStore) {
    let mut pending = request();
    pending.relay_state = Some("state=1&b=ü".into());
    pending.matching_certificate = Some("ab".repeat(32));
    pending.force_authn = true;
    pending.email_name_id = true;
    store.put("token", &pending).expect("put");
    assert_eq!(store.get("token", at(1)), Ok(Some(pending)));
    assert_eq!(store.get("other", at(1)), Ok(None), "unknown token");
}

fn a_pending_request_lives_for_its_lifetime(store: &dyn PendingStore) {
    store.put("token", &request()).expect("put");
    let end = at(0) + lifetime();
    let get = |now| store.get("token", now).expect("get").is_some();
    assert!(get(end - Duration::seconds(1)), "alive");
    assert!(!get(end), "expired at expires_at");
}

fn a_pending_request_is_taken_once(store: &dyn PendingStore) {
    store.put("token", &request()).expect("put");
    assert_eq!(store.take("token"), Ok(true));
    assert_eq!(store.take("token"), Ok(false), "only once");
    assert_eq!(store.get("token", at(1)), Ok(None));
    assert_eq!(store.take("never"), Ok(false), "unknown token");
}

/// `take` knows no time: a request past its end is deleted all the same (and counts as
/// taken: the caller has already refused it with `get`).
fn an_expired_request_can_still_be_taken(store: &dyn PendingStore) {
    let expired = common::pending_request("urn:sp", at(-1));
    store.put("token", &expired).expect("put");
    assert_eq!(store.get("token", at(0)), Ok(None), "expired");
    assert_eq!(store.take("token"), Ok(true), "taken all the same");
    assert_eq!(store.count(), Ok(0));
}

fn a_token_hash_holds_one_request(store: &dyn PendingStore) {
    store.put("token", &request()).expect("put");
    let mut other = request();
    other.issuer = "urn:other".into();
    assert!(store.put("token", &other).is_err(), "second put refused");
    let kept = store.get("token", at(1)).expect("get").map(|p| p.issuer);
    assert_eq!(kept.as_deref(), Some("urn:sp"), "the first one kept");
}

fn the_count_includes_expired_requests(store: &dyn PendingStore) {
    assert_eq!(store.count(), Ok(0));
    store.put("live", &request()).expect("put");
    let mut expired = common::pending_request("urn:sp", at(-1));
    expired.request_id = "_an-older-request".into();
    store.put("expired", &expired).expect("put");
    assert_eq!(store.count(), Ok(2));
    store.take("live").expect("take");
    assert_eq!(store.count(), Ok(1));
}

fn concurrent_takes_let_one_through(s: &Stores) {
    s.pending.put("token", &request()).expect("put");
    let taken = concurrently(&s.pending, 8, |store, _| store.take("token").expect("take"));
    assert_eq!(taken.iter().filter(|t| **t).count(), 1, "{taken:?}");
}

/// The same issuer and request ID again (a replay, a double click): one row, under the
/// newest token; the earlier token finds nothing. Another ID or issuer is another row.
fn a_replayed_request_takes_over_its_row(store: &dyn PendingStore) {
    store.put("first", &request()).expect("put");
    let mut replay = request();
    replay.relay_state = Some("again".into());
    store.put("second", &replay).expect("replay");
    assert_eq!(store.count(), Ok(1), "one row");
    assert_eq!(
        store.get("first", at(1)),
        Ok(None),
        "the earlier token is gone"
    );
    assert_eq!(store.get("second", at(1)), Ok(Some(replay)));
    let mut other_id = request();
    other_id.request_id = "_another".into();
    store.put("third", &other_id).expect("put");
    let mut other_issuer = request();
    other_issuer.issuer = "urn:other".into();
    store.put("fourth", &other_issuer).expect("put");
    assert_eq!(store.count(), Ok(3));
}
