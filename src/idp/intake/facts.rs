//! What intake learnt about a request besides its verdict: the issuer it named, the SP that
//! issuer is registered as, and what came of its signatures. Intake fills these as it goes;
//! `saml-idp decode` and `/tools/saml-request` report them without verifying anything again.

use std::sync::Arc;

use super::catalogue::{IntakeCode, IntakeError};
use crate::registry::ServiceProvider;

#[derive(Debug, Clone, Default)]
pub struct IntakeFacts {
    /// The root's `saml:Issuer`, once the request parsed.
    pub issuer: Option<String>,
    /// The registered SP of that issuer, when there is one.
    pub sp: Option<Arc<ServiceProvider>>,
    pub signature: SignatureVerdict,
}

/// The outcome of the signature checks against the SP's registered certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SignatureVerdict {
    /// Intake stopped before the signatures were checked (undecodable, no known SP).
    #[default]
    NotChecked,
    /// Neither an embedded nor a query signature.
    Unsigned,
    /// `certificate`: index into the SP's registered certificates of the matching one.
    Verified { certificate: usize, serial: String },
    /// A signature is present and fails; the errors say why, in fixed words.
    Invalid(Vec<IntakeError>),
}

/// The codes the signature checks report.
const SIGNATURE_CODES: &[IntakeCode] = &[
    IntakeCode::InvalidSignature,
    IntakeCode::BlankCertElementReq,
    IntakeCode::RequestCertNotRegistered,
    IntakeCode::NoCertRegistered,
];

impl SignatureVerdict {
    /// From what `check_signatures` returned (`matching`) and the errors it pushed.
    pub fn from_check(
        matching: Option<usize>,
        errors: &[IntakeError],
        sp: &ServiceProvider,
    ) -> SignatureVerdict {
        let failures: Vec<IntakeError> = errors
            .iter()
            .filter(|e| SIGNATURE_CODES.contains(&e.code))
            .cloned()
            .collect();
        if !failures.is_empty() {
            return SignatureVerdict::Invalid(failures);
        }
        match matching.and_then(|i| sp.certs.get(i).map(|c| (i, c))) {
            Some((certificate, cert)) => SignatureVerdict::Verified {
                certificate,
                serial: cert.serial_hex(),
            },
            None => SignatureVerdict::Unsigned,
        }
    }
}
