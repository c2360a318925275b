//! Key material and signatures: the per-year key ring, certificate checks, development keys
//! and XML signing. No HTTP or database here.

pub mod cert;
pub mod cert_status;
pub mod dev_keys;
pub mod keyring;
pub mod query_signature;
pub mod secret_box;
#[cfg(test)]
mod test_fixtures;
pub mod xml_encrypt;
pub mod xml_signer;
pub mod xml_verify;
pub mod xmlsec_ffi;

pub use cert::{Certificate, CertificateError};
pub use keyring::{KeyRing, KeyRingError, SigningKey};
