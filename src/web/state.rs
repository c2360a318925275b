//! What every handler can reach: the pieces built once at start.

use std::sync::Arc;

use crate::accounts::sealing::AccountCrypto;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::KeyRing;
use crate::idp::security_key::RelyingParty;
use crate::idp::{MetadataDocuments, SpCache};
use crate::ids::{IdSource, RandomIds};
use crate::mail::queue::Worker;
use crate::mail::Mailer;
use crate::ports::Stores;
use crate::saml::SamlYear;
use crate::web::request_guard::RequestGuard;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub keys: Arc<KeyRing>,
    pub metadata: Arc<MetadataDocuments>,
    pub sp_cache: Arc<SpCache>,
    /// Every store, composed at start-up; handlers reach them only through `idp`.
    pub stores: Stores,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub account_crypto: Arc<AccountCrypto>,
    /// The WebAuthn relying party, from `base_url` and the organization's name.
    pub relying_party: Arc<RelyingParty>,
    /// `{base_url}/api/saml`, computed once.
    pub entity_id: Arc<str>,
    /// Queues email (SPEC 17); the worker delivers it.
    pub mailer: Arc<dyn Mailer>,
    /// The per-client limiter and cross-site check in front of every handler (SPEC 7).
    pub guard: Arc<RequestGuard>,
    /// This node's mail queue worker, sending through the configured `mailer`; `serve`
    /// starts it.
    pub mail_worker: Arc<Worker>,
    /// The demo SP (SPEC 20), in development mode unless `demo_sp = false`; `None` answers
    /// `/demo-sp/…` with 404.
    pub demo_sp: Option<Arc<crate::demo_sp::sp::DemoSp>>,
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
            accounts: self.stores.accounts.as_ref(),
            crypto: &self.account_crypto,
            sessions: self.stores.sessions.as_ref(),
            identities: self.stores.identities.as_ref(),
            signed_in: self.stores.signed_in.as_ref(),
            audit: self.stores.audit.as_ref(),
            limiter: self.stores.rate_limiter.as_ref(),
            replay: self.stores.replay_cache.as_ref(),
            tokens: self.stores.tokens.as_ref(),
            security_keys: self.stores.security_keys.as_ref(),
            relying_party: &self.relying_party,
            pending: self.stores.pending.as_ref(),
            sps: &self.sp_cache,
            keys: &self.keys,
            ids: self.ids.as_ref(),
            entity_id: &self.entity_id,
            base_url: &self.config.base_url,
            lock_seconds: &self.config.lock_seconds,
            mailer: self.mailer.as_ref(),
            client: None,
            now: self.clock.now(),
        }
    }

    /// As [`AppState::deps`], for a request from `client` (its rate-limit key).
    pub fn deps_for<'a>(&'a self, client: &'a str) -> crate::idp::Deps<'a> {
        crate::idp::Deps {
            client: Some(client),
            ..self.deps()
        }
    }

    /// Whether the database runs in this process (SQLite), so that short use cases run on
    /// the worker that took the request (`blocking::quick`).
    pub fn database_in_process(&self) -> bool {
        self.stores.database.in_process()
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
    /// The state over `stores` (composed at start-up): the use cases queue mail, and the
    /// worker sends it through the transport the configuration names; the server and the
    /// tests build the same state.
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
        let transport = Arc::new(crate::mail::Sender::new(
            &config.mailer,
            config.data_dir.join("outbox"),
            &config.mail_from,
            &config.organization.display_name,
        ));
        let account_crypto = Arc::new(account_crypto);
        // Queue ids and lease owners are random whatever `ids` is: they must be unique
        // across nodes, and they never appear in an output.
        let (mailer, worker) = crate::mail::queue::pair(
            stores.mail_queue.clone(),
            account_crypto.clone(),
            transport,
            clock.clone(),
            Arc::new(RandomIds),
            config.mail,
        );
        AppState {
            mailer: Arc::new(mailer),
            mail_worker: Arc::new(worker),
            guard: Arc::new(RequestGuard::new(
                &config.client_limits,
                &config.base_url,
                clock.clone(),
            )),
            entity_id: config.entity_id().into(),
            relying_party: Arc::new(RelyingParty::new(
                &config.base_url,
                &config.organization.display_name,
                &config.aal3_attestation_roots,
            )),
            demo_sp: None,
            config,
            keys,
            metadata,
            sp_cache,
            stores,
            account_crypto,
            clock,
            ids,
        }
    }
}
