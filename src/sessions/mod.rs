//! Browser sessions and the other per-user state the SAML flow keeps in the database (SPEC 7,
//! 13): sessions (cookie token stored only as its SHA-256), remembered browsers, agency
//! identities, consent, audit events and rate-limit counters. All in the database, so any
//! node can serve any step.

pub mod audit_buffer;
pub mod audit_kind;
pub mod purge;
pub mod signed_in;

pub use audit_kind::AuditKind;

use chrono::{DateTime, Utc};
use thiserror::Error;

/// A session ends after this long without a request (SPEC 7).
pub const IDLE_MINUTES: i64 = 15;
/// ... and after this long in any case.
pub const ABSOLUTE_HOURS: i64 = 12;
/// "Remember this browser" lasts this long.
pub const REMEMBER_DAYS: i64 = 30;
/// Connected-service times (`IdentityStore::record_authentication`) are kept to this
/// precision: a sign-in to the same SP within it leaves the stored time as it is.
pub const AUTHENTICATED_AT_PRECISION_SECONDS: i64 = 60;
/// A store drops old replay-cache entries (`ReplayCache::first_use`) at most this often
/// (the purge drops them too); in between, `first_use` only records.
pub const FORGET_EVERY_SECONDS: i64 = 30;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("session storage failed: {0}")]
pub struct SessionError(pub String);

/// How the second factor was satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaMethod {
    Totp,
    BackupCode,
    /// A WebAuthn security key or platform authenticator: phishing resistant, AAL2.
    SecurityKey,
    /// AAL3 (SPEC 18): an assertion with user verification (PIN or biometric) from a key
    /// that is not backup eligible and whose attestation chained to a configured root.
    SecurityKeyVerified,
}

impl MfaMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            MfaMethod::Totp => "totp",
            MfaMethod::BackupCode => "backup_code",
            MfaMethod::SecurityKey => "security_key",
            MfaMethod::SecurityKeyVerified => "security_key_aal3",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "totp" => Some(MfaMethod::Totp),
            "backup_code" => Some(MfaMethod::BackupCode),
            "security_key" => Some(MfaMethod::SecurityKey),
            // Before SPEC 18's attestation check, any key with user verification wrote
            // this word: such a session is AAL2 only.
            "security_key_uv" => Some(MfaMethod::SecurityKey),
            "security_key_aal3" => Some(MfaMethod::SecurityKeyVerified),
            _ => None,
        }
    }

    /// Satisfies `aal/2?phishing_resistant=true` (SPEC 18): the key signs for the origin.
    pub fn is_phishing_resistant(self) -> bool {
        matches!(
            self,
            MfaMethod::SecurityKey | MfaMethod::SecurityKeyVerified
        )
    }

    /// Satisfies `aal/3`: a hardware-bound key that verified its user.
    pub fn is_aal3(self) -> bool {
        self == MfaMethod::SecurityKeyVerified
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub token_hash: String,
    pub user_id: Option<i64>,
    pub csrf_token: String,
    /// When the password was verified in this session.
    pub password_at: Option<DateTime<Utc>>,
    /// When a second factor was verified in this session.
    pub mfa_at: Option<DateTime<Utc>>,
    pub mfa_method: Option<MfaMethod>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Wrong second-factor codes entered in this session (SPEC 7: per-session limit).
    pub failed_attempts: i32,
}

/// One audit event; never holds PII (SPEC 12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub event: AuditKind,
    pub issuer: Option<String>,
    pub user_public_id: Option<String>,
    pub success: bool,
    pub detail: Option<String>,
    /// How many times it happened: 1, or, for refused SAML requests audited in aggregate
    /// (SPEC 7: the same client, code and SP within a minute), how many there were.
    pub count: u32,
    /// The binding of a SAML message; `None` for every other event.
    pub binding: Option<Binding>,
    /// A refused SAML request's short reference, shown on its error page and found by
    /// `saml-idp events --id` (SPEC 15); `None` for every other event.
    pub reference: Option<String>,
}

/// How a SAML message reached the IdP (SAML bindings §3.4, §3.5; SOAP-like back channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Binding {
    /// HTTP-Redirect: `GET ?SAMLRequest=` (deflated).
    #[default]
    Redirect,
    /// HTTP-POST: a form from the browser.
    Post,
    /// A server-to-server POST (remote logout).
    BackChannel,
}

impl Binding {
    pub const fn as_str(self) -> &'static str {
        match self {
            Binding::Redirect => "redirect",
            Binding::Post => "post",
            Binding::BackChannel => "back-channel",
        }
    }

    /// The binding of a stored name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Binding> {
        [Binding::Redirect, Binding::Post, Binding::BackChannel]
            .into_iter()
            .find(|b| b.as_str() == name)
    }
}

/// An audit event as stored, with its time (the account page's recent events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub event: AuditEvent,
    pub at: DateTime<Utc>,
}

/// What a user consented to share with one SP, and when they last signed in to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    pub issuer: String,
    pub attributes: Vec<String>,
    pub consented_at: DateTime<Utc>,
    pub last_authenticated_at: Option<DateTime<Utc>>,
}

