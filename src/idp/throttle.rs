//! Rate limits of the sign-in steps (SPEC 7): fixed one-minute windows, counted in the
//! database so every node sees the same counts, per client address, per account and per
//! session. Any bucket over its limit refuses the attempt (HTTP 429).

use chrono::{Duration, DurationRound};

use super::{Deps, Error};

/// Sign-in and second-factor posts per client address per minute.
pub const ADDRESS_PER_MINUTE: i32 = 30;
/// Attempts on one account per minute, from all addresses together.
pub const ACCOUNT_PER_MINUTE: i32 = 20;
/// Posts from one browser session per minute.
pub const SESSION_PER_MINUTE: i32 = 12;

/// One counter: what it counts and its limit per minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub key: String,
    pub limit: i32,
}

impl Bucket {
    /// The client address as `web` determined it (an IPv6 address already cut to its /64).
    pub fn address(client: &str) -> Bucket {
        Bucket {
            key: format!("addr:{client}"),
            limit: ADDRESS_PER_MINUTE,
        }
    }

    /// An account, by an identifier that is not PII (the email's keyed lookup hash, or the
    /// user's public id): unknown emails are counted like known ones.
    pub fn account(id: &str) -> Bucket {
        Bucket {
            key: format!("acct:{id}"),
            limit: ACCOUNT_PER_MINUTE,
        }
    }

    /// A browser session, by its token hash.
    pub fn session(token_hash: &str) -> Bucket {
        Bucket {
            key: format!("sess:{token_hash}"),
            limit: SESSION_PER_MINUTE,
        }
    }
}

/// Counts one hit in each bucket, in order, and stops at the first one over its limit
/// (SPEC 7): an attempt refused by the client's bucket writes no row for the account it
/// names, so fresh addresses cannot add rows. Put the client's bucket first.
pub fn allow(deps: &Deps<'_>, buckets: &[Bucket]) -> Result<bool, Error> {
    let window = deps
        .now
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(deps.now);
    for bucket in buckets {
        if !deps.limiter.hit(&bucket.key, window, bucket.limit)? {
            return Ok(false);
        }
    }
    Ok(true)
}
