//! The pending request: a verified AuthnRequest stored server-side while the user signs in
//! (SPEC 7, 13). The browser holds a random 256-bit token in a cookie; the store keeps only
//! its SHA-256, so a database read does not yield usable cookies.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::idp::intake::authn::{NameIdFormat, VerifiedAuthnRequest};
use crate::saml::authn_context::AuthnContext;
use crate::saml::SamlYear;

/// How long a pending request waits for the user (the idle timeout of a session, SPEC 7).
pub const PENDING_LIFETIME_MINUTES: i64 = 15;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("pending request store failed: {0}")]
pub struct PendingError(pub String);

/// Everything the later steps (sign-in, consent, response) need from the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    pub issuer: String,
    pub request_id: String,
    /// The year of the endpoint the request came in on: it selects the signing key.
    pub year: u16,
    pub acs_url: String,
    pub relay_state: Option<String>,
    pub authn_context: AuthnContext,
    pub email_name_id: bool,
    pub force_authn: bool,
    pub is_passive: bool,
    /// SHA-256 fingerprint of the registered certificate that verified the request: the
    /// encryption target, found again by value at hand-off (an index would silently point
    /// at another certificate after a reordering).
    #[serde(default)]
    pub matching_certificate: Option<String>,
    pub received_at: DateTime<Utc>,
}

impl PendingRequest {
    pub fn from_verified(v: &VerifiedAuthnRequest, year: SamlYear, now: DateTime<Utc>) -> Self {
        PendingRequest {
            issuer: v.sp.issuer.clone(),
            request_id: v.request.id.clone(),
            year: year.value(),
            acs_url: v.acs_url.clone(),
            relay_state: v.relay_state.clone(),
            authn_context: v.authn_context.clone(),
            email_name_id: v.name_id_format == NameIdFormat::Email,
            force_authn: v.request.force_authn,
            is_passive: v.request.is_passive,
            matching_certificate: v
                .matching_certificate
                .and_then(|i| v.sp.certs.get(i))
                .map(|c| c.sha256_fingerprint().to_string()),
            received_at: now,
        }
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        self.received_at + Duration::minutes(PENDING_LIFETIME_MINUTES)
    }
}

/// Where pending requests live (the database, so every node can resume them).
pub trait PendingStore: Send + Sync {
    /// Stores the request under `token_hash`. A request with the issuer and ID of a stored
    /// one (a replay) replaces it, under the new token: one row per request (SPEC 7).
    fn put(&self, token_hash: &str, pending: &PendingRequest) -> Result<(), PendingError>;
    /// The request if it exists and has not expired at `now`.
    fn get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRequest>, PendingError>;
    /// Deletes the request: true for exactly one caller, on any node. A hand-off or Cancel
    /// that gets false must not act (the request was already used).
    fn take(&self, token_hash: &str) -> Result<bool, PendingError>;
    fn count(&self) -> Result<i64, PendingError>;
}
