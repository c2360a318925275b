//! Single sign-on (SPEC 7), top to bottom. [`authn`] is `/api/saml/auth{YEAR}`: intake,
//! the audit event, this browser's session, the policy; a session that satisfies the request
//! gets the Response in the same HTTP request (nothing stored), otherwise the request is
//! stored for the steps the user can complete. [`resume`] is `/api/saml/complete`, after each
//! step: the stored request is consumed before the Response is built, so a replayed cookie
//! gets no second Response.

pub mod consent;
pub mod handoff;
pub mod pending;
pub mod policy;
pub mod release;

use std::sync::Arc;

use pending::{PendingRequest, PENDING_LIFETIME_MINUTES};
use policy::{next_step, Answer, Ask, Facts, Keys, Step, Stop};

use super::audit;
use super::intake::authn::{intake_with_facts, Settings, Verdict};
use super::intake::IntakeFacts;
use super::intake::{Inbound, IntakeError};
use super::session;
use super::token::{Token, TokenHash};
use super::{Deps, Error};
use crate::accounts::UserRecord;
use crate::registry::ServiceProvider;
use crate::sessions::signed_in::{SignedInQuery, SignedInRead};
use crate::sessions::SessionRecord;

/// What the browser sent besides the request: its session and remember-this-browser
/// cookies, hashed.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub session: Option<TokenHash>,
    pub remembered: Option<TokenHash>,
}

/// A Response on its way to the SP's registered ACS URL.
#[derive(Debug)]
pub struct Post {
    pub sp: Arc<ServiceProvider>,
    pub acs_url: String,
    pub relay_state: Option<String>,
    pub saml_response: Vec<u8>,
}

/// What the browser gets.
#[derive(Debug)]
pub enum SsoReply {
    /// The auto-post page with the Response (or the NoPassive answer).
    Post(Box<Post>),
    /// The page of the step the user completes next; `pending` is the cookie of the request
    /// when this call stored it.
    Ask {
        sp: Arc<ServiceProvider>,
        ask: Ask,
        pending: Option<Token>,
    },
    /// The flow stops here, with a page that says why.
    Stop {
        sp: Arc<ServiceProvider>,
        stop: Stop,
    },
    /// Intake refused the request: every error, the registered SP it named (unverified:
    /// only its registered name and return URL may be shown), and the audit reference.
    Refused {
        errors: Vec<IntakeError>,
        sp: Option<Arc<ServiceProvider>>,
        reference: Option<String>,
    },
    /// Valid, from an SP no longer in service.
    Inactive(Arc<ServiceProvider>),
    /// No stored request to resume (expired, answered, cancelled, or its SP removed).
    NothingPending,
}

/// `/api/saml/auth{YEAR}`, either binding.
pub fn authn(
    deps: &Deps<'_>,
    settings: &Settings<'_>,
    input: &Inbound<'_>,
    browser: &Browser,
) -> Result<SsoReply, Error> {
    let event = crate::sessions::AuditKind::SamlAuthRequest;
    let mut facts = IntakeFacts::default();
    let verified = match intake_with_facts(input, settings, deps.sps, &mut facts) {
        Verdict::Accepted(verified) => verified,
        Verdict::Rejected(errors) => {
            // Under the SP it names when that SP is registered: its administrators see the
            // refusals in the console (SPEC 19); an unknown issuer is never stored.
            let claimed = facts.sp.as_ref().map(|sp| sp.issuer.as_str());
            let reference = audit::record(
                deps,
                event,
                claimed,
                input.binding,
                audit::Outcome::Refused(&errors),
            )?;
            return Ok(SsoReply::Refused {
                errors,
                sp: facts.sp,
                reference,
            });
        }
        Verdict::Inactive(sp) => {
            audit::record(
                deps,
                event,
                Some(&sp.issuer),
                input.binding,
                audit::Outcome::Inactive,
            )?;
            return Ok(SsoReply::Inactive(sp));
        }
    };
    audit::record(
        deps,
        event,
        Some(&verified.sp.issuer),
        input.binding,
        audit::Outcome::Accepted,
    )?;
    let pending = PendingRequest::from_verified(&verified, settings.year, deps.now);
    let checked = handoff::recheck(deps, &pending)?;
    let known = load(deps, browser, &checked)?;
    let (step, user) = decide(deps, &checked, &known, browser)?;
    match step {
        Step::Answer(answer) => post(deps, &checked, known.signed_in(&user), &answer),
        Step::Stop(stop) => Ok(SsoReply::Stop {
            sp: checked.sp,
            stop,
        }),
        // The user can complete this step: keep the request for it.
        Step::Ask(ask) => {
            let token = Token::generate(deps.ids, "pending token")?;
            deps.pending.put(&token.hash(), &pending)?;
            Ok(SsoReply::Ask {
                sp: checked.sp,
                ask,
                pending: Some(token),
            })
        }
    }
}

