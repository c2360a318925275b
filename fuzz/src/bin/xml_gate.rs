//! afl target `xml_gate`: see `saml_idp::fuzzing::xml_gate`.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        saml_idp::fuzzing::xml_gate(data);
    });
}
