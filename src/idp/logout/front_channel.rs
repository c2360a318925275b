//! Front-channel logout (SPEC 9): verify, audit, and build the LogoutResponse that goes to
//! the SP's registered logout URL through the browser. The caller ends the browser's
//! session only when this succeeds: a refused request leaves the user signed in.

use super::{endpoint, logout_response};
use crate::crypto::query_signature::RawSignedQuery;
use crate::idp::audit;
use crate::idp::intake::logout::{intake, Channel};
use crate::idp::intake::{IntakeCode, IntakeError};
use crate::idp::{Deps, Error};
use crate::saml::codec::Limits;
use crate::saml::SamlYear;
use crate::sessions::{AuditKind, Binding};

/// A verified request's answer: the LogoutResponse and where it goes.
#[derive(Debug)]
pub struct FrontChannel {
    pub xml: Vec<u8>,
    pub logout_url: String,
}

/// What the browser gets.
#[derive(Debug)]
pub enum Reply {
    /// Post this LogoutResponse to the SP, then end the session.
    Answer(FrontChannel),
    /// The request was refused: the error page (with the audit reference); the session
    /// stays.
    Refused(Vec<IntakeError>, Option<String>),
}

pub fn front_channel(
    deps: &Deps<'_>,
    year: SamlYear,
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    binding: Binding,
    limits: &Limits,
) -> Result<Reply, Error> {
    let endpoint = endpoint(deps, Channel::Front, year, limits);
    let verified = intake(saml_request, query, &endpoint, deps.sps);
    let (issuer, outcome) = match &verified {
        Ok(v) => (Some(v.sp.issuer.as_str()), audit::Outcome::Accepted),
        Err(errors) => (None, audit::Outcome::Refused(errors)),
    };
    let reference = audit::record(deps, AuditKind::LogoutInitiated, issuer, binding, outcome)?;
    let verified = match verified {
        Ok(v) => v,
        Err(errors) => return Ok(Reply::Refused(errors, reference)),
    };
    match verified.logout_url.clone() {
        Some(logout_url) => Ok(Reply::Answer(FrontChannel {
            xml: logout_response(deps, year, &verified)?,
            logout_url,
        })),
        // Front-channel intake refuses an SP without a logout URL.
        None => Ok(Reply::Refused(
            vec![IntakeError::new(IntakeCode::NoResponseUrl)],
            None,
        )),
    }
}
