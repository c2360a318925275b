//! Connected SPs and sessions on the account page (SPEC 17): revoking the consent to one SP
//! (the next sign-in there asks for consent again), and signing out everywhere (every session
//! of the user, this one included, and every remembered browser).

use super::{done, gate, Fresh, Outcome, Problem};
use crate::idp::{Deps, Error};
use crate::mail::Change;
use crate::sessions::{AuditEvent, SessionRecord};

/// Forgets the consent to `issuer`.
pub fn revoke_consent(
    deps: &Deps<'_>,
    session: &SessionRecord,
    issuer: &str,
) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    if !deps.identities.revoke_consent(user.id, issuer)? {
        return Ok(Outcome::Refused(Problem::NotConnected));
    }
    // The SP is named in the event only when it is registered (never free text).
    let event = AuditEvent {
        event: crate::sessions::AuditKind::Account,
        issuer: deps.sps.get(issuer).map(|sp| sp.issuer.clone()),
        user_public_id: Some(user.public_id.clone()),
        success: true,
        detail: Some(Change::ConsentRevoked.as_str().into()),
        count: 1,
        binding: None,
        reference: None,
    };
    deps.audit.record(&event, deps.now)?;
    let notified = super::notify(deps, &user, Change::ConsentRevoked, None)?;
    Ok(Outcome::Done {
        value: (),
        notified,
    })
}

/// Ends every session of the user (this browser's too) and forgets every remembered browser.
pub fn sign_out_everywhere(deps: &Deps<'_>, session: &SessionRecord) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    deps.sessions.delete_for_user(user.id)?;
    deps.sessions.forget_browsers(user.id)?;
    done(deps, &user, Change::SignedOutEverywhere, None, ())
}
