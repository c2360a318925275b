//! Audit events written off the request path (SPEC 12): a request hands its event to the
//! buffer and goes on; a writer thread stores what has gathered, in one transaction per
//! batch, every [`FLUSH_EVERY`] or as soon as [`BATCH`] events wait. Nothing is lost:
//!
//! - reading the trail (`recent`, `recent_for_user`) first stores everything buffered, so a
//!   reader always sees the events recorded before it asked;
//! - a batch that cannot be written (the database is down) stays buffered, in order, and is
//!   retried; while [`CAPACITY`] events wait, a new event is written by its own request
//!   (which then fails with the database, as any other write would) instead of growing the
//!   buffer without bound;
//! - [`AuditBuffer::shutdown`] (SIGTERM, after the server stopped taking requests) stores
//!   what is left and stops the writer.
//!
//! Refused requests are audited in aggregate (SPEC 7): the first refusal of a client for an
//! event, SP and detail opens a one-minute window, and the ones after it in that window only
//! count. When the window closes (the writer checks the clock), or a reader or shutdown
//! flushes, the event is stored once with its count. At most [`AGGREGATES`] windows are
//! open; beyond, a refusal is stored on its own.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{AuditEvent, AuditLog, RecordedEvent, SessionError};
use crate::clock::Clock;

/// How long an event may wait before the writer stores it.
pub const FLUSH_EVERY: Duration = Duration::from_millis(50);
/// The writer starts at once when this many events wait.
pub const BATCH: usize = 512;
/// The most events kept waiting; beyond, each request writes its own.
pub const CAPACITY: usize = 20_000;
/// After a failed batch, the writer waits this long before trying again.
const RETRY_AFTER: Duration = Duration::from_millis(500);
/// How long refusals of one client, event, SP and detail are counted into one event.
pub const AGGREGATE_SECONDS: i64 = 60;
/// The most aggregation windows open at once.
pub const AGGREGATES: usize = 10_000;

type Pending = VecDeque<(AuditEvent, DateTime<Utc>)>;

/// (client, event, issuer, detail) of a refusal.
type AggregateKey = (
    String,
    &'static str,
    Option<String>,
    Option<String>,
    Option<&'static str>,
);

struct Shared {
    queue: Mutex<State>,
    wake: Condvar,
}

struct State {
    pending: Pending,
    /// Open windows: the first refusal (its time) with the count so far.
    aggregates: HashMap<AggregateKey, (AuditEvent, DateTime<Utc>)>,
    stopping: bool,
}

impl State {
    /// Moves the windows that `closed` says are over into the queue, oldest first.
    fn close_windows(&mut self, closed: impl Fn(DateTime<Utc>) -> bool) {
        let mut done: Vec<(AuditEvent, DateTime<Utc>)> = Vec::new();
        self.aggregates.retain(|_, (event, at)| {
            let over = closed(*at);
            if over {
                done.push((event.clone(), *at));
            }
            !over
        });
        done.sort_by_key(|(_, at)| *at);
        self.pending.extend(done);
    }
}

/// An [`AuditLog`] that buffers `record` and writes batches to `inner` from its own thread.
pub struct AuditBuffer {
    inner: Arc<dyn AuditLog>,
    shared: Arc<Shared>,
    /// Serialises writers (the thread, a reader's flush, shutdown), so batches are stored
    /// in the order they were recorded.
    writing: Arc<Mutex<()>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl AuditBuffer {
    /// Starts the writer thread; `clock` says when aggregation windows close.
    pub fn start(inner: Arc<dyn AuditLog>, clock: Arc<dyn Clock>) -> Arc<AuditBuffer> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(State {
                pending: VecDeque::new(),
                aggregates: HashMap::new(),
                stopping: false,
            }),
            wake: Condvar::new(),
        });
        let writing = Arc::new(Mutex::new(()));
        let thread = {
            let (inner, shared, writing) = (inner.clone(), shared.clone(), writing.clone());
            std::thread::Builder::new()
                .name("audit-writer".into())
                .spawn(move || writer(&*inner, &shared, &writing, &*clock))
                .ok()
        };
        if thread.is_none() {
            // Nobody would store what waits: every event is written by its request.
            lock(&shared.queue).stopping = true;
            tracing::warn!("no audit writer thread: every event is written by its request");
        }
        Arc::new(AuditBuffer {
            inner,
            shared,
            writing,
            thread: Mutex::new(thread),
        })
    }

    /// Stores everything buffered now, in the caller's thread, open aggregation windows
    /// included (with their counts so far).
    pub fn flush(&self) -> Result<(), SessionError> {
        lock(&self.shared.queue).close_windows(|_| true);
        store_pending(&*self.inner, &self.shared, &self.writing)
    }

    /// Stops the writer after storing what is left; later events are written directly.
    pub fn shutdown(&self) -> Result<(), SessionError> {
        lock(&self.shared.queue).stopping = true;
        self.shared.wake.notify_all();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
        self.flush()
    }

    /// Events waiting to be stored, open aggregation windows included (metrics, tests).
    pub fn waiting(&self) -> usize {
        let state = lock(&self.shared.queue);
        state.pending.len() + state.aggregates.len()
    }
}

