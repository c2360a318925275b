//! Decryption of a `saml:EncryptedAssertion` with the demo SP's private key, as an SP library
//! does it (xmlenc-core §4): the content key unwrapped with RSA-OAEP (MGF1, SHA-1), the
//! element with AES-CBC (IV first) or AES-GCM (IV first, 128-bit tag last). Algorithms other
//! than those the IdP uses are refused by name.

use base64::Engine;
use libxml::tree::Node;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{decrypt, decrypt_aead, Cipher};

use crate::saml::ns;
use crate::saml::xml_doc::{self, only_child};

const RSA_OAEP_11: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";

/// The plaintext (the Assertion's bytes) and the content algorithm's URI, or why not.
pub fn encrypted_assertion(
    encrypted: &Node,
    key: &PKey<Private>,
) -> Result<(Vec<u8>, String), String> {
    let bad = |what: &str| what.to_string();
    let data = only_child(encrypted, ns::XENC, "EncryptedData")
        .ok_or_else(|| bad("no single xenc:EncryptedData"))?;
    let algorithm = algorithm_of(&data).ok_or_else(|| bad("no EncryptionMethod"))?;
    let encrypted_key = only_child(&data, ns::DS, "KeyInfo")
        .and_then(|info| only_child(&info, ns::XENC, "EncryptedKey"))
        .or_else(|| only_child(encrypted, ns::XENC, "EncryptedKey"))
        .ok_or_else(|| bad("no xenc:EncryptedKey"))?;
    let transport = algorithm_of(&encrypted_key).ok_or_else(|| bad("no key EncryptionMethod"))?;
    if transport != ns::ALG_RSA_OAEP_MGF1P && transport != RSA_OAEP_11 {
        return Err(bad(&format!("key transport {transport} is not RSA-OAEP")));
    }
    let wrapped = cipher_value(&encrypted_key)?;
    let rsa = key.rsa().map_err(|_| bad("the demo SP's key is not RSA"))?;
    let mut content_key = vec![0u8; rsa.size() as usize];
    let n = rsa
        .private_decrypt(&wrapped, &mut content_key, Padding::PKCS1_OAEP)
        .map_err(|_| bad("the content key does not decrypt with the demo SP's key"))?;
    content_key.truncate(n);
    let content = cipher_value(&data)?;
    let plaintext = match algorithm.as_str() {
        ns::ALG_AES256_CBC => cbc(&content_key, &content),
        ns::ALG_AES128_GCM => gcm(Cipher::aes_128_gcm(), &content_key, &content),
        ns::ALG_AES256_GCM => gcm(Cipher::aes_256_gcm(), &content_key, &content),
        other => return Err(bad(&format!("content algorithm {other} is not supported"))),
    }
    .ok_or_else(|| bad("the assertion does not decrypt (wrong key, or altered)"))?;
    Ok((plaintext, algorithm))
}

fn algorithm_of(node: &Node) -> Option<String> {
    only_child(node, ns::XENC, "EncryptionMethod").and_then(|m| xml_doc::attr(&m, "Algorithm"))
}

fn cipher_value(node: &Node) -> Result<Vec<u8>, String> {
    let text = only_child(node, ns::XENC, "CipherData")
        .and_then(|d| only_child(&d, ns::XENC, "CipherValue"))
        .and_then(|v| xml_doc::plain_text(&v).ok())
        .ok_or_else(|| "no CipherData/CipherValue".to_string())?;
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| "a CipherValue is not base64".to_string())
}

fn cbc(key: &[u8], content: &[u8]) -> Option<Vec<u8>> {
    if key.len() != 32 || content.len() < 32 {
        return None;
    }
    let (iv, body) = content.split_at(16);
    decrypt(Cipher::aes_256_cbc(), key, Some(iv), body).ok()
}

fn gcm(cipher: Cipher, key: &[u8], content: &[u8]) -> Option<Vec<u8>> {
    if key.len() != cipher.key_len() || content.len() < 12 + 16 {
        return None;
    }
    let (iv, rest) = content.split_at(12);
    let (body, tag) = rest.split_at(rest.len() - 16);
    decrypt_aead(cipher, key, Some(iv), &[], body, tag).ok()
}
