//! `samlp:AuthnRequest` (saml-core §3.4.1), read from the root element of the parsed
//! document only: `/samlp:AuthnRequest/saml:Issuer`, never "the first Issuer anywhere"
//! (document-wide lookups are how signature wrapping works, SPEC 4).

use chrono::{DateTime, Utc};
use libxml::tree::Node;

use super::ns;
use super::request_root::{self, RequestError, RootFields};
use super::xml_doc::{self, XmlDoc, XmlDocError};

/// The values of an AuthnRequest the IdP acts on. Still unverified: see `idp::sso`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    pub id: String,
    pub issue_instant: DateTime<Utc>,
    pub destination: Option<String>,
    /// Exactly as sent (no trimming, SPEC 3); `None` when absent or empty.
    pub issuer: Option<String>,
    pub acs_url: Option<String>,
    pub protocol_binding: Option<String>,
    pub force_authn: bool,
    pub is_passive: bool,
    pub name_id_format: Option<String>,
    /// `RequestedAuthnContext/AuthnContextClassRef` texts, exactly as sent, in document order.
    pub authn_context_class_refs: Vec<String>,
    pub comparison: Option<String>,
}

/// Reads the request from a document whose root `kind` reported as `AuthnRequest`.
pub fn read(doc: &XmlDoc) -> Result<AuthnRequest, RequestError> {
    let root = doc.root().ok_or(XmlDocError::Unparseable)?;
    let RootFields { id, issue_instant } = request_root::check(&root)?;
    // saml-core §3.4.1: the two ways of naming the ACS are mutually exclusive.
    if xml_doc::attr(&root, "AssertionConsumerServiceIndex").is_some()
        && xml_doc::attr(&root, "AssertionConsumerServiceURL").is_some()
    {
        return Err(RequestError::AcsIndexAndUrl);
    }
    let issuer = match xml_doc::only_child(&root, ns::SAML, "Issuer") {
        Some(node) => Some(xml_doc::plain_text(&node)?).filter(|s| !s.is_empty()),
        None => None,
    };
    let (authn_context_class_refs, comparison) = requested_authn_context(&root)?;
    Ok(AuthnRequest {
        id,
        issue_instant,
        destination: xml_doc::attr(&root, "Destination"),
        issuer,
        acs_url: xml_doc::attr(&root, "AssertionConsumerServiceURL"),
        protocol_binding: xml_doc::attr(&root, "ProtocolBinding"),
        force_authn: boolean(&root, "ForceAuthn")?,
        is_passive: boolean(&root, "IsPassive")?,
        name_id_format: xml_doc::only_child(&root, ns::SAMLP, "NameIDPolicy")
            .and_then(|p| xml_doc::attr(&p, "Format")),
        authn_context_class_refs,
        comparison,
    })
}

fn requested_authn_context(root: &Node) -> Result<(Vec<String>, Option<String>), RequestError> {
    let Some(context) = xml_doc::only_child(root, ns::SAMLP, "RequestedAuthnContext") else {
        return Ok((Vec::new(), None));
    };
    let refs = xml_doc::children(&context, ns::SAML, "AuthnContextClassRef")
        .iter()
        .map(xml_doc::plain_text)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((refs, xml_doc::attr(&context, "Comparison")))
}

/// xs:boolean (XML Schema §3.2.2): true, false, 1, 0; absent is false.
fn boolean(node: &Node, attribute: &'static str) -> Result<bool, RequestError> {
    match xml_doc::attr(node, attribute).as_deref().map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(RequestError::BadBoolean { attribute }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::request_root::{kind, MessageKind};
    use crate::saml::xml_reader::Limits;

    fn doc(xml: &str) -> XmlDoc {
        XmlDoc::parse(xml.as_bytes(), &Limits::default()).expect("parses")
    }

    const REQUEST: &str = r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1" Version="2.0" IssueInstant="2026-03-15T12:00:00Z" Destination="https://idp/api/saml/auth2026" AssertionConsumerServiceURL="https://sp/acs" ForceAuthn="1"><saml:Issuer>urn:sp</saml:Issuer><samlp:Extensions><saml:Issuer>urn:evil</saml:Issuer></samlp:Extensions><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/><samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>urn:acr.login.gov:auth-only</saml:AuthnContextClassRef><saml:AuthnContextClassRef>http://idmanagement.gov/ns/assurance/aal/2</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"#;

    #[test]
    fn reads_the_root_elements_own_children() {
        let d = doc(REQUEST);
        assert_eq!(kind(&d), MessageKind::AuthnRequest);
        let r = read(&d).expect("reads");
        assert_eq!(
            r.issuer.as_deref(),
            Some("urn:sp"),
            "the Issuer inside Extensions is not read"
        );
        assert!(r.force_authn && !r.is_passive);
        assert_eq!(r.comparison.as_deref(), Some("minimum"));
        assert_eq!(
            r.authn_context_class_refs,
            [
                "urn:acr.login.gov:auth-only",
                "http://idmanagement.gov/ns/assurance/aal/2"
            ]
        );
        assert_eq!(r.name_id_format.as_deref(), Some(ns::NAMEID_PERSISTENT));
    }

    #[test]
    fn comment_inside_issuer_is_malformed() {
        let xml = REQUEST.replace(">urn:sp</saml:Issuer>", ">urn:sp<!---->.evil</saml:Issuer>");
        assert!(matches!(
            read(&doc(&xml)),
            Err(RequestError::Xml(XmlDocError::NotPlainText { .. }))
        ));
    }

    #[test]
    fn values_are_not_trimmed() {
        for issuer in ["urn:sp ", "urn:sp\u{a0}", "\n  urn:sp\n"] {
            let xml = REQUEST.replace(">urn:sp</saml:Issuer>", &format!(">{issuer}</saml:Issuer>"));
            assert_eq!(
                read(&doc(&xml)).expect("reads").issuer.as_deref(),
                Some(issuer)
            );
        }
    }

    #[test]
    fn structure_rules() {
        let cases = [
            (
                REQUEST.replace(" IssueInstant=\"2026-03-15T12:00:00Z\"", ""),
                RequestError::MissingIssueInstant,
            ),
            (
                REQUEST.replace("2026-03-15T12:00:00Z", "yesterday"),
                RequestError::BadIssueInstant,
            ),
            (
                REQUEST.replace(
                    " ForceAuthn",
                    " AssertionConsumerServiceIndex=\"0\" ForceAuthn",
                ),
                RequestError::AcsIndexAndUrl,
            ),
            (
                REQUEST.replace(
                    "<saml:Issuer>urn:sp</saml:Issuer>",
                    "<samlp:NameIDPolicy/><saml:Issuer>urn:sp</saml:Issuer>",
                ),
                RequestError::ChildOrder,
            ),
        ];
        for (xml, expected) in cases {
            assert_eq!(read(&doc(&xml)), Err(expected.clone()), "{expected}");
        }
    }

    #[test]
    fn kinds() {
        let both = REQUEST.replace(
            "<samlp:NameIDPolicy",
            "<samlp:LogoutRequest/><samlp:NameIDPolicy",
        );
        assert_eq!(kind(&doc(&both)), MessageKind::Both);
        assert_eq!(
            kind(&doc(
                "<x:Other xmlns:x=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>"
            )),
            MessageKind::Neither
        );
    }
}
