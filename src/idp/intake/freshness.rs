//! The `IssueInstant` window every incoming request must fall in (SPEC 4 `request_expired`,
//! SPEC 9): at most 10 minutes old, at most 3 minutes in the future (clock skew).

use chrono::{DateTime, Duration, Utc};

use super::catalogue::{IntakeCode, IntakeError};
use crate::sessions::purge::REPLAY_FORGET_MINUTES;

/// How old a request may be, and how far in the future.
pub const MAX_AGE_MINUTES: i64 = 10;
pub const MAX_SKEW_MINUTES: i64 = 3;
// A remote-logout ID may be forgotten (by `first_use` or the purge) only once any request
// carrying it is refused as stale: a minute more than the window and the skew together.
const _: () = assert!(REPLAY_FORGET_MINUTES == MAX_AGE_MINUTES + MAX_SKEW_MINUTES + 1);

/// True when `issued` is inside the window around `now`.
pub fn is_fresh(issued: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    issued >= now - Duration::minutes(MAX_AGE_MINUTES)
        && issued <= now + Duration::minutes(MAX_SKEW_MINUTES)
}

/// Pushes `request_expired` when `issued` is outside the window.
pub fn check(issued: DateTime<Utc>, now: DateTime<Utc>, errors: &mut Vec<IntakeError>) {
    if !is_fresh(issued, now) {
        tracing::debug!(%issued, %now, "request IssueInstant outside the window");
        errors.push(IntakeError::new(IntakeCode::RequestExpired));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_edges() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 15, 12, 0, 0).unwrap();
        assert!(is_fresh(now - Duration::minutes(10), now));
        assert!(!is_fresh(
            now - Duration::minutes(10) - Duration::seconds(1),
            now
        ));
        assert!(is_fresh(now + Duration::minutes(3), now));
        assert!(!is_fresh(
            now + Duration::minutes(3) + Duration::seconds(1),
            now
        ));
    }
}
