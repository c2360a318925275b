//! How an SQLite connection waits for another connection's write lock.
//!
//! `PRAGMA busy_timeout` sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between tries (SQLite's
//! default busy handler). A write here holds the lock for tens of microseconds, so a request
//! that found it taken slept a thousand times longer than it had to wait: that was the tail
//! of the remote-logout latency (p99 23–35 ms at 16 connections, issue 23). Every connection
//! the process opens gets this handler instead (through `sqlite3_auto_extension`, the hook
//! SQLite calls for each new connection): it yields, then sleeps from 20 µs doubling up to
//! 1 ms, and gives up after the same five seconds as before, when the statement fails with
//! `SQLITE_BUSY` (a `database is locked` error, mapped as before).
#![allow(unsafe_code)]

use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;
use std::time::Duration;

use libsqlite3_sys as ffi;

/// How long a connection waits for a lock in all before its statement fails.
pub(crate) const GIVE_UP_AFTER: Duration = Duration::from_secs(5);
/// Tries that only yield the processor before the first sleep.
const YIELDS: u32 = 2;
const FIRST_SLEEP: Duration = Duration::from_micros(20);
const LONGEST_SLEEP: Duration = Duration::from_millis(1);

static INSTALLED: OnceLock<bool> = OnceLock::new();

/// Makes every SQLite connection opened from now on in this process wait with [`pause`].
/// Call before opening a connection; the first call registers, later ones answer the same.
/// `false` when SQLite refused the registration (it can only run out of memory): the caller
/// then sets SQLite's own `busy_timeout`, so that a connection never fails at the first
/// lock it finds taken.
pub(crate) fn install() -> bool {
    *INSTALLED.get_or_init(|| {
        // SAFETY: registers a function with the documented entry-point signature; SQLite
        // calls it once per new connection, on the opening thread, with a valid handle.
        let rc = unsafe { ffi::sqlite3_auto_extension(Some(on_open)) };
        if rc != ffi::SQLITE_OK {
            tracing::warn!(rc, "SQLite: the busy handler could not be registered");
        }
        rc == ffi::SQLITE_OK
    })
}

/// The auto-extension entry point: installs the busy handler on the new connection.
unsafe extern "C" fn on_open(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening; the handler takes no argument.
    unsafe { ffi::sqlite3_busy_handler(db, Some(on_busy), std::ptr::null_mut()) }
}

/// SQLite's busy callback: `tries` is how many times it was called for this lock before.
/// Non-zero means "try again", zero gives up.
extern "C" fn on_busy(_arg: *mut c_void, tries: c_int) -> c_int {
    match pause(u32::try_from(tries).unwrap_or(0)) {
        Some(Duration::ZERO) => {
            std::thread::yield_now();
            1
        }
        Some(wait) => {
            std::thread::sleep(wait);
            1
        }
        None => 0,
    }
}

/// The wait before try number `tries` (zero: yield only), or `None` once the waits so far
/// add up to [`GIVE_UP_AFTER`].
pub(crate) fn pause(tries: u32) -> Option<Duration> {
    let Some(sleeps) = tries.checked_sub(YIELDS) else {
        return Some(Duration::ZERO);
    };
    // Sleep number k (from 0) is FIRST_SLEEP · 2^k up to LONGEST_SLEEP, then stays there.
    let doubled = |k: u32| FIRST_SLEEP.saturating_mul(1u32.checked_shl(k).unwrap_or(u32::MAX));
    let ramp = (0..).take_while(|k| doubled(*k) < LONGEST_SLEEP).count() as u32;
    let waited = match sleeps <= ramp {
        // 20 µs · (2^k − 1), the sum of the sleeps before number k.
        true => doubled(sleeps) - FIRST_SLEEP,
        false => doubled(ramp) - FIRST_SLEEP + LONGEST_SLEEP.saturating_mul(sleeps - ramp),
    };
    (waited < GIVE_UP_AFTER).then(|| doubled(sleeps).min(LONGEST_SLEEP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_tries_yield_then_sleeps_double_to_a_millisecond() {
        let waits: Vec<u128> = (0..12).map(|t| pause(t).unwrap().as_micros()).collect();
        assert_eq!(
            waits,
            [0, 0, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000]
        );
    }

    #[test]
    fn gives_up_once_the_waits_add_up_to_five_seconds() {
        let mut total = Duration::ZERO;
        let mut tries = 0;
        while let Some(wait) = pause(tries) {
            total += wait;
            tries += 1;
            assert!(tries < 100_000, "never gives up");
        }
        assert!(
            total >= GIVE_UP_AFTER - LONGEST_SLEEP,
            "gave up early: {total:?}"
        );
        assert!(
            total <= GIVE_UP_AFTER + LONGEST_SLEEP,
            "waited too long: {total:?}"
        );
    }
}
