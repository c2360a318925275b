//! The SAML parameters of a query string or form body (interchangeable, SPEC 1), each kept
//! both as received (for the Redirect-binding signature, which covers the raw octets) and
//! decoded. A parameter given twice is refused: which copy was signed would be ambiguous.
//! Shared by the SAML endpoints and the decode tool (`idp::decode`).

use super::intake::{IntakeCode, IntakeError};
use crate::crypto::query_signature::{form_decode, RawSignedQuery};

const NAMES: &[&str] = &["SAMLRequest", "RelayState", "SigAlg", "Signature", "locale"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SamlParams {
    raw: [Option<String>; 5],
}

impl SamlParams {
    /// Splits `a=b&c=d`; unknown parameters are ignored.
    pub fn parse(raw: &str) -> Result<SamlParams, IntakeError> {
        let mut params = SamlParams::default();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = form_decode(name);
            let Some(index) = NAMES.iter().position(|n| *n == name) else {
                continue;
            };
            if name == "RelayState" && !valid_relay_state(value) {
                return Err(IntakeError::with_detail(
                    IntakeCode::MalformedRequest,
                    "RelayState must be UTF-8 text without control characters",
                ));
            }
            if params.raw[index].replace(value.to_string()).is_some() {
                return Err(IntakeError::with_detail(
                    IntakeCode::MalformedRequest,
                    format!("the parameter {name} is given more than once"),
                ));
            }
        }
        Ok(params)
    }

    fn raw(&self, name: &str) -> Option<&str> {
        NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.raw[i].as_deref())
    }

    pub fn has_saml_request(&self) -> bool {
        self.raw("SAMLRequest").is_some()
    }

    /// `SAMLRequest` decoded. A literal `+` stays `+`: base64 never holds a space, and some
    /// senders forget to escape `+`.
    pub fn saml_request(&self) -> Option<String> {
        self.raw("SAMLRequest")
            .map(|v| form_decode(&v.replace('+', "%2B")))
    }

    pub fn relay_state(&self) -> Option<String> {
        self.raw("RelayState").map(form_decode)
    }

    pub fn locale(&self) -> Option<String> {
        self.raw("locale").map(form_decode)
    }

    /// The signature parameters as received, when a Redirect-binding signature was sent.
    pub fn signed_query(&self) -> Option<RawSignedQuery<'_>> {
        if self.raw("SigAlg").is_none() && self.raw("Signature").is_none() {
            return None;
        }
        Some(RawSignedQuery {
            message: ("SAMLRequest", self.raw("SAMLRequest").unwrap_or_default()),
            relay_state: self.raw("RelayState"),
            sig_alg: self.raw("SigAlg"),
            signature: self.raw("Signature"),
        })
    }

    /// (name, decoded value) of every SAML parameter present, for re-posting.
    pub fn decoded_fields(&self) -> Vec<(&'static str, String)> {
        NAMES
            .iter()
            .zip(&self.raw)
            .filter_map(|(name, raw)| raw.as_deref().map(|v| (*name, form_decode(v))))
            .collect()
    }
}

/// RelayState, form-decoded, is valid UTF-8 (no overlong or broken sequences: decoding is
/// strict, never lossy) without control characters such as NUL (SPEC 3).
fn valid_relay_state(raw: &str) -> bool {
    let spaced = raw.replace('+', " ");
    let bytes = urlencoding::decode_binary(spaced.as_bytes());
    std::str::from_utf8(&bytes).is_ok_and(|text| !text.chars().any(char::is_control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_raw_and_decoded_values() {
        let p = SamlParams::parse("SAMLRequest=ab+c%2Bd&RelayState=x+y%26z&other=1&locale=es")
            .expect("parses");
        assert_eq!(p.saml_request().as_deref(), Some("ab+c+d"));
        assert_eq!(p.relay_state().as_deref(), Some("x y&z"));
        assert_eq!(p.locale().as_deref(), Some("es"));
        assert!(p.signed_query().is_none());
        let signed = SamlParams::parse("SigAlg=a%2Fb&SAMLRequest=q&Signature=s").expect("parses");
        let q = signed.signed_query().expect("signed");
        assert_eq!(
            (q.message.1, q.sig_alg, q.signature),
            ("q", Some("a%2Fb"), Some("s"))
        );
    }

    #[test]
    fn relay_state_must_be_clean_utf8() {
        for ok in ["x+y%26z", "%C3%A4", "https%3A%2F%2Fsp%2Fafter%3Fa%3D1"] {
            assert!(
                SamlParams::parse(&format!("RelayState={ok}")).is_ok(),
                "{ok}"
            );
        }
        for bad in ["a%00b", "%C0%AF", "%E2%82", "%FF", "a%0Ab", "a%7Fb"] {
            let err = SamlParams::parse(&format!("RelayState={bad}")).expect_err(bad);
            assert_eq!(err.code, IntakeCode::MalformedRequest, "{bad}");
        }
    }

    #[test]
    fn duplicates_are_malformed() {
        let err = SamlParams::parse("SAMLRequest=a&SAMLRequest=b").expect_err("duplicate");
        assert_eq!(err.code, IntakeCode::MalformedRequest);
        assert!(
            SamlParams::parse("Signature=a&%53ignature=b").is_err(),
            "encoded names count too"
        );
    }
}
