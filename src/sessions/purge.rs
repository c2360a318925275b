//! The purge of expired rows (SPEC 7, "Nothing grows without a bound"): which rows count as
//! expired at a given instant, the store trait that deletes them, and what it reports.
//! Every node may run it at any time: it only deletes rows no reader would accept anyway.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use super::SessionError;

/// Idle timeout of a browser session (SPEC 7); `web::session` refuses a session idle this long.
pub const SESSION_IDLE_MINUTES: i64 = super::IDLE_MINUTES;
/// How long a remote-logout request ID is remembered: its 10-minute freshness window, the
/// 3 minutes of clock skew allowed, and one more, so an ID is forgotten only once a request
/// carrying it would be refused as stale anyway (SPEC 9; `idp::logout` checks the sum).
pub const REPLAY_FORGET_MINUTES: i64 = 14;
/// Rate-limit windows are one minute long; an hour-old window no longer counts for anything.
pub const RATE_LIMIT_KEEP_MINUTES: i64 = 60;

/// The instants that decide, table by table, which rows are deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoffs {
    /// `pending_requests` with `expires_at <= pending_expired_at`.
    pub pending_expired_at: DateTime<Utc>,
    /// `browser_sessions` with `expires_at <= session_expired_at` ...
    pub session_expired_at: DateTime<Utc>,
    /// ... or `last_seen_at <= session_idle_since` (what `SessionStore::get` refuses).
    pub session_idle_since: DateTime<Utc>,
    /// `remembered_browsers` with `expires_at <= remembered_expired_at`.
    pub remembered_expired_at: DateTime<Utc>,
    /// `seen_requests` with `seen_at < replay_seen_before`.
    pub replay_seen_before: DateTime<Utc>,
    /// `rate_limits` with `window_start < rate_window_before`.
    pub rate_window_before: DateTime<Utc>,
    /// `one_time_tokens` with `expires_at <= token_expired_at`.
    pub token_expired_at: DateTime<Utc>,
    /// `audit_events` with `created_at < audit_before`; `None` keeps them all.
    pub audit_before: Option<DateTime<Utc>>,
}

impl PurgeCutoffs {
    /// The cutoffs at `now`: each matches exactly the rows that the readers of its table
    /// already treat as gone at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        PurgeCutoffs {
            pending_expired_at: now,
            session_expired_at: now,
            session_idle_since: now - Duration::minutes(SESSION_IDLE_MINUTES),
            remembered_expired_at: now,
            replay_seen_before: now - Duration::minutes(REPLAY_FORGET_MINUTES),
            rate_window_before: now - Duration::minutes(RATE_LIMIT_KEEP_MINUTES),
            token_expired_at: now,
            audit_before: None,
        }
    }

    /// As `at`, and audit events older than `retention_days` go too (0 keeps them).
    pub fn with_audit_retention(mut self, now: DateTime<Utc>, retention_days: u32) -> Self {
        self.audit_before =
            (retention_days > 0).then(|| now - Duration::days(i64::from(retention_days)));
        self
    }
}

/// How many rows one purge deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub pending_requests: usize,
    pub browser_sessions: usize,
    pub remembered_browsers: usize,
    pub seen_requests: usize,
    pub rate_limits: usize,
    pub one_time_tokens: usize,
    pub audit_events: usize,
}

impl PurgeReport {
    pub fn total(&self) -> usize {
        self.pending_requests
            + self.browser_sessions
            + self.remembered_browsers
            + self.seen_requests
            + self.rate_limits
            + self.one_time_tokens
            + self.audit_events
    }
}

/// One line, `table=count` pairs: easy to read in a log and to parse in a script.
impl fmt::Display for PurgeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pending_requests={} browser_sessions={} remembered_browsers={} seen_requests={} \
             rate_limits={} one_time_tokens={} audit_events={}",
            self.pending_requests,
            self.browser_sessions,
            self.remembered_browsers,
            self.seen_requests,
            self.rate_limits,
            self.one_time_tokens,
            self.audit_events
        )
    }
}

/// Deletes the rows that are expired by `cutoffs`. Safe to run on several nodes at once and
/// concurrently with the flow: a row is deleted only when no reader would accept it. (As
/// every expiry check, this assumes the nodes' clocks agree: a node whose clock runs ahead
/// ends idle sessions that much early.)
pub trait Purger: Send + Sync {
    fn purge(&self, cutoffs: &PurgeCutoffs) -> Result<PurgeReport, SessionError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cutoffs_follow_the_timeouts() {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
            .single()
            .expect("time");
        let c = PurgeCutoffs::at(now);
        assert_eq!(c.pending_expired_at, now);
        assert_eq!(c.session_expired_at, now);
        assert_eq!(c.remembered_expired_at, now);
        assert_eq!(c.session_idle_since, now - Duration::minutes(15));
        assert_eq!(c.replay_seen_before, now - Duration::minutes(14));
        assert_eq!(c.rate_window_before, now - Duration::minutes(60));
        assert_eq!(c.audit_before, None);
        let kept = PurgeCutoffs::at(now).with_audit_retention(now, 30);
        assert_eq!(kept.audit_before, Some(now - Duration::days(30)));
        assert_eq!(
            PurgeCutoffs::at(now)
                .with_audit_retention(now, 0)
                .audit_before,
            None
        );
    }

    #[test]
    fn the_report_is_one_line_of_counts() {
        let report = PurgeReport {
            pending_requests: 1,
            browser_sessions: 2,
            remembered_browsers: 3,
            seen_requests: 4,
            rate_limits: 5,
            one_time_tokens: 6,
            audit_events: 7,
        };
        assert_eq!(report.total(), 28);
        assert_eq!(
            report.to_string(),
            "pending_requests=1 browser_sessions=2 remembered_browsers=3 seen_requests=4 \
             rate_limits=5 one_time_tokens=6 audit_events=7"
        );
    }
}
