//! The demo SP's checks of a Response, in the order an SP library makes them (python3-saml,
//! ruby-saml): XML that passes the gate, the Response's signature against the IdP metadata's
//! certificates, Destination, InResponseTo, Issuer, status, then the assertion (decrypted with
//! the demo SP's key, its own signature, subject confirmation, validity window, audience).
//! Only what a verified signature covers is read.

use chrono::{DateTime, Duration, Utc};
use libxml::tree::Node;

use super::decrypt;
use super::messages::DemoSession;
use super::sp::DemoSp;
use crate::crypto::xml_verify::{verify_root, Signed};
use crate::saml::ns;
use crate::saml::pretty::pretty_xml;
use crate::saml::xml_doc::{self, children, only_child, XmlDoc};
use crate::saml::xml_reader::Limits;

/// Clock skew allowed on either side of a validity window, as SP libraries allow by default.
const SKEW_SECONDS: i64 = 180;
/// The largest Response the demo SP reads (base64 decoded).
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// The check that failed, named as an integrator would look for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no SAMLResponse was posted")]
    Missing,
    #[error("the SAMLResponse is not base64")]
    NotBase64,
    #[error("the SAMLResponse is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the XML was refused: {0}")]
    Xml(String),
    #[error("the root element is not the samlp:Response or samlp:LogoutResponse expected here")]
    NotAResponse,
    #[error("signature check failed ({0})")]
    Signature(&'static str),
    #[error("neither the Response nor the Assertion is signed")]
    Unsigned,
    #[error("Destination is {found:?}, not this SP's ACS URL")]
    Destination { found: String },
    #[error("no AuthnRequest from this browser is waiting for an answer (unsolicited Response)")]
    Unsolicited,
    #[error("InResponseTo is {found:?}, not the ID of the AuthnRequest this browser sent")]
    InResponseTo { found: String },
    #[error("Issuer is {found:?}, not the IdP's entity ID from its metadata")]
    Issuer { found: String },
    #[error("the assertion is not encrypted, and this SP requires encrypted assertions")]
    NotEncrypted,
    #[error("decryption failed: {0}")]
    Decryption(String),
    #[error("the Response holds no single assertion")]
    NoAssertion,
    #[error("the subject has no bearer SubjectConfirmation for this SP's ACS URL and request")]
    SubjectConfirmation,
    #[error("the assertion is not valid yet or no longer (NotBefore/NotOnOrAfter, {skew} s skew allowed)", skew = SKEW_SECONDS)]
    ValidityWindow,
    #[error("the Audience is not this SP's entity ID")]
    Audience,
    #[error("the assertion has no NameID")]
    NoNameId,
}

impl Refusal {
    /// The check's name in fixed words, for logs (the message may quote the document).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::NotBase64 => "not_base64",
            Refusal::TooLarge => "too_large",
            Refusal::Xml(_) => "xml_refused",
            Refusal::NotAResponse => "wrong_root",
            Refusal::Signature(detail) => detail,
            Refusal::Unsigned => "unsigned",
            Refusal::Destination { .. } => "destination",
            Refusal::Unsolicited => "unsolicited",
            Refusal::InResponseTo { .. } => "in_response_to",
            Refusal::Issuer { .. } => "issuer",
            Refusal::NotEncrypted => "not_encrypted",
            Refusal::Decryption(_) => "decryption",
            Refusal::NoAssertion => "no_assertion",
            Refusal::SubjectConfirmation => "subject_confirmation",
            Refusal::ValidityWindow => "validity_window",
            Refusal::Audience => "audience",
            Refusal::NoNameId => "no_name_id",
        }
    }
}

/// A status response that passed the shared checks.
struct Envelope {
    xml: Vec<u8>,
    doc: XmlDoc,
    signed: bool,
    /// The request ID it answers.
    expected: String,
}

/// A Response that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: String,
    /// The second-level status code, for a failure status.
    pub sub_status: Option<String>,
    pub response_signed: bool,
    pub assertion: Option<AssertionOutcome>,
    /// The Response and (decrypted) assertion, indented for reading.
    pub response_xml: String,
    pub assertion_xml: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionOutcome {
    pub session: DemoSession,
    pub assertion_signed: bool,
    /// The xmlenc content algorithm the assertion was encrypted with.
    pub encryption: String,
    pub authn_context: Option<String>,
    pub authn_instant: Option<String>,
    pub not_on_or_after: Option<String>,
    pub attributes: Vec<(String, Vec<String>)>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status == ns::STATUS_SUCCESS
    }
}

