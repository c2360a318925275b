//! Headless Chromium: sign-in end to end, narrow screens, and security keys through the virtual authenticator.
//! One test binary for the group (`cargo test --test browsers`; a module by name, e.g.
//! `cargo test --test browsers browser_e2e::`): a binary per file would compile and link
//! `tests/common` and the crate once per file.

#[path = "../common/mod.rs"]
mod common;

mod browser_console;
mod browser_e2e;
mod browser_first_sso;
mod browser_narrow;
mod browser_webauthn;
