//! Redirect-binding signatures (saml-bindings §3.4.4.1; SPEC 5): RSA-SHA256 over
//! `SAMLRequest=…&RelayState=…&SigAlg=…` exactly as the octets were received; if that fails,
//! over the same string rebuilt from the decoded values with form escaping (upper-case hex,
//! space as `+`), because some partner libraries sign that.

use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::sign::Verifier;
use thiserror::Error;

use super::cert::Certificate;
use crate::saml::ns;

/// `SigAlg` values accepted: the URI, or the short form some partners send.
const RSA_SHA256: &[&str] = &[ns::ALG_RSA_SHA256, "SHA256"];

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum QuerySignatureError {
    #[error("Signature is given without SigAlg")]
    MissingSigAlg,
    #[error("SigAlg is given without Signature")]
    MissingSignature,
    #[error("signature algorithm not allowed: {0}")]
    WrongAlgorithm(String),
    #[error("the Signature parameter is not valid base64")]
    BadEncoding,
    #[error("no registered certificate verifies the signature")]
    NoMatchingCertificate,
    #[error("the service provider has no registered certificate")]
    NoCertificates,
}

impl QuerySignatureError {
    pub fn detail(&self) -> &'static str {
        match self {
            QuerySignatureError::MissingSigAlg => "missing_sig_alg",
            QuerySignatureError::MissingSignature => "missing_signature",
            QuerySignatureError::WrongAlgorithm(_) => "wrong_sig_algorithm",
            QuerySignatureError::BadEncoding => "bad_signature_encoding",
            QuerySignatureError::NoMatchingCertificate => "no_matching_certificate",
            QuerySignatureError::NoCertificates => "no_cert_registered",
        }
    }
}

/// The signature-relevant parameters of a query, each as received (still url-encoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawSignedQuery<'a> {
    /// `("SAMLRequest", value)` or `("SAMLResponse", value)`.
    pub message: (&'a str, &'a str),
    pub relay_state: Option<&'a str>,
    pub sig_alg: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Ok(None): unsigned. Ok(Some(i)): verified by registered certificate `i`.
pub fn verify(
    query: &RawSignedQuery<'_>,
    certs: &[Certificate],
) -> Result<Option<usize>, QuerySignatureError> {
    let (sig_alg, signature) = match (query.sig_alg, query.signature) {
        (None, None) => return Ok(None),
        (None, Some(_)) => return Err(QuerySignatureError::MissingSigAlg),
        (Some(_), None) => return Err(QuerySignatureError::MissingSignature),
        (Some(a), Some(s)) => (a, s),
    };
    let alg = form_decode(sig_alg);
    if !RSA_SHA256.contains(&alg.as_str()) {
        return Err(QuerySignatureError::WrongAlgorithm(alg));
    }
    let compact: String = form_decode(signature)
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let signature = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| QuerySignatureError::BadEncoding)?;
    if certs.is_empty() {
        return Err(QuerySignatureError::NoCertificates);
    }
    for octets in [as_received(query), rebuilt(query)] {
        if let Some(index) = certs
            .iter()
            .position(|c| rsa_sha256_verifies(c, octets.as_bytes(), &signature))
        {
            return Ok(Some(index));
        }
    }
    Err(QuerySignatureError::NoMatchingCertificate)
}

fn join(query: &RawSignedQuery<'_>, encode: impl Fn(&str) -> String) -> String {
    let (name, value) = query.message;
    let mut out = format!("{name}={}", encode(value));
    if let Some(relay) = query.relay_state {
        out.push_str(&format!("&RelayState={}", encode(relay)));
    }
    out.push_str(&format!(
        "&SigAlg={}",
        encode(query.sig_alg.unwrap_or_default())
    ));
    out
}

fn as_received(query: &RawSignedQuery<'_>) -> String {
    join(query, str::to_string)
}

fn rebuilt(query: &RawSignedQuery<'_>) -> String {
    join(query, |raw| {
        url::form_urlencoded::byte_serialize(form_decode(raw).as_bytes()).collect()
    })
}

