//! Logout requests (SPEC 9): front-channel through the browser and back-channel from the
//! SP's server. Both need a known SP, a valid signature from one of its certificates, the
//! structure and `IssueInstant` window of SPEC 4, and a `Destination` that is the endpoint
//! that received them; front-channel also needs a registered logout URL, remote logout a
//! request ID never seen before and the user's agency UUID in `SessionIndex`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::freshness;
use super::intake_error::{IntakeCode, IntakeError};
use super::intake_facts::{IntakeFacts, SignatureVerdict};
use super::sp_cache::SpCache;
use super::sso::{
    check_destination, check_signatures, codec_error, reader_limits, structure_error, xml_error,
};
use crate::crypto::query_signature::RawSignedQuery;
use crate::registry::ServiceProvider;
use crate::saml::authn_request::{self, MessageKind};
use crate::saml::codec::{self, Limits};
use crate::saml::logout_request::{self, LogoutRequest};
use crate::saml::xml_doc::XmlDoc;
use crate::sessions::{AuditEvent, ReplayCache, SessionError};

use super::response::{wrap, Envelope};
use super::{Deps, Error};
use crate::saml::SamlYear;
use crate::sessions::purge::REPLAY_FORGET_MINUTES;
pub use freshness::{MAX_AGE_MINUTES, MAX_SKEW_MINUTES};

/// Which logout endpoint received the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `/api/saml/logout{YEAR}`, through the browser.
    Front,
    /// `/api/saml/remotelogout{YEAR}`, server to server.
    Remote,
}

/// The endpoint that received a LogoutRequest, and when.
#[derive(Debug, Clone, Copy)]
pub struct Receiver<'a> {
    pub entity_id: &'a str,
    pub year: SamlYear,
    pub channel: Channel,
    pub now: DateTime<Utc>,
    pub limits: &'a Limits,
}

impl Receiver<'_> {
    /// The `Destination` a request to this endpoint must carry.
    fn endpoint(&self) -> String {
        let path = match self.channel {
            Channel::Front => "logout",
            Channel::Remote => "remotelogout",
        };
        format!("{}/{path}{}", self.entity_id, self.year)
    }
}

#[derive(Debug, Clone)]
pub struct VerifiedLogoutRequest {
    pub request: LogoutRequest,
    pub sp: Arc<ServiceProvider>,
    /// The SP's registered logout URL: where a front-channel LogoutResponse goes. Always
    /// present for front-channel requests; remote logout does not need one (SPEC 9).
    pub logout_url: Option<String>,
}

/// Decodes, parses and verifies a LogoutRequest; every problem is reported.
pub fn intake(
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    receiver: &Receiver<'_>,
    sps: &SpCache,
) -> Result<VerifiedLogoutRequest, Vec<IntakeError>> {
    intake_with_facts(
        saml_request,
        query,
        receiver,
        sps,
        &mut IntakeFacts::default(),
    )
}

