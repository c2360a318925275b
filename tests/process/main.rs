//! The release binary as operators run it: the command line, the server process, operations, and several nodes behind nginx on a PostgreSQL of their own.
//! One test binary for the group (`cargo test --test process`; a module by name, e.g.
//! `cargo test --test process server_process::`): a binary per file would compile and link
//! `tests/common` and the crate once per file.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod multi_node;
mod operations;
mod server_process;
