//! The audit events of incoming SAML messages (SPEC 12): one per request, accepted or not,
//! with the outcome and every error code. Never PII and never raw XML: the issuer is
//! recorded only when it names a registered SP (an unknown one is attacker-chosen text).

use super::intake::IntakeError;
use super::{Deps, Error};
use crate::sessions::AuditEvent;

pub const SAML_AUTH_REQUEST: &str = "SAML Auth Request";
pub const LOGOUT_INITIATED: &str = "Logout Initiated";
pub const REMOTE_LOGOUT_INITIATED: &str = "Remote Logout initiated";
pub const REMOTE_LOGOUT_COMPLETED: &str = "Remote Logout completed";
/// The end of single sign-on: a Response (or NoPassive) went to the SP.
pub const SAML_AUTH: &str = "SAML Auth";

/// The outcome of one incoming message, as the audit trail records it.
pub enum Outcome<'a> {
    Accepted,
    /// Valid, from an SP that is no longer active.
    Inactive,
    Refused(&'a [IntakeError]),
}

/// Records `event` for a message from `issuer` (a registered SP, or none).
pub fn record(
    deps: &Deps<'_>,
    event: &str,
    issuer: Option<&str>,
    outcome: Outcome<'_>,
) -> Result<(), Error> {
    let registered = issuer.filter(|i| deps.sps.get(i).is_some());
    let (success, detail) = match outcome {
        Outcome::Accepted => (true, "accepted".to_string()),
        Outcome::Inactive => (false, "inactive_service_provider".to_string()),
        Outcome::Refused(errors) => (false, codes(errors)),
    };
    let event = AuditEvent {
        event: event.into(),
        issuer: registered.map(str::to_string),
        user_public_id: None,
        success,
        detail: Some(detail),
    };
    Ok(deps.audit.record(&event, deps.now)?)
}

/// Every error code, in catalogue order, comma-separated.
pub fn codes(errors: &[IntakeError]) -> String {
    errors
        .iter()
        .map(|e| e.code.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The event of every change to an account and every step of sign-up and recovery.
pub const ACCOUNT: &str = "Account";

/// Records an account event (`detail` is a fixed word such as `password_reset`; never PII).
pub fn account(
    deps: &Deps<'_>,
    public_id: Option<&str>,
    success: bool,
    detail: &str,
) -> Result<(), Error> {
    let event = AuditEvent {
        event: ACCOUNT.into(),
        issuer: None,
        user_public_id: public_id.map(str::to_string),
        success,
        detail: Some(detail.to_string()),
    };
    Ok(deps.audit.record(&event, deps.now)?)
}