impl AuditLog for AuditBuffer {
    fn record(&self, event: &AuditEvent, now: DateTime<Utc>) -> Result<(), SessionError> {
        crate::metrics::audit_event(event);
        {
            let mut state = lock(&self.shared.queue);
            let direct = state.stopping || state.pending.len() >= CAPACITY;
            if !direct {
                state.pending.push_back((event.clone(), now));
                if state.pending.len() >= BATCH {
                    self.shared.wake.notify_one();
                }
                return Ok(());
            }
        }
        // Stopped, or the database has been failing for a while: this request writes its
        // own event (after what waits, to keep the order), and fails if the database does.
        self.flush()?;
        self.inner.record(event, now)
    }

    fn record_refusal(
        &self,
        event: &AuditEvent,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, SessionError> {
        let key: AggregateKey = (
            client.to_string(),
            event.event.as_str(),
            event.issuer.clone(),
            event.detail.clone(),
            event.binding.map(|b| b.as_str()),
        );
        {
            let mut state = lock(&self.shared.queue);
            let window = chrono::Duration::seconds(AGGREGATE_SECONDS);
            if let Some((open, first)) = state.aggregates.get_mut(&key) {
                if now - *first < window {
                    crate::metrics::audit_event(event);
                    open.count = open.count.saturating_add(event.count.max(1));
                    return Ok(open.reference.clone());
                }
                // Its window is over: stored with its count; this refusal opens the next.
                let closed = state.aggregates.remove(&key);
                state.pending.extend(closed);
            }
            if !state.stopping && state.aggregates.len() < AGGREGATES {
                crate::metrics::audit_event(event);
                state.aggregates.insert(key, (event.clone(), now));
                return Ok(event.reference.clone());
            }
        }
        self.record(event, now)?;
        Ok(event.reference.clone())
    }

    fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, SessionError> {
        self.flush()?;
        self.inner.recent(limit)
    }

    fn recent_for_user(
        &self,
        public_id: &str,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, SessionError> {
        self.flush()?;
        self.inner.recent_for_user(public_id, limit)
    }

    fn refused_for_sp(&self, issuer: &str, limit: i64) -> Result<Vec<RecordedEvent>, SessionError> {
        self.flush()?;
        self.inner.refused_for_sp(issuer, limit)
    }
}

impl Drop for AuditBuffer {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            tracing::error!(error = %e.0, "audit events could not be stored at exit");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Stores what waits in one batch, then removes it from the buffer.
fn store_pending(
    inner: &dyn AuditLog,
    shared: &Shared,
    writing: &Mutex<()>,
) -> Result<(), SessionError> {
    // Only writers remove events, one at a time (`writing`), and only once stored: a batch
    // that fails simply stays where it was.
    let _writer = lock(writing);
    let batch: Vec<_> = lock(&shared.queue).pending.iter().cloned().collect();
    if batch.is_empty() {
        return Ok(());
    }
    inner.record_many(&batch)?;
    lock(&shared.queue).pending.drain(..batch.len());
    Ok(())
}

fn writer(inner: &dyn AuditLog, shared: &Shared, writing: &Mutex<()>, clock: &dyn Clock) {
    let window = chrono::Duration::seconds(AGGREGATE_SECONDS);
    loop {
        {
            let state = lock(&shared.queue);
            let (mut state, _) = shared
                .wake
                .wait_timeout_while(state, FLUSH_EVERY, |s| {
                    !s.stopping && s.pending.len() < BATCH
                })
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if state.stopping {
                return;
            }
            let now = clock.now();
            state.close_windows(|first| now - first >= window);
        }
        if let Err(e) = store_pending(inner, shared, writing) {
            tracing::warn!(error = %e.0, "audit events kept for a retry");
            std::thread::sleep(RETRY_AFTER);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// An audit log in memory that can be made to fail.
    #[derive(Default)]
    struct Memory {
        stored: Mutex<Vec<AuditEvent>>,
        down: AtomicBool,
    }

    impl AuditLog for Memory {
        fn record(&self, event: &AuditEvent, _: DateTime<Utc>) -> Result<(), SessionError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(SessionError("down".into()));
            }
            lock(&self.stored).push(event.clone());
            Ok(())
        }

        fn record_many(&self, events: &[(AuditEvent, DateTime<Utc>)]) -> Result<(), SessionError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(SessionError("down".into()));
            }
            lock(&self.stored).extend(events.iter().map(|(e, _)| e.clone()));
            Ok(())
        }

        fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, SessionError> {
            let stored = lock(&self.stored);
            Ok(stored.iter().rev().take(limit as usize).cloned().collect())
        }

        fn recent_for_user(&self, _: &str, _: i64) -> Result<Vec<RecordedEvent>, SessionError> {
            Ok(Vec::new())
        }

        fn refused_for_sp(&self, _: &str, _: i64) -> Result<Vec<RecordedEvent>, SessionError> {
            Ok(Vec::new())
        }
    }

    fn event(n: usize) -> AuditEvent {
        AuditEvent {
            event: crate::sessions::AuditKind::SamlAuth,
            issuer: None,
            user_public_id: None,
            success: true,
            detail: Some(n.to_string()),
            count: 1,
            binding: None,
            reference: None,
        }
    }

    /// When the events happen: the time does not matter to the buffer, so it is fixed.
    fn now() -> DateTime<Utc> {
        DateTime::UNIX_EPOCH
    }

    fn test_clock() -> Arc<dyn Clock> {
        Arc::new(crate::clock::FixedClock(now()))
    }

    fn refusal(detail: &str, issuer: Option<&str>) -> AuditEvent {
        AuditEvent {
            event: crate::sessions::AuditKind::SamlAuth,
            issuer: issuer.map(str::to_string),
            user_public_id: None,
            success: false,
            detail: Some(detail.to_string()),
            count: 1,
            binding: None,
            reference: None,
        }
    }

    #[test]
    fn refusals_of_one_client_code_and_sp_in_a_minute_are_one_event_with_a_count() {
        let memory = Arc::new(Memory::default());
        let buffer = AuditBuffer::start(memory.clone(), test_clock());
        let at = |s: i64| now() + chrono::Duration::seconds(s);
        for s in 0..5 {
            buffer
                .record_refusal(
                    &refusal("malformed_request", Some("sp1")),
                    "addr:a",
                    at(s * 10),
                )
                .unwrap();
        }
        let other_client = refusal("malformed_request", Some("sp1"));
        buffer
            .record_refusal(&other_client, "addr:b", at(1))
            .unwrap();
        buffer
            .record_refusal(&other_client, "addr:b", at(2))
            .unwrap();
        let other_code = refusal("request_expired", Some("sp1"));
        buffer.record_refusal(&other_code, "addr:a", at(3)).unwrap();
        // A minute after the first: its window is over, this one opens the next.
        buffer
            .record_refusal(&refusal("malformed_request", Some("sp1")), "addr:a", at(60))
            .unwrap();
        assert_eq!(buffer.waiting(), 4, "three open windows, one closed");
        let stored = buffer.recent(10).unwrap();
        let mut counts: Vec<(String, u32)> = stored
            .iter()
            .map(|e| (e.detail.clone().unwrap_or_default(), e.count))
            .collect();
        counts.sort();
        assert_eq!(
            counts,
            [
                ("malformed_request".into(), 1),
                ("malformed_request".into(), 2),
                ("malformed_request".into(), 5),
                ("request_expired".into(), 1),
            ]
        );
    }

    #[test]
    fn the_writer_stores_a_window_once_its_minute_is_over() {
        let memory = Arc::new(Memory::default());
        let clock = Arc::new(crate::clock::ManualClock::new(now()));
        let buffer = AuditBuffer::start(memory.clone(), clock.clone());
        for _ in 0..3 {
            buffer
                .record_refusal(&refusal("malformed_request", None), "addr:a", now())
                .unwrap();
        }
        clock.advance(chrono::Duration::seconds(AGGREGATE_SECONDS));
        // The writer wakes every FLUSH_EVERY; give it a few seconds at most.
        for _ in 0..100 {
            if !lock(&memory.stored).is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let stored = lock(&memory.stored).clone();
        assert_eq!(stored.len(), 1, "stored without a reader");
        assert_eq!(stored[0].count, 3);
    }

    fn details(events: &[AuditEvent]) -> Vec<String> {
        events.iter().filter_map(|e| e.detail.clone()).collect()
    }

    #[test]
    fn a_reader_sees_every_event_recorded_before_it_asked_in_order() {
        let memory = Arc::new(Memory::default());
        let buffer = AuditBuffer::start(memory.clone(), test_clock());
        for n in 0..1000 {
            buffer.record(&event(n), now()).expect("record");
        }
        let recent = buffer.recent(1000).expect("recent");
        let expected: Vec<String> = (0..1000).rev().map(|n| n.to_string()).collect();
        assert_eq!(details(&recent), expected);
    }

    #[test]
    fn the_writer_stores_events_without_a_reader() {
        let memory = Arc::new(Memory::default());
        let buffer = AuditBuffer::start(memory.clone(), test_clock());
        buffer.record(&event(1), now()).expect("record");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while lock(&memory.stored).is_empty() {
            assert!(std::time::Instant::now() < deadline, "never written");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(buffer.waiting(), 0);
    }

    #[test]
    fn events_survive_a_database_outage_and_are_stored_once_it_is_back() {
        let memory = Arc::new(Memory::default());
        let buffer = AuditBuffer::start(memory.clone(), test_clock());
        memory.down.store(true, Ordering::SeqCst);
        for n in 0..10 {
            buffer.record(&event(n), now()).expect("buffered");
        }
        assert!(buffer.flush().is_err(), "the outage is reported");
        assert_eq!(buffer.waiting(), 10, "and nothing is dropped");
        memory.down.store(false, Ordering::SeqCst);
        buffer.flush().expect("stored");
        let expected: Vec<String> = (0..10).map(|n| n.to_string()).collect();
        assert_eq!(details(&lock(&memory.stored)), expected);
    }

    #[test]
    fn a_full_buffer_makes_each_request_write_its_own_event() {
        let memory = Arc::new(Memory::default());
        let buffer = AuditBuffer::start(memory.clone(), test_clock());
        memory.down.store(true, Ordering::SeqCst);
        for n in 0..CAPACITY {
            buffer.record(&event(n), now()).expect("buffered");
        }
        assert!(
            buffer.record(&event(CAPACITY), now()).is_err(),
            "beyond capacity the request fails with the database"
        );
        assert_eq!(buffer.waiting(), CAPACITY, "bounded");
        memory.down.store(false, Ordering::SeqCst);
        buffer.record(&event(CAPACITY + 1), now()).expect("ok");
        buffer.flush().expect("flush");
        assert_eq!(lock(&memory.stored).len(), CAPACITY + 1);
    }

    #[test]
    fn shutdown_stores_what_is_left() {
        let memory = Arc::new(Memory::default());
        let buffer = AuditBuffer::start(memory.clone(), test_clock());
        for n in 0..100 {
            buffer.record(&event(n), now()).expect("record");
        }
        buffer.shutdown().expect("shutdown");
        assert_eq!(lock(&memory.stored).len(), 100);
        buffer.record(&event(100), now()).expect("direct");
        assert_eq!(lock(&memory.stored).len(), 101, "written at once after");
    }
}
