//! What every handler can reach: the pieces built once at start.

use std::sync::Arc;

use crate::accounts::sealing::AccountCrypto;
use crate::accounts::security_keys::SecurityKeyStore;
use crate::accounts::tokens::TokenStore;
use crate::accounts::AccountStore;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::KeyRing;
use crate::idp::security_key::RelyingParty;
use crate::idp::sso::pending::PendingStore;
use crate::idp::{MetadataDocuments, SpCache};
use crate::ids::IdSource;
use crate::mail::Mailer;
use crate::ports::{DatabaseHealth, Stores};
use crate::saml::SamlYear;
use crate::sessions::audit_buffer::AuditBuffer;
use crate::sessions::purge::Purger;
use crate::sessions::{AuditLog, IdentityStore, RateLimiter, ReplayCache, SessionStore};

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub keys: Arc<KeyRing>,
    pub metadata: Arc<MetadataDocuments>,
    pub sp_cache: Arc<SpCache>,
    pub pending: Arc<dyn PendingStore>,
    /// The database behind the stores, for readiness and the pool gauges.
    pub db: Arc<dyn DatabaseHealth>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub accounts: Arc<dyn AccountStore>,
    pub account_crypto: Arc<AccountCrypto>,
    pub sessions: Arc<dyn SessionStore>,
    pub identities: Arc<dyn IdentityStore>,
    pub audit: Arc<dyn AuditLog>,
    /// The same audit log as `audit`: its buffer, stored on shutdown.
    pub audit_buffer: Arc<AuditBuffer>,
    pub rate_limiter: Arc<dyn RateLimiter>,
    pub replay_cache: Arc<dyn ReplayCache>,
    pub tokens: Arc<dyn TokenStore>,
    pub security_keys: Arc<dyn SecurityKeyStore>,
    /// The WebAuthn relying party, from `base_url` and the organization's name.
    pub relying_party: Arc<RelyingParty>,
    /// `{base_url}/api/saml`, computed once.
    pub entity_id: Arc<str>,
    /// Deletes expired rows; `server` runs it every `purge_interval_seconds`.
    pub purger: Arc<dyn Purger>,
    /// Sends email through the configured `mailer` (SPEC 17).
    pub mailer: Arc<dyn Mailer>,
}

impl AppState {
    /// A live year named by an endpoint suffix (`2026`), or none (404).
    pub fn live_year(&self, suffix: &str) -> Option<SamlYear> {
        SamlYear::parse(suffix).filter(|y| self.metadata.get(*y).is_some())
    }

    pub fn live_years(&self) -> Vec<SamlYear> {
        self.metadata.years().collect()
    }

    /// The stores and keys as the use cases take them, at the current time.
    pub fn deps(&self) -> crate::idp::Deps<'_> {
        crate::idp::Deps {
            accounts: self.accounts.as_ref(),
            crypto: &self.account_crypto,
            sessions: self.sessions.as_ref(),
            identities: self.identities.as_ref(),
            audit: self.audit.as_ref(),
            limiter: self.rate_limiter.as_ref(),
            replay: self.replay_cache.as_ref(),
            tokens: self.tokens.as_ref(),
            security_keys: self.security_keys.as_ref(),
            relying_party: &self.relying_party,
            pending: self.pending.as_ref(),
            sps: &self.sp_cache,
            keys: &self.keys,
            ids: self.ids.as_ref(),
            entity_id: &self.entity_id,
            mailer: self.mailer.as_ref(),
            now: self.clock.now(),
        }
    }

    /// The same state sending mail through `mailer`.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> AppState {
        self.mailer = mailer;
        self
    }

    /// Cookies are `Secure` whenever the IdP is served over https (SPEC 7).
    pub fn secure_cookies(&self) -> bool {
        self.config.base_url.starts_with("https://")
    }
}

impl AppState {
    /// The state over `stores` (composed at start-up) with the mailer the configuration
    /// names; the server and the tests build the same state.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        config: Arc<Config>,
        keys: Arc<KeyRing>,
        metadata: Arc<MetadataDocuments>,
        sp_cache: Arc<SpCache>,
        stores: Stores,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        account_crypto: AccountCrypto,
    ) -> AppState {
        let mailer = Arc::new(crate::mail::Sender::new(
            &config.mailer,
            config.data_dir.join("outbox"),
            &config.mail_from,
            &config.organization.display_name,
        ));
        AppState {
            mailer,
            entity_id: config.entity_id().into(),
            relying_party: Arc::new(RelyingParty::new(
                &config.base_url,
                &config.organization.display_name,
            )),
            security_keys: stores.security_keys,
            config,
            keys,
            metadata,
            sp_cache,
            pending: stores.pending,
            accounts: stores.accounts,
            account_crypto: Arc::new(account_crypto),
            sessions: stores.sessions,
            identities: stores.identities,
            audit: stores.audit,
            audit_buffer: stores.audit_buffer,
            rate_limiter: stores.rate_limiter,
            replay_cache: stores.replay_cache,
            purger: stores.purger,
            tokens: stores.tokens,
            db: stores.database,
            clock,
            ids,
        }
    }
}
