//! The use cases, as plain functions and services over `saml`, `crypto` and the registry
//! trait. No HTTP and no Diesel here.

pub mod metadata;
pub mod sp_cache;

pub use metadata::MetadataDocuments;
pub use sp_cache::SpCache;
