//! The signature checks of intake (SPEC 5): the embedded XML signature of the root and the
//! Redirect-binding query signature, each verified against the SP's registered
//! certificates only; `KeyInfo` must name a registered certificate when present.

use crate::crypto::query_signature::{self, QuerySignatureError, RawSignedQuery};
use crate::crypto::xml_verify::{self, SignatureError, Signed};
use crate::registry::ServiceProvider;
use crate::saml::xml_doc::XmlDoc;

use super::catalogue::{IntakeCode, IntakeError};

/// What the signature checks found.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signatures {
    /// Index into `sp.certs` of the certificate that verified the message.
    pub matching: Option<usize>,
    /// An embedded or query signature was present (valid or not).
    pub signed: bool,
}

/// Embedded and query signatures; returns the matching certificate and whether the message
/// was signed at all. `required`: an unsigned message is `signature_required`.
pub(super) fn check(
    doc: &XmlDoc,
    query: Option<&RawSignedQuery<'_>>,
    sp: &ServiceProvider,
    required: bool,
    errors: &mut Vec<IntakeError>,
) -> Signatures {
    let embedded = xml_verify::verify_root(doc, &sp.certs);
    if let Err(e) = xml_verify::check_key_info(doc, &sp.certs) {
        errors.push(embedded_error(&e));
    }
    let query = query.map(|q| query_signature::verify(q, &sp.certs));
    let mut found = Signatures::default();
    match embedded {
        Ok(Signed::No) => {}
        Ok(Signed::Yes { certificate }) => {
            found.signed = true;
            found.matching = Some(certificate);
        }
        Err(e) => {
            found.signed = true;
            errors.push(embedded_error(&e));
        }
    }
    match query {
        None | Some(Ok(None)) => {}
        Some(Ok(Some(certificate))) => {
            found.signed = true;
            found.matching = found.matching.or(Some(certificate));
        }
        Some(Err(e)) => {
            found.signed = true;
            errors.push(query_error(&e));
        }
    }
    if !found.signed && required {
        errors.push(IntakeError::new(IntakeCode::SignatureRequired));
    }
    if let Some((index, cert)) = found.matching.and_then(|i| sp.certs.get(i).map(|c| (i, c))) {
        tracing::info!(issuer = %sp.issuer, certificate = index, serial = %cert.serial_hex(), "request signature verified");
    }
    found
}

fn embedded_error(e: &SignatureError) -> IntakeError {
    let code = match e {
        SignatureError::BlankCertificate => IntakeCode::BlankCertElementReq,
        SignatureError::CertificateNotRegistered => IntakeCode::RequestCertNotRegistered,
        SignatureError::NoCertificates => IntakeCode::NoCertRegistered,
        SignatureError::Structure(_)
        | SignatureError::WrongAlgorithm(_)
        | SignatureError::NoMatchingCertificate => IntakeCode::InvalidSignature,
    };
    IntakeError::with_detail(code, e.detail())
}

fn query_error(e: &QuerySignatureError) -> IntakeError {
    let code = match e {
        QuerySignatureError::NoCertificates => IntakeCode::NoCertRegistered,
        _ => IntakeCode::InvalidSignature,
    };
    IntakeError::with_detail(code, e.detail())
}
