//! `samlp:Response` and `saml:Assertion` (saml-core §2.3.3, §3.2.2; SPEC 8), written in
//! canonical form. The Assertion is written alone (it declares every namespace it uses), so
//! it can be signed, encrypted or spliced into the Response unchanged.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use super::ns;
use super::xml_writer::CanonicalWriter;

/// One attribute: its name, whether its NameFormat is `basic` (else `uri`), its values
/// (none for a null value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub basic: bool,
    pub values: Vec<String>,
}

/// Everything an assertion states.
#[derive(Debug, Clone)]
pub struct AssertionContent<'a> {
    pub id: &'a str,
    pub issue_instant: DateTime<Utc>,
    pub issuer: &'a str,
    pub name_id_format: &'a str,
    pub name_id: &'a str,
    /// The registered ACS URL (Recipient) and the request's ID (InResponseTo).
    pub recipient: &'a str,
    pub in_response_to: &'a str,
    pub audience: &'a str,
    pub attributes: &'a [Attribute],
    pub authn_instant: DateTime<Utc>,
    pub session_index: &'a str,
    pub authn_context_class_ref: &'a str,
}

/// An Assertion ready to sign: the signature goes right after its Issuer.
#[derive(Debug, Clone)]
pub struct UnsignedElement {
    pub xml: Vec<u8>,
    pub signature_at: usize,
}

/// UTC, whole seconds, `Z` (SPEC 8).
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn write_assertion(a: &AssertionContent<'_>) -> UnsignedElement {
    let mut w = CanonicalWriter::new();
    let issued = instant(a.issue_instant);
    w.start(
        "saml:Assertion",
        &[("ID", a.id), ("IssueInstant", &issued), ("Version", "2.0")],
    );
    w.leaf("saml:Issuer", &[], a.issuer);
    let signature_at = w.position();
    write_subject(&mut w, a);
    let not_before = instant(a.issue_instant - Duration::seconds(5));
    let not_on_or_after = instant(a.issue_instant + Duration::hours(1));
    w.start(
        "saml:Conditions",
        &[
            ("NotBefore", &not_before),
            ("NotOnOrAfter", &not_on_or_after),
        ],
    );
    w.start("saml:AudienceRestriction", &[]);
    w.leaf("saml:Audience", &[], a.audience);
    w.end();
    w.end();
    write_attributes(&mut w, a.attributes);
    let authn_instant = instant(a.authn_instant);
    w.start(
        "saml:AuthnStatement",
        &[
            ("AuthnInstant", &authn_instant),
            ("SessionIndex", a.session_index),
        ],
    );
    w.start("saml:AuthnContext", &[]);
    w.leaf("saml:AuthnContextClassRef", &[], a.authn_context_class_ref);
    w.end();
    w.end();
    w.end();
    UnsignedElement {
        xml: w.into_bytes(),
        signature_at,
    }
}

fn write_subject(w: &mut CanonicalWriter, a: &AssertionContent<'_>) {
    w.start("saml:Subject", &[]);
    w.leaf("saml:NameID", &[("Format", a.name_id_format)], a.name_id);
    w.start("saml:SubjectConfirmation", &[("Method", ns::CM_BEARER)]);
    let expires = instant(a.issue_instant + Duration::minutes(3));
    w.empty(
        "saml:SubjectConfirmationData",
        &[
            ("InResponseTo", a.in_response_to),
            ("NotOnOrAfter", &expires),
            ("Recipient", a.recipient),
        ],
    );
    w.end();
    w.end();
}

/// The schema wants at least one Attribute in an AttributeStatement: none, no statement.
fn write_attributes(w: &mut CanonicalWriter, attributes: &[Attribute]) {
    if attributes.is_empty() {
        return;
    }
    w.start("saml:AttributeStatement", &[]);
    for attribute in attributes {
        let format = if attribute.basic {
            ns::ATTRNAME_BASIC
        } else {
            ns::ATTRNAME_URI
        };
        let name = attribute.name.as_str();
        w.start(
            "saml:Attribute",
            &[
                ("FriendlyName", name),
                ("Name", name),
                ("NameFormat", format),
            ],
        );
        for value in &attribute.values {
            w.leaf("saml:AttributeValue", &[], value);
        }
        w.end();
    }
    w.end();
}

/// A status response (`samlp:Response` or `samlp:LogoutResponse`, saml-core §3.2.2) around
/// an already signed (or encrypted) assertion, or around none.
#[derive(Debug, Clone)]
pub struct ResponseContent<'a> {
    /// `samlp:Response` or `samlp:LogoutResponse`.
    pub element: &'static str,
    pub id: &'a str,
    pub issue_instant: DateTime<Utc>,
    /// Empty: no Destination attribute.
    pub destination: &'a str,
    pub in_response_to: &'a str,
    pub issuer: &'a str,
    /// `None`: Success. `Some(sub)`: Responder with that second-level status.
    pub failure: Option<&'a str>,
    /// Canonical `saml:Assertion` or `saml:EncryptedAssertion` bytes.
    pub assertion: Option<&'a [u8]>,
}

pub fn write_response(r: &ResponseContent<'_>) -> UnsignedElement {
    let mut w = CanonicalWriter::new();
    let issued = instant(r.issue_instant);
    let attributes = [
        ("Destination", r.destination),
        ("ID", r.id),
        ("InResponseTo", r.in_response_to),
        ("IssueInstant", &issued),
        ("Version", "2.0"),
    ];
    // Destination is optional (saml-core §3.2.2); an empty one is left out.
    let skip = usize::from(r.destination.is_empty());
    w.start(r.element, attributes.get(skip..).unwrap_or_default());
    w.leaf("saml:Issuer", &[], r.issuer);
    let signature_at = w.position();
    w.start("samlp:Status", &[]);
    match r.failure {
        None => w.empty("samlp:StatusCode", &[("Value", ns::STATUS_SUCCESS)]),
        Some(sub) => {
            w.start("samlp:StatusCode", &[("Value", ns::STATUS_RESPONDER)]);
            w.empty("samlp:StatusCode", &[("Value", sub)]);
            w.end();
        }
    }
    w.end();
    if let Some(assertion) = r.assertion {
        w.canonical_element(assertion);
    }
    w.end();
    UnsignedElement {
        xml: w.into_bytes(),
        signature_at,
    }
}
