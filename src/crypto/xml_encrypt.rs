//! XML Encryption of a signed Assertion (xmlenc-core §3–5, SPEC 8): a fresh content key and
//! IV per response; AES-256-CBC, AES-128-GCM or AES-256-GCM for the element; the key sent
//! with RSA-OAEP-MGF1P (SHA-1, the algorithm's defined digest) to the SP's certificate, in
//! `ds:KeyInfo/xenc:EncryptedKey` of the `xenc:EncryptedData`.

use base64::Engine;
use openssl::rand::rand_bytes;
use openssl::rsa::Padding;
use openssl::symm::{encrypt, encrypt_aead, Cipher};
use thiserror::Error;

use super::cert::Certificate;
use crate::saml::ns;
use crate::saml::xml_writer::CanonicalWriter;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentAlgorithm {
    Aes256Cbc,
    Aes128Gcm,
    Aes256Gcm,
}

#[derive(Debug, Error)]
pub enum EncryptError {
    #[error("the recipient certificate has no RSA key")]
    NotRsa,
    #[error("encryption failed: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
}

impl ContentAlgorithm {
    fn uri(self) -> &'static str {
        match self {
            ContentAlgorithm::Aes256Cbc => ns::ALG_AES256_CBC,
            ContentAlgorithm::Aes128Gcm => ns::ALG_AES128_GCM,
            ContentAlgorithm::Aes256Gcm => ns::ALG_AES256_GCM,
        }
    }

    fn key_len(self) -> usize {
        match self {
            ContentAlgorithm::Aes128Gcm => 16,
            ContentAlgorithm::Aes256Cbc | ContentAlgorithm::Aes256Gcm => 32,
        }
    }
}

/// IV || ciphertext (CBC, PKCS#7 padding, which satisfies xmlenc's padding rule) or
/// IV || ciphertext || tag (GCM, 96-bit IV, 128-bit tag: xmlenc-core1 §5.2.4).
fn encrypt_content(
    algorithm: ContentAlgorithm,
    key: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    let gcm = |cipher: Cipher| -> Result<Vec<u8>, EncryptError> {
        let mut iv = [0u8; 12];
        rand_bytes(&mut iv)?;
        let mut tag = [0u8; 16];
        let body = encrypt_aead(cipher, key, Some(&iv), &[], plaintext, &mut tag)?;
        Ok([&iv[..], &body, &tag].concat())
    };
    match algorithm {
        ContentAlgorithm::Aes256Cbc => {
            let mut iv = [0u8; 16];
            rand_bytes(&mut iv)?;
            let body = encrypt(Cipher::aes_256_cbc(), key, Some(&iv), plaintext)?;
            Ok([&iv[..], &body].concat())
        }
        ContentAlgorithm::Aes128Gcm => gcm(Cipher::aes_128_gcm()),
        ContentAlgorithm::Aes256Gcm => gcm(Cipher::aes_256_gcm()),
    }
}

fn transport_key(recipient: &Certificate, key: &[u8]) -> Result<Vec<u8>, EncryptError> {
    let rsa = recipient
        .public_key()
        .rsa()
        .map_err(|_| EncryptError::NotRsa)?;
    let mut out = vec![0u8; rsa.size() as usize];
    let n = rsa.public_encrypt(key, &mut out, Padding::PKCS1_OAEP)?;
    out.truncate(n);
    Ok(out)
}

/// `<saml:EncryptedAssertion>` holding `assertion` (canonical bytes of a signed Assertion).
pub fn encrypt_assertion(
    assertion: &[u8],
    recipient: &Certificate,
    algorithm: ContentAlgorithm,
) -> Result<Vec<u8>, EncryptError> {
    let mut key = vec![0u8; algorithm.key_len()];
    rand_bytes(&mut key)?;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let content = b64(&encrypt_content(algorithm, &key, assertion)?);
    let wrapped = b64(&transport_key(recipient, &key)?);
    let mut w = CanonicalWriter::new();
    w.start("saml:EncryptedAssertion", &[]);
    w.start("xenc:EncryptedData", &[("Type", ns::XENC_ELEMENT)]);
    w.empty("xenc:EncryptionMethod", &[("Algorithm", algorithm.uri())]);
    w.start("ds:KeyInfo", &[]);
    w.start("xenc:EncryptedKey", &[]);
    w.start(
        "xenc:EncryptionMethod",
        &[("Algorithm", ns::ALG_RSA_OAEP_MGF1P)],
    );
    w.empty("ds:DigestMethod", &[("Algorithm", ns::ALG_SHA1)]);
    w.end();
    w.start("xenc:CipherData", &[]);
    w.leaf("xenc:CipherValue", &[], &wrapped);
    w.end();
    w.end();
    w.end();
    w.start("xenc:CipherData", &[]);
    w.leaf("xenc:CipherValue", &[], &content);
    w.end();
    w.end();
    w.end();
    Ok(w.into_bytes())
}
