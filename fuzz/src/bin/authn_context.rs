//! afl target `authn_context`: see `saml_idp::fuzzing::authn_context`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        saml_idp::fuzzing::authn_context(data);
    });
}
