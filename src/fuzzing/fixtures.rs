//! The fixed world the message targets run in: the fixture SPs (`fixtures/service_providers.toml`,
//! TEST-ONLY certificates) in a read-only in-memory registry, and the settings of the test
//! server (`https://idp.test.example.gov`, live years 2025 and 2026). Built once per process.
//!
//! `expect` is allowed here: these are the harness's start-up reads of files in the source
//! tree, where a failure is a broken checkout, not an input the fuzzer found, and stopping
//! with its message is the answer. The module is compiled only with the `fuzzing` feature.
#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::idp::SpCache;
use crate::registry::{
    validate, RecordFile, RegistryError, ServiceProvider, SpRegistry, UpsertCounts,
};
use crate::saml::SamlYear;

/// The entity ID of the test server (`Config::entity_id` of `https://idp.test.example.gov`).
pub const ENTITY_ID: &str = "https://idp.test.example.gov/api/saml";

/// A registry that holds the fixture SPs and refuses every change.
struct FixtureRegistry(Vec<ServiceProvider>);

const READ_ONLY: &str = "the fuzzing registry is read-only";

impl SpRegistry for FixtureRegistry {
    fn list(&self) -> Result<Vec<ServiceProvider>, RegistryError> {
        Ok(self.0.clone())
    }
    fn find(&self, issuer: &str) -> Result<Option<ServiceProvider>, RegistryError> {
        Ok(self.0.iter().find(|sp| sp.issuer == issuer).cloned())
    }
    fn add(&self, _: &ServiceProvider) -> Result<(), RegistryError> {
        Err(RegistryError::Storage(READ_ONLY.into()))
    }
    fn update(&self, _: &ServiceProvider) -> Result<(), RegistryError> {
        Err(RegistryError::Storage(READ_ONLY.into()))
    }
    fn upsert_all(&self, _: &[ServiceProvider]) -> Result<UpsertCounts, RegistryError> {
        Err(RegistryError::Storage(READ_ONLY.into()))
    }
    fn remove(&self, _: &str) -> Result<(), RegistryError> {
        Err(RegistryError::Storage(READ_ONLY.into()))
    }
    fn revision(&self) -> Result<i64, RegistryError> {
        Ok(1)
    }
}

/// `fixtures/` of this source tree (the fuzz package and the tests build from it).
fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Start-up of the harness: a missing or invalid fixture is a broken checkout, not an input
/// the fuzzer found, so it stops the process.
fn load_sps() -> Vec<ServiceProvider> {
    let dir = fixtures_dir();
    let text = std::fs::read_to_string(dir.join("service_providers.toml"))
        .expect("fixtures/service_providers.toml is readable");
    let file: RecordFile = toml::from_str(&text).expect("fixture SPs parse");
    file.service_provider
        .iter()
        .map(|record| validate(record, &dir).expect("fixture SP is valid"))
        .collect()
}

/// The fixture SPs, loaded once.
pub fn service_providers() -> &'static [ServiceProvider] {
    static SPS: OnceLock<Vec<ServiceProvider>> = OnceLock::new();
    SPS.get_or_init(load_sps)
}

/// An `SpCache` over the fixture SPs, refreshed once.
pub fn sp_cache() -> &'static SpCache {
    static CACHE: OnceLock<SpCache> = OnceLock::new();
    CACHE.get_or_init(|| {
        let cache = SpCache::new(Arc::new(FixtureRegistry(service_providers().to_vec())));
        cache.refresh().expect("the fixture registry cannot fail");
        cache
    })
}

/// The year of the endpoint the fuzzed messages arrive at (the fixtures' Destination).
pub fn year() -> SamlYear {
    SamlYear::new(2026).expect("2026 is a four-digit year")
}

/// When the fuzzed messages arrive: the fixtures' IssueInstant, so seeds can be accepted.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_773_576_000, 0).unwrap_or_default()
}
