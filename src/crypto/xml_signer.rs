//! Enveloped XML signatures over elements the `CanonicalWriter` produced: the bytes are
//! already exc-c14n, so the digest is one SHA-256 over them and the signature one RSA
//! operation over the canonical `SignedInfo` (xmldsig-core §3.1). Profile of SPEC 8:
//! exc-c14n, RSA-SHA256, SHA-256 digest, transforms enveloped + exc-c14n, `Reference URI="#ID"`,
//! `KeyInfo/X509Data/X509Certificate` = the year's certificate.

use base64::Engine;
use openssl::hash::{hash, MessageDigest};
use thiserror::Error;

use super::keyring::SigningKey;
use crate::saml::ns;
use crate::saml::xml_writer::CanonicalWriter;

#[derive(Debug, Error)]
pub enum SignError {
    #[error("signature insertion point {at} is outside the element ({len} bytes)")]
    BadSplice { at: usize, len: usize },
    #[error("RSA signing failed: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
}

/// Signs `element` (canonical bytes of the whole element, signature absent) and returns it
/// with a `ds:Signature` inserted at byte offset `at` (right after the `Issuer`, or after the
/// start tag where there is none).
///
/// `reference_id` must be the element's `ID`. No ancestor of `element` in the final document
/// may declare the `ds` prefix, so that the inserted `ds:Signature` is canonical in place.
pub fn sign_enveloped(
    element: &[u8],
    at: usize,
    reference_id: &str,
    key: &SigningKey,
) -> Result<Vec<u8>, SignError> {
    if at == 0 || at >= element.len() {
        return Err(SignError::BadSplice {
            at,
            len: element.len(),
        });
    }
    let started = std::time::Instant::now();
    let digest = b64(&hash(MessageDigest::sha256(), element)?);
    let mut standalone = CanonicalWriter::new();
    write_signed_info(&mut standalone, reference_id, &digest);
    let signature_value = b64(&key.sign_rsa_sha256(&standalone.into_bytes())?);
    crate::metrics::METRICS.signing(started.elapsed());

    let mut w = CanonicalWriter::new();
    w.start("ds:Signature", &[]);
    write_signed_info(&mut w, reference_id, &digest);
    w.leaf("ds:SignatureValue", &[], &signature_value);
    w.start("ds:KeyInfo", &[]);
    w.start("ds:X509Data", &[]);
    w.leaf("ds:X509Certificate", &[], key.certificate_b64());
    w.end();
    w.end();
    w.end();
    let signature = w.into_bytes();

    let mut out = Vec::with_capacity(element.len() + signature.len());
    out.extend_from_slice(&element[..at]);
    out.extend_from_slice(&signature);
    out.extend_from_slice(&element[at..]);
    Ok(out)
}

/// `SignedInfo` is written twice with the same function: standalone (its canonical form,
/// which is what is signed) and inside `ds:Signature` (where `ds` is already declared).
fn write_signed_info(w: &mut CanonicalWriter, reference_id: &str, digest_b64: &str) {
    let uri = format!("#{reference_id}");
    w.start("ds:SignedInfo", &[]);
    w.empty(
        "ds:CanonicalizationMethod",
        &[("Algorithm", ns::ALG_EXC_C14N)],
    );
    w.empty("ds:SignatureMethod", &[("Algorithm", ns::ALG_RSA_SHA256)]);
    w.start("ds:Reference", &[("URI", &uri)]);
    w.start("ds:Transforms", &[]);
    w.empty("ds:Transform", &[("Algorithm", ns::ALG_ENVELOPED)]);
    w.empty("ds:Transform", &[("Algorithm", ns::ALG_EXC_C14N)]);
    w.end();
    w.empty("ds:DigestMethod", &[("Algorithm", ns::ALG_SHA256)]);
    w.leaf("ds:DigestValue", &[], digest_b64);
    w.end();
    w.end();
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