pub trait SessionStore: Send + Sync {
    fn create(&self, session: &SessionRecord) -> Result<(), SessionError>;
    /// The session if it exists, `expires_at > now` and `last_seen_at > idle_cutoff`.
    fn get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, SessionError>;
    fn touch(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), SessionError>;
    /// Records a verified password for `user_id`; clears any earlier second factor.
    fn set_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError>;
    fn set_mfa(
        &self,
        token_hash: &str,
        method: MfaMethod,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError>;
    fn delete(&self, token_hash: &str) -> Result<(), SessionError>;
    /// Records that the user of this session typed the password again (re-authentication on
    /// the account page), keeping the second factor; false if the session is gone or is
    /// another user's.
    fn refresh_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, SessionError>;
    /// Ends every session of a user but `keep` (a password change); returns how many.
    fn delete_others_for_user(&self, user_id: i64, keep: &str) -> Result<usize, SessionError>;
    /// Counts a failed attempt in this session; the new count (0 if the session is gone).
    fn record_failure(&self, token_hash: &str) -> Result<i32, SessionError>;
    /// Ends the user's sessions that are past the password but not the second factor (an
    /// account lock ends them, SPEC 7); returns how many.
    fn delete_unfinished_for_user(&self, user_id: i64) -> Result<usize, SessionError>;
    /// Ends every session of a user (remote logout); returns how many.
    fn delete_for_user(&self, user_id: i64) -> Result<usize, SessionError>;
    /// Forgets every remembered browser of a user (after a password reset the second factor
    /// is asked again everywhere); returns how many.
    fn forget_browsers(&self, user_id: i64) -> Result<usize, SessionError>;
    fn remember_browser(
        &self,
        token_hash: &str,
        user_id: i64,
        until: DateTime<Utc>,
    ) -> Result<(), SessionError>;
    fn is_remembered(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, SessionError>;
}

pub trait IdentityStore: Send + Sync {
    /// The user's persistent UUID for an agency, created with `new_uuid` the first time
    /// (race-safe: concurrent first hand-offs end with one UUID).
    fn agency_uuid(
        &self,
        user_id: i64,
        agency_key: &str,
        new_uuid: &str,
        now: DateTime<Utc>,
    ) -> Result<String, SessionError>;
    /// The user's agency UUID lookup in reverse (remote logout's SessionIndex).
    fn user_for_agency_uuid(
        &self,
        agency_key: &str,
        uuid: &str,
    ) -> Result<Option<i64>, SessionError>;
    fn consent(&self, user_id: i64, issuer: &str) -> Result<Option<Vec<String>>, SessionError>;
    fn save_consent(
        &self,
        user_id: i64,
        issuer: &str,
        attributes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), SessionError>;
    /// When the user last signed in to `issuer` (the account page's connected services), to
    /// the minute: a store may leave a time less than a minute old as it is.
    fn record_authentication(
        &self,
        user_id: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SessionError>;
    /// Every consent of a user, oldest first.
    fn consents_for_user(&self, user_id: i64) -> Result<Vec<ConsentRecord>, SessionError>;
    /// Forgets the consent to one SP (the next sign-in there asks again); false if there was
    /// none.
    fn revoke_consent(&self, user_id: i64, issuer: &str) -> Result<bool, SessionError>;
}

pub trait AuditLog: Send + Sync {
    fn record(&self, event: &AuditEvent, now: DateTime<Utc>) -> Result<(), SessionError>;
    /// A refused request from `client` (a rate-limit key, never stored). A log that
    /// aggregates (the buffer) stores one event per client, event, SP and detail within a
    /// minute, with the count (SPEC 7); a plain store writes each. The reference of the
    /// stored event this refusal is counted in (the event's own, or the aggregate's).
    fn record_refusal(
        &self,
        event: &AuditEvent,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, SessionError> {
        let _ = client;
        self.record(event, now)?;
        Ok(event.reference.clone())
    }
    /// Several events, all or none (a store writes them in one transaction).
    fn record_many(&self, events: &[(AuditEvent, DateTime<Utc>)]) -> Result<(), SessionError> {
        events
            .iter()
            .try_for_each(|(event, now)| self.record(event, *now))
    }
    /// Most recent first (operators and tests).
    fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, SessionError>;
    /// The user's own events, most recent first, with their times (the account page).
    fn recent_for_user(
        &self,
        public_id: &str,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, SessionError>;
    /// The SAML messages from `issuer` that were refused, most recent first, with their
    /// times (the console's events page, SPEC 19).
    fn refused_for_sp(&self, issuer: &str, limit: i64) -> Result<Vec<RecordedEvent>, SessionError>;
}

pub trait RateLimiter: Send + Sync {
    /// Counts one hit in `bucket`'s fixed window starting at `window_start`; true while the
    /// count is at most `limit`.
    fn hit(
        &self,
        bucket: &str,
        window_start: DateTime<Utc>,
        limit: i32,
    ) -> Result<bool, SessionError>;
}

pub trait ReplayCache: Send + Sync {
    /// Records `(issuer, request_id)`; false if it was already recorded (a replay), on any
    /// node. Entries older than `forget_before` are dropped on the way (a store may do that
    /// only every few seconds: an entry is never dropped before `forget_before`).
    fn first_use(
        &self,
        issuer: &str,
        request_id: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, SessionError>;
}
