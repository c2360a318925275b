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

/// Pushes `request_expired` when `issued` is outside the window, saying by how much and
/// what time the IdP has (SPEC 15: the SP's clock is the usual cause).
pub fn check(issued: DateTime<Utc>, now: DateTime<Utc>, errors: &mut Vec<IntakeError>) {
    if !is_fresh(issued, now) {
        tracing::debug!(%issued, %now, "request IssueInstant outside the window");
        errors.push(IntakeError::with_detail(
            IntakeCode::RequestExpired,
            off_by(issued, now),
        ));
    }
}

/// "IssueInstant is 14 min 5 s before the IdP's time, 2026-03-15T12:00:00Z (UTC)".
fn off_by(issued: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (now - issued).num_seconds();
    let (amount, side) = if seconds >= 0 {
        (seconds, "before")
    } else {
        (seconds.saturating_neg(), "after")
    };
    let (days, rest) = (amount / 86_400, amount % 86_400);
    let (hours, minutes, secs) = (rest / 3600, rest % 3600 / 60, rest % 60);
    let mut words = Vec::new();
    for (n, unit) in [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")] {
        if n > 0 {
            words.push(format!("{n} {unit}"));
        }
    }
    format!(
        "IssueInstant is {} {side} the IdP's time, {} (UTC)",
        words.join(" "),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_detail_says_how_far_off_and_the_idp_time() {
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 15, 12, 0, 0).unwrap();
        let mut errors = Vec::new();
        check(now - Duration::seconds(14 * 60 + 5), now, &mut errors);
        check(now + Duration::hours(26), now, &mut errors);
        let details: Vec<_> = errors.iter().map(|e| e.detail.clone().unwrap()).collect();
        assert_eq!(
            details,
            [
                "IssueInstant is 14 min 5 s before the IdP's time, 2026-03-15T12:00:00Z (UTC)",
                "IssueInstant is 1 d 2 h after the IdP's time, 2026-03-15T12:00:00Z (UTC)",
            ]
        );
    }

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