/// `intake`, also recording in `facts` the issuer, its SP and the signature verdict (for
/// the decode tool, which reports them without verifying again).
pub fn intake_with_facts(
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    receiver: &Receiver<'_>,
    sps: &SpCache,
    facts: &mut IntakeFacts,
) -> Result<VerifiedLogoutRequest, Vec<IntakeError>> {
    let limits = receiver.limits;
    let xml = codec::decode(saml_request, limits).map_err(|e| vec![codec_error(&e)])?;
    let doc = XmlDoc::parse(&xml, &reader_limits(limits)).map_err(|e| vec![xml_error(&e)])?;
    match authn_request::kind(&doc) {
        MessageKind::LogoutRequest => {}
        MessageKind::Both => {
            return Err(vec![IntakeError::new(IntakeCode::BothAuthAndLogoutRequest)])
        }
        MessageKind::Neither => {
            return Err(vec![IntakeError::new(IntakeCode::NoAuthOrLogoutRequest)])
        }
        MessageKind::AuthnRequest => {
            let detail =
                "an AuthnRequest was sent to the logout endpoint; send it to the sign-in endpoint";
            return Err(vec![IntakeError::with_detail(
                IntakeCode::MalformedRequest,
                detail,
            )]);
        }
    }
    let request = logout_request::read(&doc).map_err(|e| vec![structure_error(&e)])?;
    let issuer = request
        .issuer
        .clone()
        .ok_or_else(|| vec![IntakeError::new(IntakeCode::IssuerMissingOrInvalid)])?;
    facts.issuer = Some(issuer.clone());
    let sp = sps
        .get(&issuer)
        .ok_or_else(|| vec![IntakeError::new(IntakeCode::UnauthorizedServiceProvider)])?;
    let mut errors = Vec::new();
    let signatures = check_signatures(&doc, query, &sp, true, &mut errors);
    facts.sp = Some(sp.clone());
    facts.signature = SignatureVerdict::from_check(signatures.matching, &errors, &sp);
    if receiver.channel == Channel::Front && sp.logout_url.is_none() {
        errors.push(IntakeError::new(IntakeCode::NoResponseUrl));
    }
    check_destination(
        request.destination.as_deref(),
        &receiver.endpoint(),
        signatures.signed,
        &mut errors,
    );
    freshness::check(request.issue_instant, receiver.now, &mut errors);
    if errors.is_empty() {
        let logout_url = sp.logout_url.clone();
        Ok(VerifiedLogoutRequest {
            request,
            sp,
            logout_url,
        })
    } else {
        errors.sort_by_key(|e| e.code);
        errors.dedup_by(|a, b| a == b);
        Err(errors)
    }
}

/// Why a remote logout is refused; the HTTP answer is the same (400, empty) for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteRefusal {
    Replayed,
    NoSessionIndex,
    Storage(String),
}

impl From<SessionError> for RemoteRefusal {
    fn from(e: SessionError) -> Self {
        RemoteRefusal::Storage(e.0)
    }
}

