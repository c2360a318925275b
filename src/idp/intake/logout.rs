//! LogoutRequest intake (SPEC 9): the common pipeline of [`super::receive`] with a signature
//! always required, and for the front channel a registered logout URL to answer to. Only
//! this module builds a [`VerifiedLogoutRequest`].

use std::sync::Arc;

use crate::crypto::query_signature::RawSignedQuery;
use crate::registry::ServiceProvider;
use crate::saml::logout_request::{self, LogoutRequest};
use crate::saml::request_root::MessageKind;

use super::catalogue::{IntakeCode, IntakeError};
use super::facts::IntakeFacts;
use super::{in_catalogue_order, receive, Endpoint, Inbound, Received};
use crate::idp::sp_cache::SpCache;

/// Which logout endpoint received the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `/api/saml/logout{YEAR}`, through the browser.
    Front,
    /// `/api/saml/remotelogout{YEAR}`, server to server.
    Remote,
}

impl Channel {
    /// The endpoint's path, before the year.
    pub fn path(self) -> &'static str {
        match self {
            Channel::Front => "logout",
            Channel::Remote => "remotelogout",
        }
    }
}

/// A LogoutRequest that passed every check. Only `intake` builds one: holding one is the
/// proof that its signature verified against the SP's registered certificates.
#[derive(Debug, Clone)]
// The private field keeps construction inside this module.
#[allow(clippy::manual_non_exhaustive)]
pub struct VerifiedLogoutRequest {
    pub request: LogoutRequest,
    pub sp: Arc<ServiceProvider>,
    /// The SP's registered logout URL: where a front-channel LogoutResponse goes. Always
    /// present for front-channel requests; remote logout does not need one (SPEC 9).
    pub logout_url: Option<String>,
    _sealed: (),
}

/// Decodes, parses and verifies a LogoutRequest that `endpoint` (a [`Channel`]'s path)
/// received; every problem is reported.
pub fn intake(
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    endpoint: &Endpoint<'_>,
    sps: &SpCache,
) -> Result<VerifiedLogoutRequest, Vec<IntakeError>> {
    intake_with_facts(
        saml_request,
        query,
        endpoint,
        sps,
        &mut IntakeFacts::default(),
    )
}

/// `intake`, also recording in `facts` the issuer, its SP and the signature verdict (for
/// the decode tool, which reports them without verifying again).
pub fn intake_with_facts(
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    endpoint: &Endpoint<'_>,
    sps: &SpCache,
    facts: &mut IntakeFacts,
) -> Result<VerifiedLogoutRequest, Vec<IntakeError>> {
    let input = Inbound {
        saml_request,
        relay_state: None,
        query: query.cloned(),
        // The logout use cases audit with the binding they were called with.
        binding: crate::sessions::Binding::default(),
    };
    let always = |_: &ServiceProvider| true;
    let Received {
        message: request,
        sp,
        mut errors,
        ..
    } = receive::<LogoutRequest>(&input, endpoint, sps, always, facts)?;
    if endpoint.path == Channel::Front.path() && sp.logout_url.is_none() {
        errors.push(IntakeError::new(IntakeCode::NoResponseUrl));
    }
    if !errors.is_empty() {
        return Err(in_catalogue_order(errors));
    }
    let logout_url = sp.logout_url.clone();
    Ok(VerifiedLogoutRequest {
        request,
        sp,
        logout_url,
        _sealed: (),
    })
}

super::message!(
    LogoutRequest,
    MessageKind::LogoutRequest,
    "an AuthnRequest was sent to the logout endpoint; send it to the sign-in endpoint",
    logout_request::read
);
