//! The use cases, as plain functions and services over `saml`, `crypto` and the registry
//! trait. No HTTP and no Diesel here.

pub mod complete;
pub mod intake_error;
pub mod logout;
pub mod metadata;
pub mod pending;
pub mod release;
pub mod response;
pub mod sp_cache;
pub mod sso;

pub use metadata::MetadataDocuments;
pub use sp_cache::SpCache;
