//! afl target `logout_request`: see `saml_idp::fuzzing::logout_request`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        saml_idp::fuzzing::logout_request(data);
    });
}
