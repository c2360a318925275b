//! Intake (SPEC 3–5, 9): every incoming request, AuthnRequest or LogoutRequest, passes the
//! same pipeline, written once here: decode within limits, parse one libxml2 document,
//! classify its root, read the message from that root, find the SP by the root's Issuer,
//! verify signatures against its registered certificates only, then `Destination` and the
//! `IssueInstant` window. The message's own rules follow in [`authn`] and [`logout`], which
//! alone build the sealed verified types. Errors are collected in catalogue order.
//! Blocking (libxml2/xmlsec): run inside one blocking task.

pub mod authn;
pub mod catalogue;
pub mod facts;
pub mod freshness;
pub mod logout;
mod signatures;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use catalogue::{IntakeCode, IntakeError};
pub use facts::{IntakeFacts, SignatureVerdict};
pub use signatures::Signatures;

use crate::crypto::query_signature::RawSignedQuery;
use crate::registry::ServiceProvider;
use crate::saml::codec::{self, CodecError, Limits};
use crate::saml::request_root::{self, MessageKind, RequestError};
use crate::saml::xml_doc::{XmlDoc, XmlDocError};
use crate::saml::xml_reader::{self, XmlError};
use crate::saml::SamlYear;

use super::sp_cache::SpCache;

/// One incoming message, either binding.
#[derive(Debug, Clone, Default)]
pub struct Inbound<'a> {
    /// The `SAMLRequest` value, form-decoded.
    pub saml_request: &'a str,
    /// `RelayState`, form-decoded, when the endpoint checks it.
    pub relay_state: Option<&'a str>,
    /// The Redirect-binding signature parameters as received, when any were sent.
    pub query: Option<RawSignedQuery<'a>>,
    /// How the message came (for the audit trail).
    pub binding: crate::sessions::Binding,
}

/// The endpoint that received a message, and when.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    /// `{base_url}/api/saml`.
    pub entity_id: &'a str,
    /// `auth`, `logout` or `remotelogout`.
    pub path: &'static str,
    pub year: SamlYear,
    pub now: DateTime<Utc>,
    pub limits: &'a Limits,
}

impl Endpoint<'_> {
    /// The `Destination` a message to this endpoint must carry (SAML bindings 3.4.5.2 /
    /// 3.5.5.2).
    pub fn url(&self) -> String {
        format!("{}/{}{}", self.entity_id, self.path, self.year)
    }
}

/// A request message read from the root of its parsed document.
pub trait Message: Sized {
    /// The root this endpoint accepts.
    const KIND: MessageKind;
    /// The detail when the other kind of request arrives here.
    const MISDIRECTED: &'static str;
    fn read(doc: &XmlDoc) -> Result<Self, RequestError>;
    fn issuer(&self) -> Option<&str>;
    fn destination(&self) -> Option<&str>;
    fn issue_instant(&self) -> DateTime<Utc>;
}

/// Implements [`Message`] for a request type whose root fields are named alike (`issuer`,
/// `destination`, `issue_instant`): its kind, the detail when the other kind arrives, and
/// its reader.
macro_rules! message {
    ($ty:ty, $kind:expr, $misdirected:expr, $read:path) => {
        impl $crate::idp::intake::Message for $ty {
            const KIND: $crate::saml::request_root::MessageKind = $kind;
            const MISDIRECTED: &'static str = $misdirected;

            fn read(
                doc: &$crate::saml::xml_doc::XmlDoc,
            ) -> Result<Self, $crate::saml::request_root::RequestError> {
                $read(doc)
            }

            fn issuer(&self) -> Option<&str> {
                self.issuer.as_deref()
            }

            fn destination(&self) -> Option<&str> {
                self.destination.as_deref()
            }

            fn issue_instant(&self) -> chrono::DateTime<chrono::Utc> {
                self.issue_instant
            }
        }
    };
}
use message;

/// A message past the common checks: its registered SP, what its signatures came to, and
/// the errors found so far (the message's own checks add theirs).
#[derive(Debug)]
pub struct Received<M> {
    pub message: M,
    pub sp: Arc<ServiceProvider>,
    pub signatures: Signatures,
    pub errors: Vec<IntakeError>,
}

