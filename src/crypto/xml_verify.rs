//! Verification of an enveloped XML signature on the root element (SPEC 5), by libxmlsec1
//! on the same libxml2 document the values are read from. The structure is checked first and
//! strictly, so xmlsec only ever computes what we allow:
//! exactly one `ds:Signature`, a direct child of the root; one `Reference` to `#` + the
//! root's `ID`; transforms enveloped-signature then exc-c14n; canonicalisation exc-c14n;
//! RSA-SHA256; SHA-256/384/512 digest; IDs unique in the document. Only registered
//! certificates are tried, in order; a certificate in `KeyInfo` is never trusted.

use base64::Engine;
use libxml::tree::Node;
use thiserror::Error;
use xmlsec::{XmlSecKey, XmlSecKeyFormat};

use super::cert::Certificate;
use crate::saml::ns;
use crate::saml::xml_doc::{self, XmlDoc};

const DIGESTS: &[&str] = &[
    ns::ALG_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];

/// Why a signature was refused; `detail()` names it for logs and error pages.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("signature structure refused: {0}")]
    Structure(&'static str),
    #[error("signature algorithm not allowed: {0}")]
    WrongAlgorithm(String),
    #[error("the KeyInfo certificate element is blank")]
    BlankCertificate,
    #[error("the KeyInfo certificate is not registered for this service provider")]
    CertificateNotRegistered,
    #[error("no registered certificate verifies the signature")]
    NoMatchingCertificate,
    #[error("the service provider has no registered certificate")]
    NoCertificates,
}

impl SignatureError {
    /// A short machine-readable reason (SPEC 5's `wrong_sig_algorithm` and friends).
    pub fn detail(&self) -> &'static str {
        match self {
            SignatureError::Structure(_) => "wrong_signature_structure",
            SignatureError::WrongAlgorithm(_) => "wrong_sig_algorithm",
            SignatureError::BlankCertificate => "blank_cert_element_req",
            SignatureError::CertificateNotRegistered => "request_cert_not_registered",
            SignatureError::NoMatchingCertificate => "no_matching_certificate",
            SignatureError::NoCertificates => "no_cert_registered",
        }
    }
}

/// The outcome for a document whose signature structure and value were acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// No `ds:Signature` anywhere in the document.
    No,
    /// Verified by the registered certificate at this index: the *matching certificate*.
    Yes { certificate: usize },
}

/// Is the root of `doc` signed, and by which registered certificate?
pub fn verify_root(doc: &XmlDoc, certs: &[Certificate]) -> Result<Signed, SignatureError> {
    let root = doc
        .root()
        .ok_or(SignatureError::Structure("no root element"))?;
    let all = xml_doc::descendants(&root);
    let signatures: Vec<&Node> = all
        .iter()
        .filter(|n| xml_doc::is(n, ns::DS, "Signature"))
        .collect();
    let signature = match signatures.as_slice() {
        [] => return Ok(Signed::No),
        [only] if only.get_parent().is_some_and(|p| p == root) => (*only).clone(),
        [_] => {
            return Err(SignatureError::Structure(
                "the signature is not a direct child of the root",
            ))
        }
        _ => return Err(SignatureError::Structure("more than one signature")),
    };
    let root_id = root
        .get_property_no_ns("ID")
        .ok_or(SignatureError::Structure("the root has no ID"))?;
    refuse_other_ids(&all)?;
    ensure_unique_ids(&all)?;
    check_signed_info(&signature, &root_id)?;
    if certs.is_empty() {
        return Err(SignatureError::NoCertificates);
    }
    ensure_reference_is_root(doc, &root, &root_id)?;
    for (index, cert) in certs.iter().enumerate() {
        if verifies_with(&signature, cert) {
            return Ok(Signed::Yes { certificate: index });
        }
    }
    Err(SignatureError::NoMatchingCertificate)
}

/// Only the unqualified `ID` attribute identifies elements here. libxml2 registers
/// `xml:id` as an ID by itself, and a namespaced `x:ID` would be read as `ID` by
/// namespace-blind lookups: either one next to the root's `ID` is how a Reference could be
/// made to resolve to another element (signature wrapping). Both are refused outright.
fn refuse_other_ids(all: &[Node]) -> Result<(), SignatureError> {
    for node in all {
        for (name, namespace) in node.get_properties_ns().into_keys() {
            let qualified = namespace.is_some();
            if qualified && (name == "ID" || name == "id") {
                return Err(SignatureError::Structure(
                    "a namespaced ID attribute (xml:id or prefix:ID) is not allowed",
                ));
            }
        }
    }
    Ok(())
}

/// The Reference's `#ID` must resolve, through the ID table xmlsec uses (its XPointer
/// `id()`), to the root itself and nothing else (defence in depth after `check_signed_info`).
fn ensure_reference_is_root(
    doc: &XmlDoc,
    root: &Node,
    root_id: &str,
) -> Result<(), SignatureError> {
    if !crate::saml::xs_id::is_valid_id(root_id) {
        return Err(SignatureError::Structure("the root ID is not an xs:ID"));
    }
    match super::xmlsec_ffi::register_root_id(doc.document(), root, root_id) {
        true => Ok(()),
        false => Err(SignatureError::Structure(
            "the reference does not resolve to the root element alone",
        )),
    }
}

