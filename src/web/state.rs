//! What every handler can reach: the pieces built once at start.

use std::sync::Arc;

use crate::config::Config;
use crate::idp::{MetadataDocuments, SpCache};
use crate::store::Database;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub metadata: Arc<MetadataDocuments>,
    pub sp_cache: Arc<SpCache>,
    pub db: Database,
}
