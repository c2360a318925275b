//! Key material and signatures: the per-year key ring, certificate checks, development keys
//! and XML signing. No HTTP or database here.

pub mod cert;
pub mod dev_keys;
pub mod keyring;
pub mod xml_signer;

pub use cert::{Certificate, CertificateError};
pub use keyring::{KeyRing, KeyRingError, SigningKey};