impl DemoSp {
    /// Checks a posted `SAMLResponse` against the AuthnRequest this browser sent
    /// (`expected`, from its cookie) at `now`.
    pub fn check_response(
        &self,
        saml_response: &str,
        expected: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, Refusal> {
        let Envelope {
            xml,
            doc,
            signed: response_signed,
            expected,
        } = self.envelope(saml_response, "Response", &self.acs_url, expected)?;
        let root = doc.root().ok_or(Refusal::NotAResponse)?;
        let (status, sub_status) = status_of(&root);
        let response_xml = pretty_xml(&xml);
        if status != ns::STATUS_SUCCESS {
            return Ok(Outcome {
                status,
                sub_status,
                response_signed,
                assertion: None,
                response_xml,
                assertion_xml: None,
            });
        }
        if !children(&root, ns::SAML, "Assertion").is_empty() {
            return Err(Refusal::NotEncrypted);
        }
        let encrypted =
            only_child(&root, ns::SAML, "EncryptedAssertion").ok_or(Refusal::NoAssertion)?;
        let (plain, encryption) = decrypt::encrypted_assertion(&encrypted, self.key.private_key())
            .map_err(Refusal::Decryption)?;
        let assertion_doc = parse(&plain)?;
        let assertion_signed = self.verified(&assertion_doc)?;
        if !(response_signed || assertion_signed) {
            return Err(Refusal::Unsigned);
        }
        let assertion = assertion_doc.root().ok_or(Refusal::NoAssertion)?;
        if !xml_doc::is(&assertion, ns::SAML, "Assertion") {
            return Err(Refusal::NoAssertion);
        }
        let read = self.read_assertion(&assertion, &expected, now)?;
        Ok(Outcome {
            status,
            sub_status,
            response_signed,
            assertion: Some(AssertionOutcome {
                assertion_signed,
                encryption,
                ..read
            }),
            response_xml,
            assertion_xml: Some(pretty_xml(&plain)),
        })
    }

    /// Checks a posted `LogoutResponse` to the logout request this browser sent: signed by
    /// the IdP, addressed here, answering that request. Its status.
    pub fn check_logout_response(
        &self,
        saml_response: &str,
        expected: Option<&str>,
    ) -> Result<String, Refusal> {
        let envelope =
            self.envelope(saml_response, "LogoutResponse", &self.logout_url, expected)?;
        if !envelope.signed {
            return Err(Refusal::Unsigned);
        }
        let root = envelope.doc.root().ok_or(Refusal::NotAResponse)?;
        Ok(status_of(&root).0)
    }

    /// The checks a Response and a LogoutResponse share: XML through the gate, the root
    /// element, its signature if any, `Destination`, `InResponseTo` against the request this
    /// browser is waiting on, `Issuer`.
    fn envelope(
        &self,
        saml_response: &str,
        element: &str,
        destination_url: &str,
        expected: Option<&str>,
    ) -> Result<Envelope, Refusal> {
        let xml = decode(saml_response)?;
        let doc = parse(&xml)?;
        let root = doc.root().ok_or(Refusal::NotAResponse)?;
        if !xml_doc::is(&root, ns::SAMLP, element) {
            return Err(Refusal::NotAResponse);
        }
        let signed = self.verified(&doc)?;
        let destination = xml_doc::attr(&root, "Destination").unwrap_or_default();
        if destination != destination_url {
            return Err(Refusal::Destination { found: destination });
        }
        let expected = expected.ok_or(Refusal::Unsolicited)?.to_string();
        let in_response_to = xml_doc::attr(&root, "InResponseTo").unwrap_or_default();
        if in_response_to != expected {
            return Err(Refusal::InResponseTo {
                found: in_response_to,
            });
        }
        self.check_issuer(&root)?;
        Ok(Envelope {
            xml,
            doc,
            signed,
            expected,
        })
    }

    /// Whether the document's root carries a signature that an IdP certificate verifies; a
    /// signature that is present and fails is a refusal.
    fn verified(&self, doc: &XmlDoc) -> Result<bool, Refusal> {
        match verify_root(doc, &self.idp.signing_certificates) {
            Ok(Signed::Yes { .. }) => Ok(true),
            Ok(Signed::No) => Ok(false),
            Err(e) => Err(Refusal::Signature(e.detail())),
        }
    }

    fn check_issuer(&self, element: &Node) -> Result<(), Refusal> {
        let issuer = only_child(element, ns::SAML, "Issuer")
            .and_then(|i| xml_doc::plain_text(&i).ok())
            .unwrap_or_default();
        if issuer != self.idp.entity_id {
            return Err(Refusal::Issuer { found: issuer });
        }
        Ok(())
    }

    fn read_assertion(
        &self,
        assertion: &Node,
        expected: &str,
        now: DateTime<Utc>,
    ) -> Result<AssertionOutcome, Refusal> {
        self.check_issuer(assertion)?;
        let subject = only_child(assertion, ns::SAML, "Subject").ok_or(Refusal::NoNameId)?;
        let name_id_node = only_child(&subject, ns::SAML, "NameID").ok_or(Refusal::NoNameId)?;
        let name_id = xml_doc::plain_text(&name_id_node).map_err(|_| Refusal::NoNameId)?;
        let confirmed = children(&subject, ns::SAML, "SubjectConfirmation")
            .iter()
            .any(|c| self.confirms(c, expected, now));
        if !confirmed {
            return Err(Refusal::SubjectConfirmation);
        }
        let conditions =
            only_child(assertion, ns::SAML, "Conditions").ok_or(Refusal::ValidityWindow)?;
        if !within(&conditions, now) {
            return Err(Refusal::ValidityWindow);
        }
        let audiences: Vec<String> = children(&conditions, ns::SAML, "AudienceRestriction")
            .iter()
            .flat_map(|r| children(r, ns::SAML, "Audience"))
            .filter_map(|a| xml_doc::plain_text(&a).ok())
            .collect();
        if !audiences.contains(&self.issuer) {
            return Err(Refusal::Audience);
        }
        let statement = only_child(assertion, ns::SAML, "AuthnStatement");
        let class_ref = statement
            .as_ref()
            .and_then(|s| only_child(s, ns::SAML, "AuthnContext"))
            .and_then(|c| only_child(&c, ns::SAML, "AuthnContextClassRef"))
            .and_then(|r| xml_doc::plain_text(&r).ok());
        let statement_attr = |name: &str| statement.as_ref().and_then(|s| xml_doc::attr(s, name));
        Ok(AssertionOutcome {
            session: DemoSession {
                name_id,
                name_id_format: xml_doc::attr(&name_id_node, "Format")
                    .unwrap_or_else(|| ns::NAMEID_UNSPECIFIED.to_string()),
                session_index: statement_attr("SessionIndex"),
            },
            assertion_signed: false,
            encryption: String::new(),
            authn_context: class_ref,
            authn_instant: statement_attr("AuthnInstant"),
            not_on_or_after: xml_doc::attr(&conditions, "NotOnOrAfter"),
            attributes: attributes(assertion),
        })
    }

    /// A bearer confirmation for this ACS URL and request, not expired.
    fn confirms(&self, confirmation: &Node, expected: &str, now: DateTime<Utc>) -> bool {
        let bearer = xml_doc::attr(confirmation, "Method").as_deref() == Some(ns::CM_BEARER);
        let Some(data) = only_child(confirmation, ns::SAML, "SubjectConfirmationData") else {
            return false;
        };
        let attr = |name: &str| xml_doc::attr(&data, name);
        bearer
            && attr("Recipient").as_deref() == Some(self.acs_url.as_str())
            && attr("InResponseTo").as_deref() == Some(expected)
            && attr("NotOnOrAfter")
                .and_then(|t| parse_instant(&t))
                .is_some_and(|t| now - Duration::seconds(SKEW_SECONDS) < t)
    }
}

fn decode(saml_response: &str) -> Result<Vec<u8>, Refusal> {
    use base64::Engine;
    if saml_response.is_empty() {
        return Err(Refusal::Missing);
    }
    if saml_response.len() > MAX_RESPONSE_BYTES / 3 * 4 + 4 {
        return Err(Refusal::TooLarge);
    }
    let compact: String = saml_response
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| Refusal::NotBase64)
}