fn verifies_with(signature: &Node, cert: &Certificate) -> bool {
    let fingerprint = cert.sha256_fingerprint();
    let Some(key) = take_key(cert, fingerprint) else {
        return false;
    };
    let (verified, key) = super::xmlsec_ffi::verify_with_key(signature, key);
    // The key goes back to the cache unchanged: verification only reads it.
    if let Some(key) = key {
        put_key(fingerprint.to_string(), key);
    }
    verified
}

/// At most this many certificates' keys are kept per thread; past it the cache starts over.
const KEY_CACHE_ENTRIES: usize = 256;

thread_local! {
    /// Each registered certificate's public key as a libxmlsec1 key, by the certificate's
    /// SHA-256, loaded once per thread (the blocking pool's threads live as long as the
    /// server). Loading it at every message was most of a message's verification cost, and
    /// so was copying a key that carried its certificate (`xmlSecKeyDuplicate` re-decodes
    /// the X.509 structure through OpenSSL 3's decoders and their locks, issue 23): the key
    /// is lent to the verification context and taken back instead of copied. A key is only
    /// ever used for the certificate it was made from: the fingerprint of that very
    /// certificate names it. `XmlSecKey` is a raw pointer (not `Send`): a thread-local is
    /// where it can live.
    static KEYS: std::cell::RefCell<std::collections::HashMap<String, XmlSecKey>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// `cert`'s key, out of the cache (loaded from the certificate's public key on first use);
/// [`put_key`] returns it.
fn take_key(cert: &Certificate, fingerprint: &str) -> Option<XmlSecKey> {
    if let Some(key) = KEYS.with(|keys| keys.borrow_mut().remove(fingerprint)) {
        return Some(key);
    }
    // The public key alone: only the certificate's key verifies; nothing else about the
    // certificate is used by the signature check.
    let pem = cert.public_key().public_key_to_pem().ok()?;
    XmlSecKey::from_memory(&pem, XmlSecKeyFormat::Pem, None).ok()
}

fn put_key(fingerprint: String, key: XmlSecKey) {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if keys.len() >= KEY_CACHE_ENTRIES {
            keys.clear();
        }
        keys.insert(fingerprint, key);
    });
}

fn ensure_unique_ids(all: &[Node]) -> Result<(), SignatureError> {
    let mut seen = std::collections::HashSet::new();
    for id in all.iter().filter_map(|n| xml_doc::attr(n, "ID")) {
        if !seen.insert(id) {
            return Err(SignatureError::Structure(
                "an ID occurs twice in the document",
            ));
        }
    }
    Ok(())
}

fn algorithm(node: &Node) -> String {
    xml_doc::attr(node, "Algorithm").unwrap_or_default()
}

fn one(parent: &Node, local: &'static str) -> Result<Node, SignatureError> {
    xml_doc::only_child(parent, ns::DS, local).ok_or(SignatureError::Structure(local))
}

fn check_signed_info(signature: &Node, root_id: &str) -> Result<(), SignatureError> {
    let allowed = ["SignedInfo", "SignatureValue", "KeyInfo"];
    if signature
        .get_child_elements()
        .iter()
        .any(|c| !allowed.iter().any(|a| xml_doc::is(c, ns::DS, a)))
    {
        return Err(SignatureError::Structure("unexpected element in Signature"));
    }
    one(signature, "SignatureValue")?;
    let signed_info = one(signature, "SignedInfo")?;
    if algorithm(&one(&signed_info, "CanonicalizationMethod")?) != ns::ALG_EXC_C14N {
        return Err(SignatureError::Structure(
            "canonicalization must be exc-c14n",
        ));
    }
    let method = algorithm(&one(&signed_info, "SignatureMethod")?);
    if method != ns::ALG_RSA_SHA256 {
        return Err(SignatureError::WrongAlgorithm(method));
    }
    let reference = one(&signed_info, "Reference")?;
    if xml_doc::attr(&reference, "URI").as_deref() != Some(&format!("#{root_id}")) {
        return Err(SignatureError::Structure(
            "the reference is not to the root element",
        ));
    }
    let digest = algorithm(&one(&reference, "DigestMethod")?);
    if !DIGESTS.contains(&digest.as_str()) {
        return Err(SignatureError::WrongAlgorithm(digest));
    }
    one(&reference, "DigestValue")?;
    check_transforms(&one(&reference, "Transforms")?)
}