/// `/api/saml/complete`: the stored request named by the browser's pending cookie, after a
/// step.
pub fn resume(deps: &Deps<'_>, stored: &TokenHash, browser: &Browser) -> Result<SsoReply, Error> {
    let Some(pending) = deps.pending.get(stored, deps.now)? else {
        return Ok(SsoReply::NothingPending);
    };
    if deps.sps.get(&pending.issuer).is_none() {
        return Ok(SsoReply::NothingPending);
    }
    let checked = handoff::recheck(deps, &pending)?;
    let known = load(deps, browser, &checked)?;
    let (step, user) = decide(deps, &checked, &known, browser)?;
    match step {
        Step::Answer(answer) => {
            // Exactly one caller, on any node, answers a stored request.
            if !deps.pending.take(stored)? {
                return Ok(SsoReply::NothingPending);
            }
            post(deps, &checked, known.signed_in(&user), &answer)
        }
        Step::Stop(stop) => Ok(SsoReply::Stop {
            sp: checked.sp,
            stop,
        }),
        Step::Ask(ask) => Ok(SsoReply::Ask {
            sp: checked.sp,
            ask,
            pending: None,
        }),
    }
}

/// The browser's stored request and its SP as registered now, for the flow's pages.
pub fn pending_request(
    deps: &Deps<'_>,
    stored: &TokenHash,
) -> Result<Option<(PendingRequest, Arc<ServiceProvider>)>, Error> {
    let pending = deps.pending.get(stored, deps.now)?;
    Ok(pending.and_then(|p| deps.sps.get(&p.issuer).map(|sp| (p, sp))))
}

/// "Cancel": forgets the stored request (whoever takes it first).
pub fn cancel(deps: &Deps<'_>, stored: &TokenHash) -> Result<(), Error> {
    deps.pending.take(stored)?;
    Ok(())
}

/// How long the pending cookie may live.
pub fn pending_lifetime() -> chrono::Duration {
    chrono::Duration::minutes(PENDING_LIFETIME_MINUTES)
}

/// What the stores say about this browser for the request's SP.
#[derive(Default)]
struct Known {
    session: Option<SessionRecord>,
    /// The session, its user and the user's facts for the SP in one statement, when the
    /// session has a user (issue 23).
    read: Option<SignedInRead>,
}

impl Known {
    /// The session and the user `decide` settled on, for the Response.
    fn signed_in<'s>(&'s self, user: &'s Option<UserRecord>) -> handoff::SignedIn<'s> {
        handoff::SignedIn {
            session: self.session.as_ref(),
            user: user.as_ref(),
            read: self.read.as_ref(),
        }
    }
}

/// The browser's live session (its idle timer restarted) and, when it has a user, what
/// the Response needs of that user, in one read; a session without a user is read alone.
fn load(
    deps: &Deps<'_>,
    browser: &Browser,
    checked: &handoff::Rechecked<'_>,
) -> Result<Known, Error> {
    let Some(hash) = &browser.session else {
        return Ok(Known::default());
    };
    let agency_key = checked.sp.agency_key();
    let query = SignedInQuery {
        token_hash: hash.as_str(),
        now: deps.now,
        idle_cutoff: session::idle_cutoff(deps.now),
        issuer: &checked.pending.issuer,
        agency_key: &agency_key,
    };
    match deps.signed_in.signed_in(&query)? {
        Some(read) => {
            session::touch_if_due(deps.sessions, hash, &read.session, deps.now)?;
            Ok(Known {
                session: Some(read.session.clone()),
                read: Some(read),
            })
        }
        None => Ok(Known {
            session: session::load(deps.sessions, hash, deps.now)?,
            read: None,
        }),
    }
}

fn post(
    deps: &Deps<'_>,
    checked: &handoff::Rechecked<'_>,
    signed_in: handoff::SignedIn<'_>,
    answer: &Answer,
) -> Result<SsoReply, Error> {
    let saml_response = handoff::respond(deps, checked, signed_in, answer)?;
    Ok(SsoReply::Post(Box::new(Post {
        sp: checked.sp.clone(),
        acs_url: checked.pending.acs_url.clone(),
        relay_state: checked.pending.relay_state.clone(),
        saml_response,
    })))
}

/// The facts about the user, from the stores, and the next step; the user read for them.
fn decide(
    deps: &Deps<'_>,
    checked: &handoff::Rechecked<'_>,
    known: &Known,
    browser: &Browser,
) -> Result<(Step, Option<UserRecord>), Error> {
    let pending = checked.pending;
    let session = known.session.as_ref();
    let user = match (&known.read, session.and_then(|s| s.user_id)) {
        (Some(read), _) => Some(read.user.clone()),
        (None, Some(id)) => deps.accounts.get(id)?,
        (None, None) => None,
    };
    let keys = match &user {
        Some(u) => super::security_key::key_strength(deps, u.id)?,
        None => Keys::None,
    };
    let (remembered, consented) = match &user {
        Some(u) => (
            match &browser.remembered {
                Some(hash) => deps.sessions.is_remembered(hash, u.id, deps.now)?,
                None => false,
            },
            match &known.read {
                Some(read) => read.consent.clone(),
                None => deps.identities.consent(u.id, &pending.issuer)?,
            },
        ),
        None => (false, None),
    };
    // A session whose user was removed counts as not signed in.
    let signed_in = session.filter(|_| user.is_some());
    let step = next_step(&Facts {
        pending,
        sp: &checked.sp,
        password_at: signed_in.and_then(|s| s.password_at),
        mfa_at: signed_in.and_then(|s| s.mfa_at),
        status: user.as_ref().map(|u| u.status),
        remembered,
        user_verified: user.as_ref().is_some_and(|u| u.verified_at.is_some()),
        mfa_method: signed_in.and_then(|s| s.mfa_method),
        keys,
        consented: consented.as_deref(),
    });
    Ok((step, user))
}

#[cfg(test)]
mod tests;
