//! Consent (SPEC 7, 8): what a request releases to its SP, listed for the user, and the
//! record of their agreement, which later requests for the same attributes reuse.

use super::pending::PendingRequest;
use super::release::{released, Grant};
use crate::idp::{Deps, Error};
use crate::registry::ServiceProvider;

/// The attributes a consent page lists for this user and request.
pub fn attributes(
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
pub fn give(
    deps: &Deps<'_>,
    pending: &PendingRequest,
    sp: &ServiceProvider,
    user_id: i64,
) -> Result<(), Error> {
    let attributes: Vec<String> = attributes(deps, pending, sp, user_id)?
        .into_iter()
        .map(str::to_string)
        .collect();
    Ok(deps
        .identities
        .save_consent(user_id, &sp.issuer, &attributes, deps.now)?)
}
