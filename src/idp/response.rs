//! Building the SAML Response of a completed sign-in (SPEC 8): attribute values, NameID,
//! AuthnContextClassRef, the signed Assertion (inner first), encryption to the matching
//! certificate, the Response signature when the SP asks for it. Also the NoPassive response.

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::sso::pending::PendingRequest;
use crate::accounts::sealing::VerifiedProfile;
use crate::crypto::xml_encrypt::{encrypt_assertion, ContentAlgorithm, EncryptError};
use crate::crypto::xml_signer::{sign_enveloped, SignError};
use crate::crypto::{Certificate, SigningKey};
use crate::ids::IdSource;
use crate::registry::{BlockEncryption, ServiceProvider};
use crate::saml::authn_context::{Aal, Ial};
use crate::saml::ns;
use crate::saml::response::{
    write_assertion, write_response, AssertionContent, Attribute, ResponseContent,
};

#[derive(Debug, Error)]
pub enum ResponseError {
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    #[error("the service provider has no certificate to encrypt to")]
    NoCertificate,
    #[error("email NameID requested but the user has no sign-in email")]
    NoEmail,
}

/// What the user's account says, already unsealed.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub agency_uuid: String,
    pub email: Option<String>,
    pub all_emails: Vec<String>,
    pub locale: String,
    pub profile: Option<VerifiedProfile>,
    pub verified_at: Option<DateTime<Utc>>,
}

/// What a successful response needs besides the pending request.
pub struct Success<'a> {
    pub pending: &'a PendingRequest,
    pub sp: &'a ServiceProvider,
    pub released: &'a [&'static str],
    pub claims: &'a Claims,
    pub authn_instant: DateTime<Utc>,
    pub key: &'a SigningKey,
    pub entity_id: &'a str,
    pub now: DateTime<Utc>,
}

/// The AuthnContextClassRef: the requested AAL value verbatim, else the SP default's.
pub fn aal_value(pending: &PendingRequest, sp: &ServiceProvider) -> String {
    if let Some(value) = &pending.authn_context.aal_value {
        return value.clone();
    }
    match (sp.default_aal, pending.authn_context.aal) {
        (Some(3), _) | (_, Aal::PhishingResistant) => ns::AAL2_PHISHING_RESISTANT.into(),
        (_, Aal::Hspd12) => ns::AAL2_HSPD12.into(),
        (Some(2), _) | (_, Aal::Aal2) => ns::AAL2.into(),
        _ => ns::AAL_DEFAULT.into(),
    }
}

/// The level reached and its value in each vocabulary: (service level, legacy URI).
/// No facial-match evidence is kept, so a "preferred" request is answered as verified.
const IAL_VALUES: &[(Ial, &str, &str)] = &[
    (Ial::AuthOnly, ns::IAL_AUTH_ONLY, ns::LEGACY_IAL1),
    (Ial::Verified, ns::IAL_VERIFIED, ns::LEGACY_IAL2),
    (Ial::FacialMatchPreferred, ns::IAL_VERIFIED, ns::LEGACY_IAL2),
    (
        Ial::FacialMatchRequired,
        ns::IAL_FACIAL_MATCH_REQUIRED,
        ns::LEGACY_IAL2_BIO_REQUIRED,
    ),
];

/// The `ial` attribute, in the request's vocabulary as login.gov answers (SPEC 8): service
/// levels when the request named one (`urn:acr.login.gov:…`), else the legacy URIs. IALMAX
/// reaches verified only for a verified user.
fn ial_value(pending: &PendingRequest, verified: bool) -> String {
    let ctx = &pending.authn_context;
    let reached = match ctx.ial {
        Ial::IalMax if verified => Ial::Verified,
        Ial::IalMax => Ial::AuthOnly,
        other => other,
    };
    let service_level = ctx
        .ial_value
        .as_deref()
        .is_some_and(|v| v.starts_with(ns::SERVICE_LEVEL_PREFIX));
    IAL_VALUES
        .iter()
        .find(|(level, _, _)| *level == reached)
        .map(|(_, level, legacy)| if service_level { *level } else { *legacy })
        .unwrap_or(ns::IAL_AUTH_ONLY)
        .to_string()
}

/// `+` and digits; ten digits are a US number (E.164, reference/user-attributes.txt).
pub fn e164(phone: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    match (phone.trim_start().starts_with('+'), digits.len()) {
        (true, _) => format!("+{digits}"),
        (false, 10) => format!("+1{digits}"),
        (false, _) => format!("+{digits}"),
    }
}

