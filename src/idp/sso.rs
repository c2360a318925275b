//! SSO request intake (SPEC 3–6), top to bottom: decode within limits, parse (one libxml2
//! document), find the SP by the root's Issuer, verify signatures against its registered
//! certificates, then every policy check, collecting all errors in catalogue order.
//! Blocking (libxml2/xmlsec): run inside one blocking task.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::crypto::query_signature::{self, QuerySignatureError, RawSignedQuery};
use crate::crypto::xml_verify::{self, SignatureError, Signed};
use crate::registry::{BlockEncryption, ServiceProvider};
use crate::saml::authn_context::{self, AuthnContext, SpPolicy};
use crate::saml::authn_request::{self, AuthnRequest, AuthnRequestError, MessageKind};
use crate::saml::codec::{self, CodecError, Limits};
use crate::saml::xml_doc::{XmlDoc, XmlDocError};
use crate::saml::xml_reader::{self, XmlError};
use crate::saml::{ns, SamlYear};

use super::freshness;
use super::intake_error::{IntakeCode, IntakeError};
use super::intake_facts::{IntakeFacts, SignatureVerdict};
use super::sp_cache::SpCache;

/// One incoming AuthnRequest, either binding.
#[derive(Debug, Clone, Default)]
pub struct SsoRequest<'a> {
    /// The `SAMLRequest` value, form-decoded.
    pub saml_request: &'a str,
    /// `RelayState`, form-decoded.
    pub relay_state: Option<&'a str>,
    /// The Redirect-binding signature parameters as received, when any were sent.
    pub query: Option<RawSignedQuery<'a>>,
}

/// Server-wide settings intake needs, and the request's time and receiving endpoint.
#[derive(Debug, Clone)]
pub struct SsoSettings<'a> {
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
pub enum SsoOutcome {
    Accepted(Box<VerifiedAuthnRequest>),
    /// Every error found, in catalogue order. No SAML response goes anywhere.
    Rejected(Vec<IntakeError>),
    /// Valid, but the SP is no longer in service.
    Inactive(Arc<ServiceProvider>),
}

pub fn intake(input: &SsoRequest<'_>, settings: &SsoSettings<'_>, sps: &SpCache) -> SsoOutcome {
    intake_with_facts(input, settings, sps, &mut IntakeFacts::default())
}

/// `intake`, also recording in `facts` the issuer, its SP and the signature verdict (for
/// the decode tool, which reports them without verifying again).
pub fn intake_with_facts(
    input: &SsoRequest<'_>,
    settings: &SsoSettings<'_>,
    sps: &SpCache,
    facts: &mut IntakeFacts,
) -> SsoOutcome {
    let (doc, request) = match parse(input, settings.limits) {
        Ok(parsed) => parsed,
        Err(errors) => return SsoOutcome::Rejected(errors),
    };
    let Some(issuer) = request.issuer.clone() else {
        return SsoOutcome::Rejected(vec![IntakeError::new(IntakeCode::IssuerMissingOrInvalid)]);
    };
    facts.issuer = Some(issuer.clone());
    let Some(sp) = sps.get(&issuer) else {
        return SsoOutcome::Rejected(vec![IntakeError::new(
            IntakeCode::UnauthorizedServiceProvider,
        )]);
    };
    let mut errors = Vec::new();
    let signatures = check_signatures(
        &doc,
        input.query.as_ref(),
        &sp,
        sp.require_signed_requests,
        &mut errors,
    );
    let matching_certificate = signatures.matching;
    facts.sp = Some(sp.clone());
    facts.signature = SignatureVerdict::from_check(matching_certificate, &errors, &sp);
    let acs_url = check_acs(&request, &sp, &mut errors);
    let endpoint = format!("{}/auth{}", settings.entity_id, settings.year);
    check_destination(
        request.destination.as_deref(),
        &endpoint,
        signatures.signed,
        &mut errors,
    );
    freshness::check(request.issue_instant, settings.now, &mut errors);
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
            SsoOutcome::Accepted(Box::new(VerifiedAuthnRequest {
                request,
                acs_url,
                matching_certificate,
                authn_context,
                name_id_format,
                relay_state: input.relay_state.map(str::to_string),
                sp,
                _sealed: (),
            }))
        }
        (true, ..) if !sp.active => SsoOutcome::Inactive(sp),
        _ => {
            errors.sort_by_key(|e| e.code);
            errors.dedup_by(|a, b| a == b);
            SsoOutcome::Rejected(errors)
        }
    }
}

pub(super) fn reader_limits(limits: &Limits) -> xml_reader::Limits {
    xml_reader::Limits {
        max_bytes: limits.inflated,
        max_depth: limits.depth,
        max_attributes: limits.attributes,
    }
}