/// Percent-decoding with `+` as space (application/x-www-form-urlencoded).
pub fn form_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("x={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn rsa_sha256_verifies(cert: &Certificate, octets: &[u8], signature: &[u8]) -> bool {
    Verifier::new(MessageDigest::sha256(), cert.public_key())
        .and_then(|mut v| {
            v.update(octets)?;
            v.verify(signature)
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::PKey;
    use openssl::sign::Signer;

    use crate::crypto::test_fixtures::fixture;

    fn sign(octets: &str, key: &str) -> String {
        let key = PKey::private_key_from_pem(&fixture(key)).expect("key");
        let mut signer = Signer::new(MessageDigest::sha256(), &key).expect("signer");
        signer.update(octets.as_bytes()).expect("update");
        let sig =
            base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().expect("sign"));
        url::form_urlencoded::byte_serialize(sig.as_bytes()).collect()
    }

    fn certs() -> Vec<Certificate> {
        ["sp1-test-only.crt", "sp1-second-test-only.crt"]
            .iter()
            .map(|n| Certificate::from_pem(&fixture(n)).expect("cert"))
            .collect()
    }

    const ALG: &str = "http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256";

    #[test]
    fn verifies_over_the_received_octets_with_either_certificate() {
        let octets = format!("SAMLRequest=abc%2b%2F&RelayState=a%20b&SigAlg={ALG}");
        for (key, index) in [("sp1-test-only.key", 0), ("sp1-second-test-only.key", 1)] {
            let sig = sign(&octets, key);
            let q = RawSignedQuery {
                message: ("SAMLRequest", "abc%2b%2F"),
                relay_state: Some("a%20b"),
                sig_alg: Some(ALG),
                signature: Some(&sig),
            };
            assert_eq!(verify(&q, &certs()), Ok(Some(index)));
        }
    }

    #[test]
    fn falls_back_to_the_form_escaped_rebuild() {
        // Signed over upper-case hex and `+` for space; received with lower-case and %20.
        let sig = sign(
            &format!("SAMLRequest=abc%2B%2F&RelayState=a+b&SigAlg={ALG}"),
            "sp1-test-only.key",
        );
        let q = RawSignedQuery {
            message: ("SAMLRequest", "abc%2b%2f"),
            relay_state: Some("a%20b"),
            sig_alg: Some(ALG),
            signature: Some(&sig),
        };
        assert_eq!(verify(&q, &certs()), Ok(Some(0)));
    }

    #[test]
    fn refusals_are_named() {
        let base = RawSignedQuery {
            message: ("SAMLRequest", "abc"),
            ..RawSignedQuery::default()
        };
        assert_eq!(verify(&base, &certs()), Ok(None));
        let no_alg = RawSignedQuery {
            signature: Some("AAAA"),
            ..base.clone()
        };
        assert_eq!(
            verify(&no_alg, &certs()),
            Err(QuerySignatureError::MissingSigAlg)
        );
        let sha1 = RawSignedQuery {
            signature: Some("AAAA"),
            sig_alg: Some("http%3A%2F%2Fwww.w3.org%2F2000%2F09%2Fxmldsig%23rsa-sha1"),
            ..base.clone()
        };
        assert_eq!(
            verify(&sha1, &certs()).map_err(|e| e.detail()),
            Err("wrong_sig_algorithm")
        );
        let other = sign(
            &format!("SAMLRequest=abc&SigAlg={ALG}"),
            "sp2-test-only.key",
        );
        let wrong_key = RawSignedQuery {
            signature: Some(&other),
            sig_alg: Some(ALG),
            ..base.clone()
        };
        assert_eq!(
            verify(&wrong_key, &certs()),
            Err(QuerySignatureError::NoMatchingCertificate)
        );
        let short = RawSignedQuery {
            signature: Some(&other),
            sig_alg: Some("SHA256"),
            ..base
        };
        assert_eq!(
            verify(&short, &certs()),
            Err(QuerySignatureError::NoMatchingCertificate)
        );
    }
}
