//! Single sign-on (SPEC 7): given a verified request and this browser's session, answer at
//! once when nothing is missing, else say which step to ask for. The SSO endpoint calls it
//! in the same HTTP request as intake (no stored pending request when the session already
//! satisfies it); `/api/saml/complete` calls it after each step, with the stored request,
//! which it consumes before answering so that a replayed cookie gets no second response.

use std::sync::Arc;

use super::complete::{next_step, Facts, Step};
use super::error::Error;
use super::handoff::{self, Answer};
use super::pending::PendingRequest;
use super::release::{released, Grant};
use super::Deps;
use crate::registry::ServiceProvider;
use crate::sessions::SessionRecord;

/// Where the request stands.
#[derive(Debug)]
pub enum Outcome {
    /// The Response to post to `pending.acs_url`.
    Respond(Vec<u8>),
    /// The user must do this first (sign in, second factor, consent) or is stopped by it
    /// (suspended, phishing-resistant authenticator or verified identity needed).
    Ask(Step),
    /// The stored request was already answered or cancelled (another tab, a replay).
    AlreadyUsed,
}

/// The browser: its session (if any) and its remember-this-browser token hash (if any).
#[derive(Debug, Clone, Copy, Default)]
pub struct Browser<'a> {
    pub session: Option<&'a SessionRecord>,
    pub remembered: Option<&'a str>,
}

/// Decides, and answers when the decision is a hand-off. `stored` is the token hash of the
/// pending request when it was stored (it is taken before the response is built).
pub fn advance(
    deps: &Deps<'_>,
    pending: &PendingRequest,
    stored: Option<&str>,
    browser: Browser<'_>,
) -> Result<(Arc<ServiceProvider>, Outcome), Error> {
    let sp = handoff::recheck(deps, pending)?;
    let step = decide(deps, pending, &sp, browser)?;
    let answer = match step {
        Step::HandOff(attributes) => Answer::Success(attributes),
        Step::NoPassive => Answer::NoPassive,
        other => return Ok((sp, Outcome::Ask(other))),
    };
    if let Some(hash) = stored {
        if !deps.pending.take(hash)? {
            return Ok((sp, Outcome::AlreadyUsed));
        }
    }
    let xml = handoff::respond(deps, pending, &sp, browser.session, &answer)?;
    Ok((sp, Outcome::Respond(xml)))
}

/// The facts about the user, from the stores, and the next step.
fn decide(
    deps: &Deps<'_>,
    pending: &PendingRequest,
    sp: &ServiceProvider,
    browser: Browser<'_>,
) -> Result<Step, Error> {
    let session = browser.session;
    let user = match session.and_then(|s| s.user_id) {
        Some(id) => deps.accounts.get(id)?,
        None => None,
    };
    let has_security_key = match &user {
        Some(u) if deps.relying_party.is_available() => {
            deps.security_keys.count_for_user(u.id)? > 0
        }
        _ => false,
    };
    let (remembered, consented) = match &user {
        Some(u) => (
            match browser.remembered {
                Some(hash) => deps.sessions.is_remembered(hash, u.id, deps.now)?,
                None => false,
            },
            deps.identities.consent(u.id, &pending.issuer)?,
        ),
        None => (false, None),
    };
    Ok(next_step(&Facts {
        pending,
        sp,
        // A session whose user was removed counts as not signed in.
        password_at: session
            .and_then(|s| s.password_at)
            .filter(|_| user.is_some()),
        mfa_at: session.and_then(|s| s.mfa_at).filter(|_| user.is_some()),
        status: user.as_ref().map(|u| u.status),
        remembered,
        user_verified: user.as_ref().is_some_and(|u| u.verified_at.is_some()),
        mfa_method: session
            .and_then(|s| s.mfa_method)
            .filter(|_| user.is_some()),
        has_security_key,
        consented: consented.as_deref(),
    }))
}

/// The attributes a consent page lists for this user and request.
pub fn consent_attributes(
    deps: &Deps<'_>,
    pending: &PendingRequest,
    sp: &ServiceProvider,
    user_id: i64,
) -> Result<Vec<&'static str>, Error> {
    let user_verified = deps
        .accounts
        .get(user_id)?
        .is_some_and(|u| u.verified_at.is_some());
    let grant = Grant {
        user_verified,
        piv_session: false,
    };
    Ok(released(sp, &pending.authn_context, grant))
}

/// Records the user's consent to what this request releases.
pub fn give_consent(
    deps: &Deps<'_>,
    pending: &PendingRequest,
    sp: &ServiceProvider,
    user_id: i64,
) -> Result<(), Error> {
    let attributes: Vec<String> = consent_attributes(deps, pending, sp, user_id)?
        .into_iter()
        .map(str::to_string)
        .collect();
    Ok(deps
        .identities
        .save_consent(user_id, &sp.issuer, &attributes, deps.now)?)
}
