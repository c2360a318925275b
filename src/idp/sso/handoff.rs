//! The end of the flow (SPEC 7, 8): re-check that the SP may still receive the response,
//! then the agency identity, the audit event and the signed (maybe encrypted) Response or
//! the NoPassive answer. What the request was verified against is checked again here,
//! because a pending request may wait up to 15 minutes while the registry changes.

use std::sync::Arc;

use super::pending::PendingRequest;
use super::policy::Answer;
use crate::accounts::UserRecord;
use crate::idp::response::{self, Claims, Success};
use crate::idp::{Deps, Error, SpProblem, UserProblem};
use crate::registry::ServiceProvider;
use crate::saml::SamlYear;
use crate::sessions::signed_in::SignedInRead;
use crate::sessions::AuditKind;
use crate::sessions::{AuditEvent, SessionRecord};

/// A pending request together with its SP as registered now: only [`recheck`] builds one,
/// and [`respond`] answers nothing else, so no Response leaves without the re-check.
#[derive(Debug)]
// The private field keeps construction inside this module.
#[allow(clippy::manual_non_exhaustive)]
pub struct Rechecked<'a> {
    pub pending: &'a PendingRequest,
    pub sp: Arc<ServiceProvider>,
    _sealed: (),
}

/// The SP of a request, as registered now: still known and active, the ACS still
/// registered, the certificate that verified the request still registered (by
/// fingerprint), the year still live. Otherwise which of these changed.
pub fn recheck<'a>(deps: &Deps<'_>, pending: &'a PendingRequest) -> Result<Rechecked<'a>, Error> {
    let sp = deps
        .sps
        .get(&pending.issuer)
        .ok_or(Error::Sp(SpProblem::Unknown))?;
    if !sp.active {
        return Err(Error::Sp(SpProblem::Inactive));
    }
    if !sp.acs_urls.contains(&pending.acs_url) {
        return Err(Error::Sp(SpProblem::AcsRemoved));
    }
    if let Some(fingerprint) = &pending.matching_certificate {
        if !sp
            .certs
            .iter()
            .any(|c| c.sha256_fingerprint() == fingerprint.as_str())
        {
            return Err(Error::Sp(SpProblem::CertificateRemoved));
        }
    }
    let live = SamlYear::new(pending.year).is_some_and(|y| deps.keys.get(y).is_some());
    if !live {
        return Err(Error::Sp(SpProblem::YearNotLive));
    }
    Ok(Rechecked {
        pending,
        sp,
        _sealed: (),
    })
}

/// The browser's session and its user, as the policy read them.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn<'a> {
    pub session: Option<&'a SessionRecord>,
    pub user: Option<&'a UserRecord>,
    /// The user's emails and agency UUID, when they were read with the session.
    pub read: Option<&'a SignedInRead>,
}

/// The Response XML for a re-checked SP.
pub fn respond(
    deps: &Deps<'_>,
    checked: &Rechecked<'_>,
    signed_in: SignedIn<'_>,
    answer: &Answer,
) -> Result<Vec<u8>, Error> {
    let session = signed_in.session;
    let (pending, sp) = (checked.pending, checked.sp.as_ref());
    let year = SamlYear::new(pending.year).ok_or(Error::Sp(SpProblem::YearNotLive))?;
    let key = deps
        .keys
        .get(year)
        .ok_or(Error::Sp(SpProblem::YearNotLive))?;
    let user_id = session.and_then(|s| s.user_id);
    let (released, user_id) = match (answer, user_id) {
        (Answer::HandOff(released), Some(user_id)) => (released, user_id),
        (Answer::HandOff(_), None) => return Err(Error::User(UserProblem::Gone)),
        (Answer::NoPassive, _) => {
            audit(deps, sp, false, "no_passive")?;
            let xml =
                response::build_no_passive(pending, sp, deps.entity_id, deps.now, key, deps.ids)?;
            return Ok(xml);
        }
    };
    let user = signed_in
        .user
        .filter(|u| u.id == user_id)
        .ok_or(Error::User(UserProblem::Gone))?;
    let claims = claims(deps, sp, user, signed_in.read)?;
    let authn_instant = session
        .and_then(|s| s.mfa_at.or(s.password_at))
        .unwrap_or(deps.now);
    let xml = response::build(
        &Success {
            pending,
            sp,
            released,
            claims: &claims,
            authn_instant,
            key,
            entity_id: deps.entity_id,
            now: deps.now,
        },
        deps.ids,
    )?;
    deps.identities
        .record_authentication(user_id, &sp.issuer, deps.now)?;
    audit(deps, sp, true, "handoff")?;
    Ok(xml)
}

fn audit(deps: &Deps<'_>, sp: &ServiceProvider, success: bool, detail: &str) -> Result<(), Error> {
    let event = AuditEvent {
        event: AuditKind::SamlAuth,
        issuer: Some(sp.issuer.clone()),
        user_public_id: None,
        success,
        detail: Some(detail.into()),
        count: 1,
        binding: None,
        reference: None,
    };
    Ok(deps.audit.record(&event, deps.now)?)
}

/// The user's attributes, unsealed, and their persistent UUID for this SP's agency.
fn claims(
    deps: &Deps<'_>,
    sp: &ServiceProvider,
    user: &UserRecord,
    read: Option<&SignedInRead>,
) -> Result<Claims, Error> {
    let user_id = user.id;
    let read = read.filter(|r| r.user.id == user_id);
    let emails = match read {
        Some(read) => read.emails.clone(),
        None => deps.accounts.emails(user_id)?,
    };
    let open = |e: &crate::accounts::EmailRecord| deps.crypto.open_email(&e.sealed, &e.lookup);
    let new_uuid = deps.ids.uuid();
    let agency_uuid = match read.and_then(|r| r.agency_uuid.clone()) {
        Some(uuid) => uuid,
        None => deps
            .identities
            .agency_uuid(user_id, &sp.agency_key(), &new_uuid, deps.now)?,
    };
    Ok(Claims {
        agency_uuid,
        email: emails.iter().find(|e| e.for_sign_in).and_then(open),
        all_emails: emails.iter().filter_map(open).collect(),
        locale: user.locale.clone(),
        profile: user
            .verified_profile_sealed
            .as_deref()
            .and_then(|s| deps.crypto.open_profile(&user.public_id, s)),
        verified_at: user.verified_at,
    })
}