/// The remote-only rules after intake (which already refused a stale `IssueInstant`, so an
/// ID is remembered for longer than any request carrying it is accepted): replay and
/// SessionIndex. Returns the SessionIndex.
pub fn check_remote(
    request: &LogoutRequest,
    issuer: &str,
    now: DateTime<Utc>,
    replay: &dyn ReplayCache,
) -> Result<String, RemoteRefusal> {
    let forget_before = now - Duration::minutes(REPLAY_FORGET_MINUTES);
    if !replay.first_use(issuer, &request.id, now, forget_before)? {
        return Err(RemoteRefusal::Replayed);
    }
    request
        .session_index
        .clone()
        .ok_or(RemoteRefusal::NoSessionIndex)
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
        .ok_or(Error::Sp(super::SpProblem::YearNotLive))?;
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

/// A verified front-channel LogoutRequest's answer: the LogoutResponse and where it goes.
pub struct FrontChannel {
    pub xml: Vec<u8>,
    pub logout_url: String,
}

/// Front-channel logout (SPEC 9): verify, audit, and build the LogoutResponse; the caller
/// ends the browser's session only when this succeeds (a refused request leaves the user
/// signed in). `Ok(Err(errors))` is a refused request.
pub fn front_channel(
    deps: &Deps<'_>,
    year: SamlYear,
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    limits: &Limits,
) -> Result<Result<FrontChannel, Vec<IntakeError>>, Error> {
    let receiver = Receiver {
        entity_id: deps.entity_id,
        year,
        channel: Channel::Front,
        now: deps.now,
        limits,
    };
    let verified = intake(saml_request, query, &receiver, deps.sps);
    let event = AuditEvent {
        event: "Logout Initiated".into(),
        issuer: verified.as_ref().ok().map(|v| v.sp.issuer.clone()),
        user_public_id: None,
        success: verified.is_ok(),
        detail: verified.as_ref().err().map(|e| {
            e.iter()
                .map(|i| i.code.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }),
    };
    deps.audit.record(&event, deps.now)?;
    Ok(match verified {
        Ok(v) => match v.logout_url.clone() {
            Some(logout_url) => Ok(FrontChannel {
                xml: logout_response(deps, year, &v)?,
                logout_url,
            }),
            // Front-channel intake refuses an SP without a logout URL.
            None => Err(vec![IntakeError::new(IntakeCode::NoResponseUrl)]),
        },
        Err(errors) => Err(errors),
    })
}

/// What the back channel answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteAnswer {
    /// Every check passed and the user's sessions ended: the signed LogoutResponse.
    Accepted(Vec<u8>),
    /// The request was refused (400 with an empty body).
    Refused,
    /// The database could not be reached: nothing was decided (503, the SP may retry).
    Unavailable,
}

/// Back-channel logout (SPEC 9). The user lookup runs whether or not the earlier checks
/// passed, so the timing does not tell whether a UUID exists.
pub fn remote(
    deps: &Deps<'_>,
    year: SamlYear,
    saml_request: &str,
    limits: &Limits,
) -> RemoteAnswer {
    let receiver = Receiver {
        entity_id: deps.entity_id,
        year,
        channel: Channel::Remote,
        now: deps.now,
        limits,
    };
    // Embedded signatures only: the body is posted server to server.
    let intake_result = intake(saml_request, None, &receiver, deps.sps);
    let refused_codes = intake_result
        .as_ref()
        .err()
        .map(|errors| super::audit::codes(errors));
    let verified = intake_result.ok();
    let checked = verified
        .as_ref()
        .map(|v| check_remote(&v.request, &v.sp.issuer, deps.now, deps.replay));
    let (agency, index) = match (&verified, &checked) {
        (Some(v), Some(Ok(index))) => (v.sp.agency_key(), index.clone()),
        _ => ("agency:-".to_string(), "-".to_string()),
    };
    let lookup = deps.identities.user_for_agency_uuid(&agency, &index);
    let unreachable = lookup.is_err();
    let user = lookup.ok().flatten();
    // Why it was refused, in fixed words (SPEC 12): the intake codes, or the remote rule.
    let reason = match (&refused_codes, &checked, user) {
        (Some(codes), _, _) => codes.clone(),
        (None, Some(Err(RemoteRefusal::Replayed)), _) => "replayed_request".into(),
        (None, Some(Err(RemoteRefusal::NoSessionIndex)), _) => "no_session_index".into(),
        (None, Some(Err(RemoteRefusal::Storage(_))), _) => "storage_unavailable".into(),
        (None, _, None) if unreachable => "storage_unavailable".into(),
        (None, _, None) => "unknown_session_index".into(),
        (None, _, Some(_)) => "accepted".into(),
    };
    let issuer = verified.as_ref().map(|v| v.sp.issuer.clone());
    let event = |name: &str, success: bool, detail: &str| AuditEvent {
        event: name.into(),
        issuer: issuer.clone(),
        user_public_id: None,
        success,
        detail: Some(detail.into()),
    };
    let accepted = reason == "accepted";
    let _ = deps.audit.record(
        &event("Remote Logout initiated", accepted, &reason),
        deps.now,
    );
    if reason == "storage_unavailable" {
        return RemoteAnswer::Unavailable;
    }
    let (Some(verified), Some(user)) = (verified, user) else {
        return RemoteAnswer::Refused;
    };
    if !accepted {
        return RemoteAnswer::Refused;
    }
    if deps.sessions.delete_for_user(user).is_err() {
        return RemoteAnswer::Unavailable;
    }
    let _ = deps.audit.record(
        &event("Remote Logout completed", true, "sessions_ended"),
        deps.now,
    );
    match logout_response(deps, year, &verified) {
        Ok(xml) => RemoteAnswer::Accepted(xml),
        Err(_) => RemoteAnswer::Refused,
    }
}
