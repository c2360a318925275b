//! Everything a subcommand can fail with, each printed as one line.

use std::path::PathBuf;

use thiserror::Error;

use crate::config::ConfigError;
use crate::crypto::dev_keys::DevKeyError;
use crate::crypto::xml_signer::SignError;
use crate::crypto::KeyRingError;
use crate::registry::{RegistryError, ValidationError};
use crate::saml::sp_metadata::SpMetadataError;
use crate::sessions::SessionError;
use crate::store::StoreError;

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Keys(#[from] KeyRingError),
    #[error(transparent)]
    DevKeys(#[from] DevKeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("cannot sign metadata: {0}")]
    Sign(#[from] SignError),
    #[error("{context}: {source}")]
    Invalid {
        context: String,
        source: ValidationError,
    },
    #[error("cannot read {path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("cannot write {path}: {detail}")]
    Write { path: PathBuf, detail: String },
    #[error("{path} is not a valid service-provider file: {detail}")]
    RecordFile { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    SpMetadata {
        path: PathBuf,
        source: SpMetadataError,
    },
    #[error("{0}")]
    Usage(String),
    #[error("purge failed: {}", .0.0)]
    Purge(#[from] SessionError),
    #[error("cannot read the audit trail: {0}")]
    Events(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}
