//! The use cases, as plain functions and services over `saml`, `crypto` and the store
//! traits. No HTTP and no Diesel here: each use case takes a [`Deps`] (the stores, keys and
//! `now`) and returns a typed outcome or an [`Error`].

pub mod account;
pub mod api_tokens;
pub mod audit;
pub mod console;
pub mod decode;
pub mod error;
pub mod intake;
pub mod logout;
pub mod metadata;
pub mod notice;
pub mod outgoing;
pub mod recovery;
pub mod relying_party;
pub mod response;
pub mod roles;
pub mod saml_params;
pub mod security_key;
pub mod session;
pub mod sign_in;
pub mod sign_up;
pub mod sp_cache;
pub mod sso;
#[cfg(test)]
pub(crate) mod testing;
pub mod throttle;
pub mod token;

use chrono::{DateTime, Utc};

pub use error::{Error, SpProblem, UserProblem};
pub use metadata::MetadataDocuments;
pub use sp_cache::SpCache;

use crate::accounts::sealing::AccountCrypto;
use crate::accounts::security_keys::SecurityKeyStore;
use crate::accounts::tokens::TokenStore;
use crate::accounts::AccountStore;
use crate::crypto::KeyRing;
use crate::ids::IdSource;
use crate::mail::Mailer;
use crate::sessions::signed_in::SignedInReads;
use crate::sessions::{AuditLog, IdentityStore, RateLimiter, ReplayCache, SessionStore};
use sso::pending::PendingStore;

/// What the use cases work with: the stores, the key ring, the id source, the mailer, and the
/// time of the request (injected, so tests freeze it).
#[derive(Clone, Copy)]
pub struct Deps<'a> {
    pub accounts: &'a dyn AccountStore,
    pub crypto: &'a AccountCrypto,
    pub sessions: &'a dyn SessionStore,
    pub identities: &'a dyn IdentityStore,
    pub signed_in: &'a dyn SignedInReads,
    pub audit: &'a dyn AuditLog,
    pub limiter: &'a dyn RateLimiter,
    pub replay: &'a dyn ReplayCache,
    pub tokens: &'a dyn TokenStore,
    pub security_keys: &'a dyn SecurityKeyStore,
    /// The WebAuthn relying party (SPEC 18).
    pub relying_party: &'a relying_party::RelyingParty,
    pub pending: &'a dyn PendingStore,
    pub sps: &'a SpCache,
    pub keys: &'a KeyRing,
    pub ids: &'a dyn IdSource,
    /// `{base_url}/api/saml`: the Issuer of everything the IdP emits.
    pub entity_id: &'a str,
    /// `base_url`: the links in emails.
    pub base_url: &'a str,
    /// How long the n-th successive lock of an account lasts, in seconds; the last entry
    /// repeats (`[sign_in] lock_seconds`, SPEC 7).
    pub lock_seconds: &'a [u64],
    /// Sends the account emails (SPEC 17) in the user's locale.
    pub mailer: &'a dyn Mailer,
    /// The client's rate-limit key (`web`'s client address), when the request has one:
    /// refused SAML requests are audited in aggregate per client (SPEC 7). Never stored.
    pub client: Option<&'a str>,
    pub now: DateTime<Utc>,
}
