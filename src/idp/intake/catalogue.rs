//! The error catalogue of request intake (SPEC 4): every code, the field it belongs to, and
//! an optional detail the IdP itself wrote (which limit, what is malformed). The texts shown
//! to people live in the message catalogues, keyed by code.

use serde::Serialize;

/// Every way an incoming SAML request can be refused, in the order they are reported.
// `Deserialize` only in tests: it lets them list every variant by its index, without
// trusting `CATALOGUE` or any hand-written list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(test, derive(serde::Deserialize))]
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
    RequestExpired,
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
        IntakeCode::RequestExpired,
        "request_expired",
        Field::SamlRequest,
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

    /// Every code, in catalogue order (the unit tests check this is every variant).
    pub fn all() -> impl Iterator<Item = IntakeCode> {
        CATALOGUE.iter().map(|(c, _, _)| *c)
    }
}

/// Every variant in declaration order, read from the enum itself (serde's variant index),
/// not from `CATALOGUE`: the list the catalogue tests start from.
#[cfg(test)]
pub(crate) fn every_variant() -> Vec<IntakeCode> {
    use serde::de::value::{Error, U32Deserializer};
    use serde::Deserialize;
    (0u32..)
        .map_while(|i| IntakeCode::deserialize(U32Deserializer::<Error>::new(i)).ok())
        .collect()
}

/// Longest detail kept.
const MAX_DETAIL: usize = 200;

/// One refusal. `detail` is text the IdP wrote in fixed words naming the rule or limit,
/// never anything from the request (SPEC 3); pages and JSON show it, logs record it.
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

    /// The wire code and field of every variant, written out by hand from SPEC 4. No
    /// wildcard arm: a new variant does not compile until it is given its code here.
    fn expected(code: IntakeCode) -> (&'static str, Field) {
        use Field::*;
        use IntakeCode::*;
        match code {
            IssuerMissingOrInvalid => ("issuer_missing_or_invalid", ServiceProvider),
            BothAuthAndLogoutRequest => ("both_auth_and_logout_request", ServiceProvider),
            NoAuthOrLogoutRequest => ("no_auth_or_logout_request", ServiceProvider),
            NoResponseUrl => ("no_response_url", ServiceProvider),
            InvalidSignature => ("invalid_signature", ServiceProvider),
            BlankCertElementReq => ("blank_cert_element_req", ServiceProvider),
            RequestCertNotRegistered => ("request_cert_not_registered", ServiceProvider),
            UnauthorizedServiceProvider => ("unauthorized_service_provider", ServiceProvider),
            NoCertRegistered => ("no_cert_registered", ServiceProvider),
            UnauthorizedAuthnContext => ("unauthorized_authn_context", AuthnContext),
            UnauthorizedNameidFormat => ("unauthorized_nameid_format", NameidFormat),
            AcsUrlNotRegistered => ("acs_url_not_registered", ServiceProvider),
            SignatureRequired => ("signature_required", ServiceProvider),
            DestinationMismatch => ("destination_mismatch", ServiceProvider),
            RequestExpired => ("request_expired", SamlRequest),
            RequestTooLarge => ("request_too_large", SamlRequest),
            MalformedRequest => ("malformed_request", SamlRequest),
        }
    }

    #[test]
    fn the_enumeration_reaches_every_variant() {
        let variants = every_variant();
        assert!(variants.len() >= 16, "{variants:?}");
        assert!(variants.windows(2).all(|w| w[0] < w[1]), "{variants:?}");
        assert_eq!(variants.first(), Some(&IntakeCode::IssuerMissingOrInvalid));
        assert!(variants.contains(&IntakeCode::MalformedRequest));
    }

    #[test]
    fn every_variant_is_in_the_catalogue_once_with_its_code_and_field() {
        for code in every_variant() {
            let entries: Vec<_> = CATALOGUE.iter().filter(|(c, _, _)| *c == code).collect();
            assert_eq!(
                entries.len(),
                1,
                "{code:?} has {} catalogue entries",
                entries.len()
            );
            let (_, wire, field) = entries[0];
            assert_eq!((*wire, *field), expected(code), "{code:?}");
            assert_eq!((code.as_str(), code.field()), expected(code), "{code:?}");
            assert!(!field.as_str().is_empty(), "{code:?}");
        }
        let wires: std::collections::HashSet<_> = CATALOGUE.iter().map(|(_, w, _)| w).collect();
        assert_eq!(
            wires.len(),
            CATALOGUE.len(),
            "two variants share a wire code"
        );
    }

    #[test]
    fn all_yields_every_variant_in_reporting_order() {
        // Errors are reported sorted by the enum's order and the help page lists `all()`:
        // both must be SPEC 4's order.
        assert_eq!(IntakeCode::all().collect::<Vec<_>>(), every_variant());
    }

    #[test]
    fn details_are_bounded() {
        let e = IntakeError::with_detail(IntakeCode::MalformedRequest, "é".repeat(500));
        assert!(e.detail.map_or(0, |d| d.len()) <= MAX_DETAIL + 3);
    }
}
