//! afl target `authn_request`: see `saml_idp::fuzzing::authn_request`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        saml_idp::fuzzing::authn_request(data);
    });
}
