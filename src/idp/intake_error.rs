//! The error catalogue of request intake (SPEC 4): every code, the field it belongs to, and
//! an optional detail the IdP itself wrote (which limit, what is malformed). The texts shown
//! to people live in the message catalogues, keyed by code.

use serde::Serialize;

/// Every way an incoming SAML request can be refused, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntakeCode {
    IssuerMissingOrInvalid,
    BothAuthAndLogoutRequest,
    NoAuthOrLogoutRequest,
    NoResponseUrl,
    InvalidSignature,
    BlankCertElementReq,
    RequestCertNotRegistered,
    UnauthorizedServiceProvider,
    NoCertRegistered,
    UnauthorizedAuthnContext,
    UnauthorizedNameidFormat,
    AcsUrlNotRegistered,
    SignatureRequired,
    DestinationMismatch,
    RequestTooLarge,
    MalformedRequest,
}

/// The label an error is listed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    ServiceProvider,
    AuthnContext,
    NameidFormat,
    SamlRequest,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::ServiceProvider => "service_provider",
            Field::AuthnContext => "authn_context",
            Field::NameidFormat => "nameid_format",
            Field::SamlRequest => "saml_request",
        }
    }
}

/// In SPEC 4's order, which is also the order errors are listed in.
const CATALOGUE: &[(IntakeCode, &str, Field)] = &[
    (
        IntakeCode::IssuerMissingOrInvalid,
        "issuer_missing_or_invalid",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::BothAuthAndLogoutRequest,
        "both_auth_and_logout_request",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::NoAuthOrLogoutRequest,
        "no_auth_or_logout_request",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::NoResponseUrl,
        "no_response_url",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::InvalidSignature,
        "invalid_signature",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::BlankCertElementReq,
        "blank_cert_element_req",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::RequestCertNotRegistered,
        "request_cert_not_registered",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::UnauthorizedServiceProvider,
        "unauthorized_service_provider",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::NoCertRegistered,
        "no_cert_registered",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::UnauthorizedAuthnContext,
        "unauthorized_authn_context",
        Field::AuthnContext,
    ),
    (
        IntakeCode::UnauthorizedNameidFormat,
        "unauthorized_nameid_format",
        Field::NameidFormat,
    ),
    (
        IntakeCode::AcsUrlNotRegistered,
        "acs_url_not_registered",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::SignatureRequired,
        "signature_required",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::DestinationMismatch,
        "destination_mismatch",
        Field::ServiceProvider,
    ),
    (
        IntakeCode::RequestTooLarge,
        "request_too_large",
        Field::SamlRequest,
    ),
    (
        IntakeCode::MalformedRequest,
        "malformed_request",
        Field::SamlRequest,
    ),
];

impl IntakeCode {
    fn entry(self) -> (&'static str, Field) {
        CATALOGUE
            .iter()
            .find(|(c, _, _)| *c == self)
            .map(|(_, name, field)| (*name, *field))
            .unwrap_or(("malformed_request", Field::SamlRequest))
    }

    pub fn as_str(self) -> &'static str {
        self.entry().0
    }

    pub fn field(self) -> Field {
        self.entry().1
    }

    pub fn all() -> impl Iterator<Item = IntakeCode> {
        CATALOGUE.iter().map(|(c, _, _)| *c)
    }
}

/// Longest detail kept: details may quote names from the request.
const MAX_DETAIL: usize = 200;

/// One refusal. `detail` is text the IdP wrote (never raw request bytes beyond a short,
/// escaped excerpt); pages and JSON show it, logs record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeError {
    pub code: IntakeCode,
    pub detail: Option<String>,
}

impl IntakeError {
    pub fn new(code: IntakeCode) -> Self {
        IntakeError { code, detail: None }
    }

    pub fn with_detail(code: IntakeCode, detail: impl Into<String>) -> Self {
        let mut detail: String = detail.into();
        if detail.len() > MAX_DETAIL {
            let mut cut = MAX_DETAIL;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
            detail.push('…');
        }
        IntakeError {
            code,
            detail: Some(detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_in_the_catalogue_once() {
        let names: std::collections::HashSet<_> =
            IntakeCode::all().map(IntakeCode::as_str).collect();
        assert_eq!(names.len(), CATALOGUE.len());
        assert_eq!(
            IntakeCode::AcsUrlNotRegistered.as_str(),
            "acs_url_not_registered"
        );
        assert_eq!(
            IntakeCode::UnauthorizedAuthnContext.field(),
            Field::AuthnContext
        );
    }

    #[test]
    fn details_are_bounded() {
        let e = IntakeError::with_detail(IntakeCode::MalformedRequest, "é".repeat(500));
        assert!(e.detail.map_or(0, |d| d.len()) <= MAX_DETAIL + 3);
    }
}