/// Five digits.
pub fn zip5(zip: &str) -> String {
    zip.chars().filter(char::is_ascii_digit).take(5).collect()
}

/// YYYY-MM-DD from YYYY-MM-DD or MM/DD/YYYY.
pub fn iso_date(dob: &str) -> String {
    let dob = dob.trim();
    match dob.split('/').collect::<Vec<_>>().as_slice() {
        [m, d, y] if y.len() == 4 => format!("{y}-{m:0>2}-{d:0>2}"),
        _ => dob.to_string(),
    }
}

fn values(key: &str, s: &Success<'_>, aal: &str) -> Vec<String> {
    let c = s.claims;
    let p = c.profile.clone().unwrap_or_default();
    let one = |v: Option<String>| v.into_iter().collect::<Vec<_>>();
    match key {
        "uuid" => vec![c.agency_uuid.clone()],
        "email" => one(c.email.clone()),
        "all_emails" => c.all_emails.clone(),
        "locale" => vec![c.locale.clone()],
        "ial" => vec![ial_value(s.pending, c.verified_at.is_some())],
        "aal" => vec![aal.to_string()],
        "first_name" => one(p.first_name),
        "middle_name" => one(p.middle_name),
        "last_name" => one(p.last_name),
        "address1" => one(p.address1),
        "address2" => one(p.address2),
        "city" => one(p.city),
        "state" => one(p.state),
        "zipcode" => one(p.zipcode.as_deref().map(zip5)),
        "phone" => one(p.phone.as_deref().map(e164)),
        "dob" => one(p.dob.as_deref().map(iso_date)),
        "ssn" => one(p.ssn),
        "verified_at" => one(c.verified_at.map(crate::saml::response::instant)),
        _ => Vec::new(),
    }
}

/// `uuid`, `email` and `all_emails` use the basic name format (SPEC 8).
const BASIC: &[&str] = &["uuid", "email", "all_emails"];

pub fn build(s: &Success<'_>, ids: &dyn IdSource) -> Result<Vec<u8>, ResponseError> {
    let aal = aal_value(s.pending, s.sp);
    let attributes: Vec<Attribute> = s
        .released
        .iter()
        .map(|key| Attribute {
            name: key.to_string(),
            basic: BASIC.contains(key),
            values: values(key, s, &aal),
        })
        .collect();
    let (format, name_id) = if s.pending.email_name_id {
        (
            ns::NAMEID_EMAIL,
            s.claims.email.clone().ok_or(ResponseError::NoEmail)?,
        )
    } else {
        (ns::NAMEID_PERSISTENT, s.claims.agency_uuid.clone())
    };
    let (assertion_id, session_index) = (ids.new_id(), ids.new_id());
    let unsigned = write_assertion(&AssertionContent {
        id: &assertion_id,
        issue_instant: s.now,
        issuer: s.entity_id,
        name_id_format: format,
        name_id: &name_id,
        recipient: &s.pending.acs_url,
        in_response_to: &s.pending.request_id,
        audience: &s.sp.issuer,
        attributes: &attributes,
        authn_instant: s.authn_instant,
        session_index: &session_index,
        authn_context_class_ref: &aal,
    });
    let signed = sign_enveloped(&unsigned.xml, unsigned.signature_at, &assertion_id, s.key)?;
    let assertion = match content_algorithm(s.sp.block_encryption) {
        None => signed,
        Some(algorithm) => encrypt_assertion(&signed, recipient(s.pending, s.sp)?, algorithm)?,
    };
    wrap(
        &envelope(s.pending, s.sp, s.entity_id, s.now),
        None,
        Some(&assertion),
        s.key,
        ids,
    )
}

/// `Responder`/`NoPassive` to the registered ACS (IsPassive without a usable session).
pub fn build_no_passive(
    pending: &PendingRequest,
    sp: &ServiceProvider,
    entity_id: &str,
    now: DateTime<Utc>,
    key: &SigningKey,
    ids: &dyn IdSource,
) -> Result<Vec<u8>, ResponseError> {
    wrap(
        &envelope(pending, sp, entity_id, now),
        Some(ns::STATUS_NO_PASSIVE),
        None,
        key,
        ids,
    )
}

