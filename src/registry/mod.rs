//! The service-provider registry (SPEC 11): the `ServiceProvider` type, its validation, the
//! file format operators import and export, and the storage trait that `store` implements.

pub mod policy;
pub mod record;
pub mod service_provider;
pub mod validate;

use thiserror::Error;

pub use policy::Policy;
pub use record::{RecordFile, SpRecord};
pub use service_provider::{issuer_of_public_id, public_id, BlockEncryption, ServiceProvider};
pub use validate::{inline_certificates, validate, ValidationError};

#[derive(Debug, Error, PartialEq, Eq)]
pub enum RegistryError {
    #[error("service provider {0:?} already exists")]
    Duplicate(String),
    #[error("no service provider with issuer {0:?}")]
    NotFound(String),
    /// An update made from a version that is no longer the stored one (SPEC 19).
    #[error("service provider {0:?} was changed since it was read")]
    Stale(String),
    #[error("stored service provider {issuer:?} is invalid: {detail}")]
    Corrupt { issuer: String, detail: String },
    #[error("database error: {0}")]
    Storage(String),
}

/// How many SPs an import created and updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: usize,
    pub updated: usize,
}

/// Where SPs live. Every write bumps `revision`, which lets caches notice changes made by
/// another process cheaply.
pub trait SpRegistry: Send + Sync {
    fn list(&self) -> Result<Vec<ServiceProvider>, RegistryError>;
    fn find(&self, issuer: &str) -> Result<Option<ServiceProvider>, RegistryError>;
    /// Fails with `Duplicate` when the issuer exists.
    fn add(&self, sp: &ServiceProvider) -> Result<(), RegistryError>;
    /// Replaces the SP stored at version `sp.version` and bumps the version. Fails with
    /// `NotFound` when the issuer does not exist, `Stale` when its version is another.
    fn update(&self, sp: &ServiceProvider) -> Result<(), RegistryError>;
    /// Inserts or replaces every SP by issuer, all in one transaction (whatever their
    /// versions: an import states the whole SP).
    fn upsert_all(&self, sps: &[ServiceProvider]) -> Result<UpsertCounts, RegistryError>;
    fn remove(&self, issuer: &str) -> Result<(), RegistryError>;
    fn revision(&self) -> Result<i64, RegistryError>;
}
