//! The audit events of incoming SAML messages (SPEC 12): one per request, accepted or not,
//! with the outcome and every error code. Never PII and never raw XML: the issuer is
//! recorded only when it names a registered SP (an unknown one is attacker-chosen text).

use super::intake::IntakeError;
use super::{Deps, Error};
use crate::sessions::{AuditEvent, AuditKind, Binding};

/// The outcome of one incoming message, as the audit trail records it.
pub enum Outcome<'a> {
    Accepted,
    /// Valid, from an SP that is no longer active.
    Inactive,
    Refused(&'a [IntakeError]),
}

/// Records `event` for a message from `issuer` (a registered SP, or none). A refusal gets
/// a short reference (SPEC 15): the one of the stored event it is counted in, for its error
/// page and `saml-idp events --id`.
pub fn record(
    deps: &Deps<'_>,
    event: AuditKind,
    issuer: Option<&str>,
    binding: Binding,
    outcome: Outcome<'_>,
) -> Result<Option<String>, Error> {
    let registered = issuer.filter(|i| deps.sps.get(i).is_some());
    let (success, detail) = match outcome {
        Outcome::Accepted => (true, "accepted".to_string()),
        Outcome::Inactive => (false, "inactive_service_provider".to_string()),
        Outcome::Refused(errors) => (false, codes(errors)),
    };
    let event = AuditEvent {
        event,
        issuer: registered.map(str::to_string),
        user_public_id: None,
        success,
        detail: Some(detail),
        count: 1,
        binding: Some(binding),
        reference: (!success).then(|| reference(deps.ids)),
    };
    if success {
        deps.audit.record(&event, deps.now)?;
        return Ok(None);
    }
    // Refusals are counted per client, code and SP within a minute (SPEC 7).
    let client = deps.client.unwrap_or("unknown");
    Ok(deps.audit.record_refusal(&event, client, deps.now)?)
}

/// Ten upper-case hexadecimal digits of a fresh UUID: short enough to read out on the phone,
/// and found by `saml-idp events --id` in any case.
fn reference(ids: &dyn crate::ids::IdSource) -> String {
    ids.uuid()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(10)
        .collect::<String>()
        .to_ascii_uppercase()
}

/// Every error code, in catalogue order, comma-separated.
pub fn codes(errors: &[IntakeError]) -> String {
    errors
        .iter()
        .map(|e| e.code.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// Records an account event (`detail` is a fixed word such as `password_reset`; never PII).
pub fn account(
    deps: &Deps<'_>,
    public_id: Option<&str>,
    success: bool,
    detail: &str,
) -> Result<(), Error> {
    of_user(deps, AuditKind::Account, public_id, success, detail)
}

/// Records `event` about a user (`detail` is a fixed word; never PII).
pub fn of_user(
    deps: &Deps<'_>,
    event: AuditKind,
    public_id: Option<&str>,
    success: bool,
    detail: &str,
) -> Result<(), Error> {
    let event = AuditEvent {
        event,
        issuer: None,
        user_public_id: public_id.map(str::to_string),
        success,
        detail: Some(detail.to_string()),
        count: 1,
        binding: None,
        reference: None,
    };
    Ok(deps.audit.record(&event, deps.now)?)
}
