//! The SAML parameters of a query string or form body: parsed in `idp::saml_params`, which
//! the decode tool (command line and page) shares with the SAML endpoints.

pub use crate::idp::saml_params::SamlParams;
