//! `saml-idp events`: reads the audit trail (SPEC 12) without SQL, oldest first, as text
//! columns or one JSON object per line. The trail holds no PII: users appear by their public
//! ID, SPs by issuer, outcomes as fixed words.

use chrono::{DateTime, Duration, Utc};
use clap::Args;

use super::startup::open_database;
use super::CliError;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::store::{events, EventFilter};

/// At most this many events per call, whatever `--limit` says.
const MAX_LIMIT: i64 = 100_000;

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events at or after T: an RFC 3339 time (2026-12-01T09:00:00Z) or an age
    /// (90s, 15m, 12h, 7d).
    #[arg(long, value_name = "T")]
    since: Option<String>,
    /// Only events about this service provider (its issuer).
    #[arg(long, value_name = "ISSUER")]
    sp: Option<String>,
    /// Only events of this type ("SAML Auth", "Sign In Failure", "Remote Logout initiated", …).
    #[arg(long = "type", value_name = "NAME")]
    event_type: Option<String>,
    /// Only events about this user (the public ID `user add` prints and `user list` shows).
    #[arg(long, value_name = "PUBLIC_ID")]
    user: Option<String>,
    /// The refused SAML request whose error page showed this reference.
    #[arg(long = "id", value_name = "REFERENCE")]
    reference: Option<String>,
    /// The most recent N matching events (default 1000).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    limit: i64,
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
}

pub fn run(config: &Config, args: EventsArgs) -> Result<(), CliError> {
    if !(1..=MAX_LIMIT).contains(&args.limit) {
        return Err(CliError::Usage(format!(
            "--limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let since = args
        .since
        .as_deref()
        .map(|t| parse_since(t, SystemClock.now()))
        .transpose()?;
    let filter = EventFilter {
        since,
        issuer: args.sp,
        event: args.event_type,
        user: args.user,
        reference: args.reference,
        limit: args.limit,
    };
    let found = events(&open_database(config)?, &filter).map_err(|e| CliError::Events(e.0))?;
    let mut out = String::new();
    for recorded in &found {
        let e = &recorded.event;
        let at = recorded.at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        if args.json {
            let line = serde_json::json!({
                "at": at,
                "event": e.event.as_str(),
                "success": e.success,
                "issuer": e.issuer,
                "user": e.user_public_id,
                "detail": e.detail,
                "count": e.count,
                "binding": e.binding.map(|b| b.as_str()),
                "reference": e.reference,
            });
            out.push_str(&line.to_string());
        } else {
            out.push_str(&format!(
                "{at}  {:<24} {:<7} {:<40} {:<36} {}",
                e.event,
                if e.success { "ok" } else { "refused" },
                e.issuer.as_deref().unwrap_or("-"),
                e.user_public_id.as_deref().unwrap_or("-"),
                e.detail.as_deref().unwrap_or("-"),
            ));
            if let Some(reference) = &e.reference {
                out.push_str(&format!("  ref {reference}"));
            }
        }
        out.push('\n');
    }
    print!("{out}");
    Ok(())
}

/// An RFC 3339 time, or an age before `now` with a unit: s, m, h or d.
fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, CliError> {
    let bad = || {
        CliError::Usage(format!(
            "--since {text:?} is neither an RFC 3339 time nor an age such as 15m, 12h or 7d"
        ))
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    // The unit is the last character; anything but an ASCII one is refused (and splitting
    // there never cuts a character in two).
    let Some(unit_at) = text.len().checked_sub(1).filter(|_| text.is_ascii()) else {
        return Err(bad());
    };
    let (number, unit) = text.split_at(unit_at);
    let n: i64 = number.parse().map_err(|_| bad())?;
    if !(0..=36_500 * 86_400).contains(&n) {
        return Err(bad());
    }
    let age = match unit {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        _ => return Err(bad()),
    };
    now.checked_sub_signed(age).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn since_takes_a_time_or_an_age() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        assert_eq!(
            parse_since("2026-11-30T08:00:00Z", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap()
        );
        assert_eq!(
            parse_since("15m", now).unwrap(),
            now - Duration::minutes(15)
        );
        assert_eq!(parse_since("7d", now).unwrap(), now - Duration::days(7));
        for bad in [
            "",
            "m",
            "-5m",
            "5w",
            "yesterday",
            "99999999999999d",
            "1.5h",
            "5é",
            "é",
            "5日",
        ] {
            assert!(parse_since(bad, now).is_err(), "{bad}");
        }
    }
}
