//! Test-only: the key and certificate fixtures (`fixtures/keys/`, TEST-ONLY in their names)
//! that the crypto module's inline tests read.

use std::path::PathBuf;

/// The path of `fixtures/keys/NAME`.
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/keys")
        .join(name)
}

/// The bytes of `fixtures/keys/NAME`.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture")
}