/// Exactly enveloped-signature then exc-c14n (which may carry InclusiveNamespaces).
fn check_transforms(transforms: &Node) -> Result<(), SignatureError> {
    let list = transforms.get_child_elements();
    let algorithms: Vec<String> = list.iter().map(algorithm).collect();
    let names_ok = list.iter().all(|t| xml_doc::is(t, ns::DS, "Transform"));
    if !names_ok || algorithms != [ns::ALG_ENVELOPED, ns::ALG_EXC_C14N] {
        return Err(SignatureError::Structure(
            "transforms must be enveloped-signature then exc-c14n",
        ));
    }
    let extra = list[0].get_child_elements().len()
        + list[1]
            .get_child_elements()
            .iter()
            .filter(|c| !xml_doc::is(c, ns::ALG_EXC_C14N, "InclusiveNamespaces"))
            .count();
    if extra > 0 {
        return Err(SignatureError::Structure(
            "unexpected content in a transform",
        ));
    }
    Ok(())
}

/// A certificate in the KeyInfo of the root's signature is never used to verify; if present
/// it must be one of the registered ones (SPEC 5). Checked apart from `verify_root` so that
/// both findings are reported.
pub fn check_key_info(doc: &XmlDoc, certs: &[Certificate]) -> Result<(), SignatureError> {
    let Some(root) = doc.root() else {
        return Ok(());
    };
    let Some(signature) = xml_doc::only_child(&root, ns::DS, "Signature") else {
        return Ok(());
    };
    let Some(key_info) = xml_doc::only_child(&signature, ns::DS, "KeyInfo") else {
        return Ok(());
    };
    for data in xml_doc::children(&key_info, ns::DS, "X509Data") {
        for element in xml_doc::children(&data, ns::DS, "X509Certificate") {
            let text = xml_doc::plain_text(&element)
                .map_err(|_| SignatureError::CertificateNotRegistered)?;
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            if compact.is_empty() {
                return Err(SignatureError::BlankCertificate);
            }
            let der = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| SignatureError::CertificateNotRegistered)?;
            if !certs
                .iter()
                .any(|c| c.x509().to_der().ok().as_deref() == Some(der.as_slice()))
            {
                return Err(SignatureError::CertificateNotRegistered);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keyring::SigningKey;
    use crate::crypto::test_fixtures::fixture;
    use crate::crypto::xml_signer::sign_enveloped;
    use crate::saml::xml_reader::Limits;
    use crate::saml::SamlYear;

    fn certificate(name: &str) -> Certificate {
        Certificate::from_pem(&fixture(name)).expect("certificate")
    }

    /// A LogoutRequest signed by `sp1`'s TEST-ONLY key, as an SP would send it.
    fn signed(text: &str) -> Vec<u8> {
        let key = SigningKey::new(
            SamlYear::new(2026).unwrap(),
            certificate("sp1-test-only.crt"),
            openssl::pkey::PKey::private_key_from_pem(&fixture("sp1-test-only.key")).unwrap(),
        )
        .expect("key");
        let element = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
             ID=\"_r1\" Version=\"2.0\"><samlp:SessionIndex>{text}</samlp:SessionIndex>\
             </samlp:LogoutRequest>"
        );
        let at = element.find("<samlp:SessionIndex>").unwrap();
        sign_enveloped(element.as_bytes(), at, "_r1", &key).expect("signed")
    }

    fn verify(xml: &[u8], certs: &[Certificate]) -> Result<Signed, SignatureError> {
        verify_root(
            &XmlDoc::parse(xml, &Limits::default()).expect("parse"),
            certs,
        )
    }

    /// The cached key is lent to libxmlsec1 and comes back whether verification succeeds,
    /// fails at the digest (before libxmlsec1 asks for a key) or fails at the signature value:
    /// the same thread verifies again and again with the same cached key.
    #[test]
    fn the_lent_key_verifies_and_comes_back_on_every_path() {
        let registered = [
            certificate("sp2-test-only.crt"),
            certificate("sp1-test-only.crt"),
        ];
        let good = signed("abc");
        let tampered = String::from_utf8(good.clone())
            .unwrap()
            .replace(">abc<", ">abd<");
        let other_value = {
            let other = String::from_utf8(signed("xyz")).unwrap();
            let value = |xml: &str| {
                let start = xml.find("<ds:SignatureValue>").unwrap();
                let end = xml.find("</ds:SignatureValue>").unwrap();
                xml[start..end].to_string()
            };
            let good = String::from_utf8(good.clone()).unwrap();
            good.replace(&value(&good), &value(&other))
        };
        for _ in 0..3 {
            assert_eq!(
                verify(&good, &registered),
                Ok(Signed::Yes { certificate: 1 })
            );
            assert_eq!(
                verify(tampered.as_bytes(), &registered),
                Err(SignatureError::NoMatchingCertificate)
            );
            assert_eq!(
                verify(other_value.as_bytes(), &registered),
                Err(SignatureError::NoMatchingCertificate)
            );
            assert_eq!(
                verify(&good, &registered[..1]),
                Err(SignatureError::NoMatchingCertificate)
            );
        }
        assert_eq!(
            verify(&good, &registered),
            Ok(Signed::Yes { certificate: 1 })
        );
    }
}
