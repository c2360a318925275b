//! afl target `codec`: see `saml_idp::fuzzing::codec`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        saml_idp::fuzzing::codec(data);
    });
}
