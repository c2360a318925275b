//! Behaviour over HTTP, in process (`actix_web::test`): SAML intake and single sign-on, the account flows, logout, metadata, error pages, interoperability with python3-saml, golden files.
//! One test binary for the group (`cargo test --test http`; a module by name, e.g.
//! `cargo test --test http sso_intake::`): a binary per file would compile and link
//! `tests/common` and the crate once per file.

#[path = "../common/mod.rs"]
mod common;

mod aal3;
mod account_lock;
mod account_page;
mod audit_trail;
mod bounded_writes;
mod console_api;
mod console_pages;
mod decode;
mod demo_sp;
mod error_languages;
mod fuzz_corpus;
mod golden;
mod http_hygiene;
mod key_changes;
mod logout;
mod mail;
mod mail_queue;
mod metadata_http;
mod page_details;
mod properties;
mod request_guard;
mod response_interop;
mod security_keys;
mod sign_in_flow;
mod sign_up;
mod single_sign_on;
mod sso_intake;
