//! afl target `query_signature`: see `saml_idp::fuzzing::query_signature`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        saml_idp::fuzzing::query_signature(data);
    });
}
