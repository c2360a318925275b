//! saml-idp: a SAML 2.0 identity provider that service providers integrate with exactly as
//! partners integrate with login.gov.
//!
//! Layers (see DESIGN.md): `web` → `idp` → {`saml`, `crypto`, `registry`, `store`}; `cli` and
//! `config` sit on top. `saml`, `crypto`, `registry` and `idp` import no actix-web or Diesel.
// `unsafe` is denied everywhere but `crypto::xmlsec_ffi` and `store::sqlite_wait` (FFI calls
// to libxml2, libxmlsec1 and SQLite, commented there).
#![deny(unsafe_code)]
// No `unwrap`/`expect` outside tests: a failure is a typed error, or a start-up panic with a
// message where DESIGN.md allows one (test code is compiled with `cfg(test)` and exempt).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod accounts;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod demo_sp;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod i18n;
pub mod idp;
pub mod ids;
pub mod mail;
pub mod metrics;
pub mod ports;
pub mod registry;
pub mod saml;
pub mod sessions;
pub mod store;
pub mod web;
