//! The storage contracts: one function per behaviour, run against every implementation of each store trait (memory, SQLite, and PostgreSQL when `TEST_DATABASE_URL` is set).
//! One test binary for the group (`cargo test --test contracts`; a module by name, e.g.
//! `cargo test --test contracts registry_contract::`): a binary per file would compile and link
//! `tests/common` and the crate once per file.

#[path = "../common/mod.rs"]
mod common;

mod account_page_store;
mod accounts_contract;
mod api_tokens;
mod checkpoint;
mod lock_wait;
mod mail_queue;
mod one_time_tokens;
mod pending_contract;
mod purge;
mod registry_contract;
mod roles_contract;
mod security_key_store;
mod sessions_contract;
mod traffic_contract;