fn parse(xml: &[u8]) -> Result<XmlDoc, Refusal> {
    let limits = Limits {
        max_bytes: MAX_RESPONSE_BYTES,
        ..Limits::default()
    };
    XmlDoc::parse(xml, &limits).map_err(|e| Refusal::Xml(e.public_detail()))
}

fn status_of(root: &Node) -> (String, Option<String>) {
    let code =
        only_child(root, ns::SAMLP, "Status").and_then(|s| only_child(&s, ns::SAMLP, "StatusCode"));
    let value = code
        .as_ref()
        .and_then(|c| xml_doc::attr(c, "Value"))
        .unwrap_or_default();
    let sub = code
        .as_ref()
        .and_then(|c| only_child(c, ns::SAMLP, "StatusCode"))
        .and_then(|c| xml_doc::attr(&c, "Value"));
    (value, sub)
}

fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `now` inside the Conditions' window, give or take the skew.
fn within(conditions: &Node, now: DateTime<Utc>) -> bool {
    let skew = Duration::seconds(SKEW_SECONDS);
    let bound = |name: &str| xml_doc::attr(conditions, name).map(|t| parse_instant(&t));
    let not_before_ok = match bound("NotBefore") {
        None => true,
        Some(Some(t)) => t <= now + skew,
        Some(None) => false,
    };
    let not_after_ok = match bound("NotOnOrAfter") {
        None => true,
        Some(Some(t)) => now - skew < t,
        Some(None) => false,
    };
    not_before_ok && not_after_ok
}

fn attributes(assertion: &Node) -> Vec<(String, Vec<String>)> {
    children(assertion, ns::SAML, "AttributeStatement")
        .iter()
        .flat_map(|s| children(s, ns::SAML, "Attribute"))
        .map(|a| {
            let name = xml_doc::attr(&a, "Name").unwrap_or_default();
            let values = children(&a, ns::SAML, "AttributeValue")
                .iter()
                .filter_map(|v| xml_doc::plain_text(v).ok())
                .collect();
            (name, values)
        })
        .collect()
}
