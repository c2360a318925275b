//! Back-channel logout (SPEC 9): a signed LogoutRequest posted server to server. After
//! intake, a request ID never seen before (the shared replay cache) and the user's agency
//! UUID in `SessionIndex`; then every session of that user ends. The user lookup runs
//! whether or not the earlier checks passed, so the timing does not tell whether a UUID
//! exists.

use chrono::Duration;

use super::{endpoint, logout_response};
use crate::idp::audit;
use crate::idp::intake::logout::{intake, Channel, VerifiedLogoutRequest};
use crate::idp::intake::IntakeError;
use crate::idp::{Deps, Error};
use crate::saml::codec::Limits;
use crate::saml::SamlYear;
use crate::sessions::purge::REPLAY_FORGET_MINUTES;
use crate::sessions::{AuditEvent, AuditKind};

/// Why a remote logout is refused; the HTTP answer is the same (400, empty) for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Intake refused the request: every error, in catalogue order.
    Intake(Vec<IntakeError>),
    /// This issuer already sent this request ID.
    Replayed,
    NoSessionIndex,
    /// No user has this agency UUID for the SP's agency.
    UnknownSessionIndex,
}

impl Refusal {
    /// The audit detail, in fixed words (SPEC 12).
    fn detail(&self) -> String {
        match self {
            Refusal::Intake(errors) => audit::codes(errors),
            Refusal::Replayed => "replayed_request".into(),
            Refusal::NoSessionIndex => "no_session_index".into(),
            Refusal::UnknownSessionIndex => "unknown_session_index".into(),
        }
    }
}

/// What the back channel answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteAnswer {
    /// Every check passed and the user's sessions ended: the signed LogoutResponse.
    Accepted(Vec<u8>),
    /// The request was refused (400 with an empty body).
    Refused(Refusal),
    /// The database could not be reached: nothing was decided (503, the SP may retry).
    Unavailable,
}

/// Where the checks came to before anything is changed.
enum Checked {
    Accepted(Box<VerifiedLogoutRequest>, i64),
    Refused(Refusal),
    Unavailable,
}

pub fn remote(
    deps: &Deps<'_>,
    year: SamlYear,
    saml_request: &str,
    limits: &Limits,
) -> Result<RemoteAnswer, Error> {
    let endpoint = endpoint(deps, Channel::Remote, year, limits);
    // Embedded signatures only: the body is posted server to server.
    let verified = intake(saml_request, None, &endpoint, deps.sps);
    let issuer = verified.as_ref().ok().map(|v| v.sp.issuer.clone());
    let initiated = |success, detail: &str| {
        record(
            deps,
            AuditKind::RemoteLogoutInitiated,
            issuer.as_deref(),
            success,
            detail,
        )
    };
    let (verified, user) = match check(deps, verified) {
        Checked::Accepted(verified, user) => (verified, user),
        Checked::Refused(refusal) => {
            initiated(false, &refusal.detail());
            return Ok(RemoteAnswer::Refused(refusal));
        }
        Checked::Unavailable => {
            initiated(false, "storage_unavailable");
            return Ok(RemoteAnswer::Unavailable);
        }
    };
    initiated(true, "accepted");
    if deps.sessions.delete_for_user(user).is_err() {
        return Ok(RemoteAnswer::Unavailable);
    }
    let completed = AuditKind::RemoteLogoutCompleted;
    record(deps, completed, issuer.as_deref(), true, "sessions_ended");
    Ok(RemoteAnswer::Accepted(logout_response(
        deps, year, &verified,
    )?))
}

/// Replay, SessionIndex and the user, looked up whatever came before.
fn check(deps: &Deps<'_>, verified: Result<VerifiedLogoutRequest, Vec<IntakeError>>) -> Checked {
    let index = verified.as_ref().ok().map(|v| first_use_index(deps, v));
    let (agency, session_index) = match (&verified, &index) {
        (Ok(v), Some(Index::Found(index))) => (v.sp.agency_key(), index.clone()),
        _ => ("agency:-".to_string(), "-".to_string()),
    };
    let user = deps
        .identities
        .user_for_agency_uuid(&agency, &session_index);
    match (verified, index, user) {
        (Err(errors), ..) => Checked::Refused(Refusal::Intake(errors)),
        (_, Some(Index::Refused(refusal)), _) => Checked::Refused(refusal),
        (_, Some(Index::Unavailable), _) | (_, _, Err(_)) => Checked::Unavailable,
        (_, _, Ok(None)) => Checked::Refused(Refusal::UnknownSessionIndex),
        (Ok(v), _, Ok(Some(user))) => Checked::Accepted(Box::new(v), user),
    }
}

/// What the replay cache and the request say about its SessionIndex.
enum Index {
    Found(String),
    Refused(Refusal),
    Unavailable,
}

/// The request's SessionIndex, if this is the first use of its ID (intake already refused
/// a stale `IssueInstant`, so an ID is remembered for longer than any request carrying it is
/// accepted).
fn first_use_index(deps: &Deps<'_>, v: &VerifiedLogoutRequest) -> Index {
    let forget_before = deps.now - Duration::minutes(REPLAY_FORGET_MINUTES);
    let first = deps
        .replay
        .first_use(&v.sp.issuer, &v.request.id, deps.now, forget_before);
    match (first, &v.request.session_index) {
        (Err(_), _) => Index::Unavailable,
        (Ok(false), _) => Index::Refused(Refusal::Replayed),
        (Ok(true), None) => Index::Refused(Refusal::NoSessionIndex),
        (Ok(true), Some(index)) => Index::Found(index.clone()),
    }
}

/// The audit event of this request. A failure to record is logged, not answered: the
/// answer reflects what happened to the sessions.
fn record(deps: &Deps<'_>, kind: AuditKind, issuer: Option<&str>, success: bool, detail: &str) {
    let event = AuditEvent {
        event: kind,
        issuer: issuer.map(str::to_string),
        user_public_id: None,
        success,
        detail: Some(detail.into()),
        count: 1,
        binding: Some(crate::sessions::Binding::BackChannel),
        reference: None,
    };
    let recorded = match success {
        true => deps.audit.record(&event, deps.now),
        false => {
            let client = deps.client.unwrap_or("unknown");
            deps.audit
                .record_refusal(&event, client, deps.now)
                .map(drop)
        }
    };
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "remote logout: the audit event could not be recorded");
    }
}
