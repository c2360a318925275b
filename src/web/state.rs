//! What every handler can reach: the pieces built once at start.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::idp::pending::PendingStore;
use crate::idp::{MetadataDocuments, SpCache};
use crate::ids::IdSource;
use crate::saml::SamlYear;
use crate::store::Database;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub metadata: Arc<MetadataDocuments>,
    pub sp_cache: Arc<SpCache>,
    pub pending: Arc<dyn PendingStore>,
    pub db: Database,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
}

impl AppState {
    /// A live year named by an endpoint suffix (`2026`), or none (404).
    pub fn live_year(&self, suffix: &str) -> Option<SamlYear> {
        SamlYear::parse(suffix).filter(|y| self.metadata.get(*y).is_some())
    }

    pub fn live_years(&self) -> Vec<SamlYear> {
        self.metadata.years().collect()
    }

    /// Cookies are `Secure` whenever the IdP is served over https (SPEC 7).
    pub fn secure_cookies(&self) -> bool {
        self.config.base_url.starts_with("https://")
    }
}