/// Decoding, parsing and the message kind: any failure here ends intake.
fn parse(
    input: &SsoRequest<'_>,
    limits: &Limits,
) -> Result<(XmlDoc, AuthnRequest), Vec<IntakeError>> {
    if let Some(relay_state) = input.relay_state {
        codec::check_relay_state(relay_state, limits).map_err(|e| vec![codec_error(&e)])?;
    }
    let xml = codec::decode(input.saml_request, limits).map_err(|e| vec![codec_error(&e)])?;
    let doc = XmlDoc::parse(&xml, &reader_limits(limits)).map_err(|e| vec![xml_error(&e)])?;
    let refused = |code| Err(vec![IntakeError::new(code)]);
    match authn_request::kind(&doc) {
        MessageKind::AuthnRequest => {}
        MessageKind::Both => return refused(IntakeCode::BothAuthAndLogoutRequest),
        MessageKind::Neither => return refused(IntakeCode::NoAuthOrLogoutRequest),
        MessageKind::LogoutRequest => {
            return Err(vec![IntakeError::with_detail(
                IntakeCode::MalformedRequest,
                "a LogoutRequest was sent to the sign-in endpoint; send it to the logout endpoint",
            )])
        }
    }
    let request = authn_request::read(&doc).map_err(|e| vec![structure_error(&e)])?;
    Ok((doc, request))
}

/// A request whose structure breaks a rule: `malformed_request`, detail in fixed words.
pub(super) fn structure_error(e: &AuthnRequestError) -> IntakeError {
    tracing::debug!(error = %e, "malformed request");
    IntakeError::with_detail(IntakeCode::MalformedRequest, e.public_detail())
}

pub(super) fn codec_error(e: &CodecError) -> IntakeError {
    let code = if e.is_too_large() {
        IntakeCode::RequestTooLarge
    } else {
        IntakeCode::MalformedRequest
    };
    tracing::debug!(error = %e, "undecodable request");
    IntakeError::with_detail(code, e.public_detail())
}

pub(super) fn xml_error(e: &XmlDocError) -> IntakeError {
    let too_large = matches!(
        e,
        XmlDocError::Refused(
            XmlError::TooLarge { .. }
                | XmlError::TooDeep { .. }
                | XmlError::TooManyAttributes { .. }
        )
    );
    let code = if too_large {
        IntakeCode::RequestTooLarge
    } else {
        IntakeCode::MalformedRequest
    };
    // The parser's own message may quote the request: the log only, never the page.
    tracing::debug!(error = %e, "unparseable request");
    IntakeError::with_detail(code, e.public_detail())
}

/// What `check_signatures` found.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Signatures {
    /// Index into `sp.certs` of the certificate that verified the message.
    pub matching: Option<usize>,
    /// An embedded or query signature was present (valid or not).
    pub signed: bool,
}

/// Embedded and query signatures; returns the matching certificate and whether the message
/// was signed at all. `required`: an unsigned message is `signature_required`.
pub(super) fn check_signatures(
    doc: &XmlDoc,
    query: Option<&RawSignedQuery<'_>>,
    sp: &ServiceProvider,
    required: bool,
    errors: &mut Vec<IntakeError>,
) -> Signatures {
    let embedded = xml_verify::verify_root(doc, &sp.certs);
    if let Err(e) = xml_verify::check_key_info(doc, &sp.certs) {
        errors.push(embedded_error(&e));
    }
    let query = query.map(|q| query_signature::verify(q, &sp.certs));
    let mut matching = None;
    let mut signed = false;
    match embedded {
        Ok(Signed::No) => {}
        Ok(Signed::Yes { certificate }) => {
            signed = true;
            matching = Some(certificate);
        }
        Err(e) => {
            signed = true;
            errors.push(embedded_error(&e));
        }
    }
    match query {
        None | Some(Ok(None)) => {}
        Some(Ok(Some(certificate))) => {
            signed = true;
            matching = matching.or(Some(certificate));
        }
        Some(Err(e)) => {
            signed = true;
            errors.push(query_error(&e));
        }
    }
    if !signed && required {
        errors.push(IntakeError::new(IntakeCode::SignatureRequired));
    }
    if let (Some(index), Some(cert)) = (matching, matching.and_then(|i| sp.certs.get(i))) {
        tracing::info!(issuer = %sp.issuer, certificate = index, serial = %cert.serial_hex(), "request signature verified");
    }
    Signatures { matching, signed }
}

fn embedded_error(e: &SignatureError) -> IntakeError {
    let code = match e {
        SignatureError::BlankCertificate => IntakeCode::BlankCertElementReq,
        SignatureError::CertificateNotRegistered => IntakeCode::RequestCertNotRegistered,
        SignatureError::NoCertificates => IntakeCode::NoCertRegistered,
        SignatureError::Structure(_)
        | SignatureError::WrongAlgorithm(_)
        | SignatureError::NoMatchingCertificate => IntakeCode::InvalidSignature,
    };
    IntakeError::with_detail(code, e.detail())
}

fn query_error(e: &QuerySignatureError) -> IntakeError {
    let code = match e {
        QuerySignatureError::NoCertificates => IntakeCode::NoCertRegistered,
        _ => IntakeCode::InvalidSignature,
    };
    IntakeError::with_detail(code, e.detail())
}

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

/// The Destination must be exactly the endpoint that received the message; a signed message
/// must carry one (SAML bindings 3.4.5.2 / 3.5.5.2), an unsigned one may omit it.
pub(super) fn check_destination(
    destination: Option<&str>,
    endpoint: &str,
    signed: bool,
    errors: &mut Vec<IntakeError>,
) {
    let ok = match destination {
        Some(destination) => destination == endpoint,
        None => !signed,
    };
    if !ok {
        errors.push(IntakeError::new(IntakeCode::DestinationMismatch));
    }
}

fn check_authn_context(
    request: &AuthnRequest,
    sp: &ServiceProvider,
    settings: &SsoSettings<'_>,
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
