//! Logout requests (SPEC 9): front-channel through the browser and back-channel from the
//! SP's server. Both need a known SP with a registered logout URL and a valid signature from
//! one of its certificates; remote logout also needs a fresh `IssueInstant`, a request ID
//! never seen before, and the user's agency UUID in `SessionIndex`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::intake_error::{IntakeCode, IntakeError};
use super::intake_facts::{IntakeFacts, SignatureVerdict};
use super::sp_cache::SpCache;
use super::sso::{check_signatures, codec_error, reader_limits, xml_error};
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

/// How old a remote LogoutRequest may be, and how far in the future (clock skew).
pub const MAX_AGE_MINUTES: i64 = 10;
pub const MAX_SKEW_MINUTES: i64 = 3;
// An ID may be forgotten (by `first_use` or the purge) only once any request carrying it
// is refused as stale: a minute more than the window and the skew together.
const _: () = assert!(REPLAY_FORGET_MINUTES == MAX_AGE_MINUTES + MAX_SKEW_MINUTES + 1);

#[derive(Debug, Clone)]
pub struct VerifiedLogoutRequest {
    pub request: LogoutRequest,
    pub sp: Arc<ServiceProvider>,
    /// The SP's registered logout URL: where the LogoutResponse goes.
    pub logout_url: String,
}

/// Decodes, parses and verifies a LogoutRequest; every problem is reported.
pub fn intake(
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    limits: &Limits,
    sps: &SpCache,
) -> Result<VerifiedLogoutRequest, Vec<IntakeError>> {
    intake_with_facts(
        saml_request,
        query,
        limits,
        sps,
        &mut IntakeFacts::default(),
    )
}

/// `intake`, also recording in `facts` the issuer, its SP and the signature verdict (for
/// the decode tool, which reports them without verifying again).
pub fn intake_with_facts(
    saml_request: &str,
    query: Option<&RawSignedQuery<'_>>,
    limits: &Limits,
    sps: &SpCache,
    facts: &mut IntakeFacts,
) -> Result<VerifiedLogoutRequest, Vec<IntakeError>> {
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
    let request = logout_request::read(&doc).map_err(|e| {
        vec![IntakeError::with_detail(
            IntakeCode::MalformedRequest,
            e.to_string(),
        )]
    })?;
    let issuer = request
        .issuer
        .clone()
        .ok_or_else(|| vec![IntakeError::new(IntakeCode::IssuerMissingOrInvalid)])?;
    facts.issuer = Some(issuer.clone());
    let sp = sps
        .get(&issuer)
        .ok_or_else(|| vec![IntakeError::new(IntakeCode::UnauthorizedServiceProvider)])?;
    let mut errors = Vec::new();
    let matching = check_signatures(&doc, query, &sp, true, &mut errors);
    facts.sp = Some(sp.clone());
    facts.signature = SignatureVerdict::from_check(matching, &errors, &sp);
    if sp.logout_url.is_none() {
        errors.push(IntakeError::new(IntakeCode::NoResponseUrl));
    }
    match (errors.is_empty(), sp.logout_url.clone()) {
        (true, Some(logout_url)) => Ok(VerifiedLogoutRequest {
            request,
            sp,
            logout_url,
        }),
        _ => {
            errors.sort_by_key(|e| e.code);
            Err(errors)
        }
    }
}

/// Why a remote logout is refused; the HTTP answer is the same (400, empty) for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteRefusal {
    Stale,
    Replayed,
    NoSessionIndex,
    Storage(String),
}

impl From<SessionError> for RemoteRefusal {
    fn from(e: SessionError) -> Self {
        RemoteRefusal::Storage(e.0)
    }
}

/// The remote-only rules: freshness, replay, SessionIndex. Returns the SessionIndex.
pub fn check_remote(
    request: &LogoutRequest,
    issuer: &str,
    now: DateTime<Utc>,
    replay: &dyn ReplayCache,
) -> Result<String, RemoteRefusal> {
    let issued = request
        .issue_instant
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or(RemoteRefusal::Stale)?;
    if issued < now - Duration::minutes(MAX_AGE_MINUTES)
        || issued > now + Duration::minutes(MAX_SKEW_MINUTES)
    {
        return Err(RemoteRefusal::Stale);
    }
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
        destination: &v.logout_url,
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
    let verified = intake(saml_request, query, limits, deps.sps);
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
        Ok(v) => Ok(FrontChannel {
            xml: logout_response(deps, year, &v)?,
            logout_url: v.logout_url,
        }),
        Err(errors) => Err(errors),
    })
}

/// Back-channel logout (SPEC 9): the LogoutResponse when every check passes and the user's
/// sessions ended; None otherwise. The user lookup runs whether or not the earlier checks
/// passed, so the timing does not tell whether a UUID exists.
pub fn remote(
    deps: &Deps<'_>,
    year: SamlYear,
    saml_request: &str,
    limits: &Limits,
) -> Option<Vec<u8>> {
    // Embedded signatures only: the body is posted server to server.
    let verified = intake(saml_request, None, limits, deps.sps).ok();
    let checked = verified
        .as_ref()
        .map(|v| check_remote(&v.request, &v.sp.issuer, deps.now, deps.replay));
    let (agency, index) = match (&verified, &checked) {
        (Some(v), Some(Ok(index))) => (v.sp.agency_key(), index.clone()),
        _ => ("agency:-".to_string(), "-".to_string()),
    };
    let user = deps
        .identities
        .user_for_agency_uuid(&agency, &index)
        .ok()
        .flatten();
    let issuer = verified.as_ref().map(|v| v.sp.issuer.clone());
    let event = |name: &str, success: bool| AuditEvent {
        event: name.into(),
        issuer: issuer.clone(),
        user_public_id: None,
        success,
        detail: None,
    };
    let _ = deps.audit.record(
        &event("Remote Logout initiated", verified.is_some()),
        deps.now,
    );
    let (verified, user) = (verified?, user?);
    checked?.ok()?;
    deps.sessions.delete_for_user(user).ok()?;
    let _ = deps
        .audit
        .record(&event("Remote Logout completed", true), deps.now);
    logout_response(deps, year, &verified).ok()
}
