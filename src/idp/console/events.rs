//! The SP's recent refused requests (SPEC 19), from the audit trail: when, which message by
//! which binding, which error codes, how many within the minute. Never a user or a client address.

use chrono::{DateTime, Utc};

use super::{get, Actor, ConsoleError, ConsolePorts};
use crate::registry::ServiceProvider;
use crate::sessions::{AuditKind, Binding};

/// The most events a page or an API answer lists.
pub const MAX_EVENTS: i64 = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRequest {
    pub at: DateTime<Utc>,
    pub kind: AuditKind,
    /// The error codes of the refusal (`/help/errors` explains each).
    pub codes: Vec<String>,
    /// How many such refusals the minute saw (SPEC 7 aggregates them).
    pub count: u32,
    /// How the message came (`None` for events recorded before bindings were).
    pub binding: Option<Binding>,
}

/// The SP with console id `id` and its most recent refused requests (at most `limit`).
pub fn refused(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    id: &str,
    limit: i64,
) -> Result<(ServiceProvider, Vec<RefusedRequest>), ConsoleError> {
    let sp = get(p, actor, id)?;
    let events = p
        .audit
        .refused_for_sp(&sp.issuer, limit.clamp(1, MAX_EVENTS))
        .map_err(|e| ConsoleError::Storage(e.0))?;
    let refused = events
        .into_iter()
        .map(|recorded| RefusedRequest {
            at: recorded.at,
            kind: recorded.event.event,
            codes: recorded
                .event
                .detail
                .unwrap_or_default()
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            count: recorded.event.count,
            binding: recorded.event.binding,
        })
        .collect();
    Ok((sp, refused))
}
