//! AuthnRequest intake (SPEC 3–6): the common pipeline of [`super::receive`], then the
//! rules of an AuthnRequest: a registered ACS URL, the AuthnContext values the SP may ask
//! for, the NameID format, and a certificate when responses are encrypted. Only this module
//! builds a [`VerifiedAuthnRequest`]. Blocking (libxml2/xmlsec).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::registry::{BlockEncryption, ServiceProvider};
use crate::saml::authn_context::{self, AuthnContext, SpPolicy};
use crate::saml::authn_request::{self, AuthnRequest};
use crate::saml::codec::Limits;
use crate::saml::request_root::MessageKind;
use crate::saml::{ns, SamlYear};

use super::catalogue::{IntakeCode, IntakeError};
use super::facts::IntakeFacts;
use super::{in_catalogue_order, receive, Endpoint, Inbound, Received};
use crate::idp::sp_cache::SpCache;

/// Server-wide settings intake needs, and the request's time and receiving endpoint.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    pub limits: &'a Limits,
    pub entity_id: &'a str,
    /// The year of the endpoint that received the request: its `Destination` must be
    /// `{entity_id}/auth{year}` (SAML bindings 3.4.5.2 / 3.5.5.2).
    pub year: SamlYear,
    pub now: DateTime<Utc>,
    pub facial_match_enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameIdFormat {
    Persistent,
    Email,
}

/// A request that passed every check. Only `intake` builds one: holding one is the proof
/// that its signature (if any) verified against the SP's registered certificates.
#[derive(Debug, Clone)]
// The private field keeps construction inside this module; `#[non_exhaustive]` would still
// let the rest of the crate build one without verification.
#[allow(clippy::manual_non_exhaustive)]
pub struct VerifiedAuthnRequest {
    pub request: AuthnRequest,
    pub sp: Arc<ServiceProvider>,
    /// The registered ACS URL the response goes to.
    pub acs_url: String,
    /// Index into `sp.certs` of the certificate that verified the request.
    pub matching_certificate: Option<usize>,
    pub authn_context: AuthnContext,
    pub name_id_format: NameIdFormat,
    pub relay_state: Option<String>,
    _sealed: (),
}

#[derive(Debug, Clone)]
pub enum Verdict {
    Accepted(Box<VerifiedAuthnRequest>),
    /// Every error found, in catalogue order. No SAML response goes anywhere.
    Rejected(Vec<IntakeError>),
    /// Valid, but the SP is no longer in service.
    Inactive(Arc<ServiceProvider>),
}

pub fn intake(input: &Inbound<'_>, settings: &Settings<'_>, sps: &SpCache) -> Verdict {
    intake_with_facts(input, settings, sps, &mut IntakeFacts::default())
}

/// `intake`, also recording in `facts` the issuer, its SP and the signature verdict (for
/// the decode tool, which reports them without verifying again).
pub fn intake_with_facts(
    input: &Inbound<'_>,
    settings: &Settings<'_>,
    sps: &SpCache,
    facts: &mut IntakeFacts,
) -> Verdict {
    let endpoint = Endpoint {
        entity_id: settings.entity_id,
        path: "auth",
        year: settings.year,
        now: settings.now,
        limits: settings.limits,
    };
    let required = |sp: &ServiceProvider| sp.require_signed_requests;
    let received: Received<AuthnRequest> = match receive(input, &endpoint, sps, required, facts) {
        Ok(received) => received,
        Err(errors) => return Verdict::Rejected(errors),
    };
    let Received {
        message: request,
        sp,
        signatures,
        mut errors,
    } = received;
    let acs_url = check_acs(&request, &sp, &mut errors);
    let authn_context = check_authn_context(&request, &sp, settings, &mut errors);
    let name_id_format = check_name_id_format(&request, &sp, &mut errors);
    if sp.block_encryption != BlockEncryption::None && sp.certs.is_empty() {
        errors.push(IntakeError::with_detail(
            IntakeCode::NoCertRegistered,
            "encryption needs a certificate",
        ));
    }
    match (errors.is_empty(), acs_url, authn_context, name_id_format) {
        (true, Some(acs_url), Some(authn_context), Some(name_id_format)) if sp.active => {
            Verdict::Accepted(Box::new(VerifiedAuthnRequest {
                request,
                acs_url,
                matching_certificate: signatures.matching,
                authn_context,
                name_id_format,
                relay_state: input.relay_state.map(str::to_string),
                sp,
                _sealed: (),
            }))
        }
        (true, ..) if !sp.active => Verdict::Inactive(sp),
        _ => Verdict::Rejected(in_catalogue_order(errors)),
    }
}

super::message!(
    AuthnRequest,
    MessageKind::AuthnRequest,
    "a LogoutRequest was sent to the sign-in endpoint; send it to the logout endpoint",
    authn_request::read
);

/// The request's ACS URL must equal a registered one exactly; absent means the first.
fn check_acs(
    request: &AuthnRequest,
    sp: &ServiceProvider,
    errors: &mut Vec<IntakeError>,
) -> Option<String> {
    match (&request.acs_url, sp.acs_urls.first()) {
        (_, None) => errors.push(IntakeError::new(IntakeCode::NoResponseUrl)),
        (None, Some(first)) => return Some(first.clone()),
        (Some(url), _) if sp.acs_urls.contains(url) => return Some(url.clone()),
        (Some(_), _) => errors.push(IntakeError::new(IntakeCode::AcsUrlNotRegistered)),
    }
    None
}

fn check_authn_context(
    request: &AuthnRequest,
    sp: &ServiceProvider,
    settings: &Settings<'_>,
    errors: &mut Vec<IntakeError>,
) -> Option<AuthnContext> {
    let policy = SpPolicy {
        ial: sp.ial,
        default_aal: sp.default_aal,
        ialmax_allowed: sp.ialmax_allowed,
        facial_match_enabled: settings.facial_match_enabled,
    };
    match authn_context::parse(
        &request.authn_context_class_refs,
        request.comparison.as_deref(),
        &policy,
    ) {
        Ok(context) => {
            if !context.ignored_values.is_empty() {
                tracing::info!(issuer = %sp.issuer, ignored = ?context.ignored_values, "ignored AuthnContextClassRef values");
            }
            Some(context)
        }
        Err(e) => {
            tracing::debug!(error = %e, "unauthorized authn context");
            errors.push(IntakeError::with_detail(
                IntakeCode::UnauthorizedAuthnContext,
                e.public_detail(),
            ));
            None
        }
    }
}

/// Persistent unless the SP may use email; missing, unspecified and transient get the SP's
/// default (SPEC 8).
fn check_name_id_format(
    request: &AuthnRequest,
    sp: &ServiceProvider,
    errors: &mut Vec<IntakeError>,
) -> Option<NameIdFormat> {
    let default = if sp.email_nameid_format_allowed {
        NameIdFormat::Email
    } else {
        NameIdFormat::Persistent
    };
    match request.name_id_format.as_deref() {
        None => Some(default),
        Some(f) if f == ns::NAMEID_UNSPECIFIED || f == ns::NAMEID_TRANSIENT => Some(default),
        Some(f) if f == ns::NAMEID_PERSISTENT => Some(NameIdFormat::Persistent),
        Some(f) if f == ns::NAMEID_EMAIL && sp.email_nameid_format_allowed => {
            Some(NameIdFormat::Email)
        }
        Some(_) => {
            errors.push(IntakeError::new(IntakeCode::UnauthorizedNameidFormat));
            None
        }
    }
}