/// The common pipeline. `Err` ends intake at once (nothing to check further: undecodable,
/// unparseable, the wrong message, no Issuer, an unknown SP). `signature_required` says
/// whether this SP's unsigned messages are refused here.
pub fn receive<M: Message>(
    input: &Inbound<'_>,
    endpoint: &Endpoint<'_>,
    sps: &SpCache,
    signature_required: fn(&ServiceProvider) -> bool,
    facts: &mut IntakeFacts,
) -> Result<Received<M>, Vec<IntakeError>> {
    let (doc, message) = parse::<M>(input, endpoint.limits)?;
    let issuer = message
        .issuer()
        .ok_or_else(|| vec![IntakeError::new(IntakeCode::IssuerMissingOrInvalid)])?;
    facts.issuer = Some(issuer.to_string());
    let sp = sps
        .get(issuer)
        .ok_or_else(|| vec![IntakeError::new(IntakeCode::UnauthorizedServiceProvider)])?;
    let mut errors = Vec::new();
    let required = signature_required(&sp);
    let signatures = signatures::check(&doc, input.query.as_ref(), &sp, required, &mut errors);
    facts.sp = Some(sp.clone());
    facts.signature = SignatureVerdict::from_check(signatures.matching, &errors, &sp);
    check_destination(
        message.destination(),
        &endpoint.url(),
        signatures.signed,
        &mut errors,
    );
    freshness::check(message.issue_instant(), endpoint.now, &mut errors);
    Ok(Received {
        message,
        sp,
        signatures,
        errors,
    })
}

/// Every error once, in catalogue order.
pub fn in_catalogue_order(mut errors: Vec<IntakeError>) -> Vec<IntakeError> {
    errors.sort_by_key(|e| e.code);
    errors.dedup_by(|a, b| a == b);
    errors
}

/// The parser's limits from the configured ones.
pub fn reader_limits(limits: &Limits) -> xml_reader::Limits {
    xml_reader::Limits {
        max_bytes: limits.inflated,
        max_depth: limits.depth,
        max_attributes: limits.attributes,
    }
}

/// Decoding, parsing and the message kind: any failure here ends intake.
fn parse<M: Message>(
    input: &Inbound<'_>,
    limits: &Limits,
) -> Result<(XmlDoc, M), Vec<IntakeError>> {
    if let Some(relay_state) = input.relay_state {
        codec::check_relay_state(relay_state, limits).map_err(|e| vec![codec_error(&e)])?;
    }
    let xml = codec::decode(input.saml_request, limits).map_err(|e| vec![codec_error(&e)])?;
    let doc = XmlDoc::parse(&xml, &reader_limits(limits)).map_err(|e| vec![xml_error(&e)])?;
    let refused = |code| vec![IntakeError::new(code)];
    match request_root::kind(&doc) {
        kind if kind == M::KIND => {}
        MessageKind::Both => return Err(refused(IntakeCode::BothAuthAndLogoutRequest)),
        MessageKind::Neither => return Err(refused(IntakeCode::NoAuthOrLogoutRequest)),
        MessageKind::AuthnRequest | MessageKind::LogoutRequest => {
            let code = IntakeCode::MalformedRequest;
            return Err(vec![IntakeError::with_detail(code, M::MISDIRECTED)]);
        }
    }
    let message = M::read(&doc).map_err(|e| vec![structure_error(&e)])?;
    Ok((doc, message))
}

/// A request whose structure breaks a rule: `malformed_request`, detail in fixed words.
fn structure_error(e: &RequestError) -> IntakeError {
    tracing::debug!(error = %e, "malformed request");
    IntakeError::with_detail(IntakeCode::MalformedRequest, e.public_detail())
}

fn codec_error(e: &CodecError) -> IntakeError {
    let code = if e.is_too_large() {
        IntakeCode::RequestTooLarge
    } else {
        IntakeCode::MalformedRequest
    };
    tracing::debug!(error = %e, "undecodable request");
    IntakeError::with_detail(code, e.public_detail())
}

fn xml_error(e: &XmlDocError) -> IntakeError {
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

/// The Destination must be exactly the endpoint that received the message; a signed message
/// must carry one (SAML bindings 3.4.5.2 / 3.5.5.2), an unsigned one may omit it.
fn check_destination(
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
