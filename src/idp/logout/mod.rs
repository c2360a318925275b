//! Logout (SPEC 9): front-channel through the browser ([`front_channel`]) and back-channel
//! from the SP's server ([`remote`]). Both take a request verified by
//! `intake::logout` and answer with a LogoutResponse, signed when the SP asks.

pub mod front_channel;
pub mod remote;

use super::intake::logout::{Channel, VerifiedLogoutRequest};
use super::intake::Endpoint;
use super::response::{wrap, Envelope};
use super::{Deps, Error, SpProblem};
use crate::saml::codec::Limits;
use crate::saml::SamlYear;

pub use super::intake::freshness::{MAX_AGE_MINUTES, MAX_SKEW_MINUTES};

/// The endpoint of `channel` for `year`, now.
fn endpoint<'a>(
    deps: &Deps<'a>,
    channel: Channel,
    year: SamlYear,
    limits: &'a Limits,
) -> Endpoint<'a> {
    Endpoint {
        entity_id: deps.entity_id,
        path: channel.path(),
        year,
        now: deps.now,
        limits,
    }
}

/// The LogoutResponse (Success) to a verified request, signed when the SP asks.
fn logout_response(
    deps: &Deps<'_>,
    year: SamlYear,
    v: &VerifiedLogoutRequest,
) -> Result<Vec<u8>, Error> {
    let key = deps
        .keys
        .get(year)
        .ok_or(Error::Sp(SpProblem::YearNotLive))?;
    let envelope = Envelope {
        element: "samlp:LogoutResponse",
        // Remote logout answers in the HTTP response: without a registered logout URL the
        // optional Destination is left out.
        destination: v.logout_url.as_deref().unwrap_or_default(),
        in_response_to: &v.request.id,
        issuer: deps.entity_id,
        now: deps.now,
        sign: v.sp.signed_response_message_requested,
    };
    Ok(wrap(&envelope, None, None, key, deps.ids)?)
}

#[cfg(test)]
mod tests;