/// The status response around an assertion (or none): who it is for and whether to sign it.
pub struct Envelope<'a> {
    pub element: &'static str,
    pub destination: &'a str,
    pub in_response_to: &'a str,
    pub issuer: &'a str,
    pub now: DateTime<Utc>,
    pub sign: bool,
}

pub fn wrap(
    e: &Envelope<'_>,
    failure: Option<&str>,
    assertion: Option<&[u8]>,
    key: &SigningKey,
    ids: &dyn IdSource,
) -> Result<Vec<u8>, ResponseError> {
    let id = ids.new_id();
    let response = write_response(&ResponseContent {
        element: e.element,
        id: &id,
        issue_instant: e.now,
        destination: e.destination,
        in_response_to: e.in_response_to,
        issuer: e.issuer,
        failure,
        assertion,
    });
    if !e.sign {
        return Ok(response.xml);
    }
    Ok(sign_enveloped(
        &response.xml,
        response.signature_at,
        &id,
        key,
    )?)
}

fn envelope<'a>(
    pending: &'a PendingRequest,
    sp: &ServiceProvider,
    entity_id: &'a str,
    now: DateTime<Utc>,
) -> Envelope<'a> {
    Envelope {
        element: "samlp:Response",
        destination: &pending.acs_url,
        in_response_to: &pending.request_id,
        issuer: entity_id,
        now,
        sign: sp.signed_response_message_requested,
    }
}

fn content_algorithm(block: BlockEncryption) -> Option<ContentAlgorithm> {
    match block {
        BlockEncryption::None => None,
        BlockEncryption::Aes256Cbc => Some(ContentAlgorithm::Aes256Cbc),
        BlockEncryption::Aes128Gcm => Some(ContentAlgorithm::Aes128Gcm),
        BlockEncryption::Aes256Gcm => Some(ContentAlgorithm::Aes256Gcm),
    }
}

/// The certificate that verified the request, else the SP's first (SPEC 8).
fn recipient<'a>(
    pending: &PendingRequest,
    sp: &'a ServiceProvider,
) -> Result<&'a Certificate, ResponseError> {
    match &pending.matching_certificate {
        Some(fingerprint) => sp
            .certs
            .iter()
            .find(|c| c.sha256_fingerprint() == fingerprint.as_str()),
        None => sp.certs.first(),
    }
    .ok_or(ResponseError::NoCertificate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ial_attribute_speaks_the_requests_vocabulary() {
        use crate::saml::authn_context::SpPolicy;
        let policy = SpPolicy {
            ial: 2,
            default_aal: None,
            ialmax_allowed: true,
            facial_match_enabled: true,
        };
        let cases: &[(&[&str], bool, &str)] = &[
            (&["urn:acr.login.gov:auth-only"], false, ns::IAL_AUTH_ONLY),
            (
                &["http://idmanagement.gov/ns/assurance/ial/1"],
                false,
                ns::LEGACY_IAL1,
            ),
            (
                &["http://idmanagement.gov/ns/assurance/loa/1"],
                false,
                ns::LEGACY_IAL1,
            ),
            (&["urn:acr.login.gov:verified"], true, ns::IAL_VERIFIED),
            (
                &["http://idmanagement.gov/ns/assurance/ial/2"],
                true,
                ns::LEGACY_IAL2,
            ),
            (
                &["http://idmanagement.gov/ns/assurance/ial/2?bio=required"],
                true,
                ns::LEGACY_IAL2_BIO_REQUIRED,
            ),
            (
                &["http://idmanagement.gov/ns/assurance/ial/0"],
                false,
                ns::LEGACY_IAL1,
            ),
            (
                &["http://idmanagement.gov/ns/assurance/ial/0"],
                true,
                ns::LEGACY_IAL2,
            ),
        ];
        for (values, verified, expected) in cases {
            let context = crate::idp::testing::authn_context(values, &policy);
            let at = chrono::DateTime::UNIX_EPOCH;
            let pending = crate::idp::testing::pending_request(context, false, false, at);
            assert_eq!(ial_value(&pending, *verified), *expected, "{values:?}");
        }
    }

    #[test]
    fn formats_proofed_values() {
        assert_eq!(e164("(202) 555-0100"), "+12025550100");
        assert_eq!(e164("+44 20 7946 0958"), "+442079460958");
        assert_eq!(zip5("20500-0003"), "20500");
        assert_eq!(iso_date("7/4/1976"), "1976-07-04");
        assert_eq!(iso_date("1976-07-04"), "1976-07-04");
    }
}
