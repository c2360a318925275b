//! `samlp:LogoutRequest` (saml-core §3.7.1), read from the root element only.

use chrono::{DateTime, Utc};

use super::ns;
use super::request_root::RequestError;
use super::xml_doc::{self, XmlDoc, XmlDocError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    pub id: String,
    pub issue_instant: DateTime<Utc>,
    pub destination: Option<String>,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    /// The first `SessionIndex`: for remote logout, the user's agency UUID.
    pub session_index: Option<String>,
}

fn text_of(
    root: &libxml::tree::Node,
    namespace: &str,
    local: &str,
) -> Result<Option<String>, XmlDocError> {
    match xml_doc::children(root, namespace, local).first() {
        // Exactly as sent: no trimming (SPEC 3).
        Some(node) => Ok(Some(xml_doc::plain_text(node)?).filter(|s| !s.is_empty())),
        None => Ok(None),
    }
}

/// Reads a document whose root `request_root::kind` reported as `LogoutRequest`.
pub fn read(doc: &XmlDoc) -> Result<LogoutRequest, RequestError> {
    let root = doc.root().ok_or(XmlDocError::Unparseable)?;
    let super::request_root::RootFields { id, issue_instant } = super::request_root::check(&root)?;
    Ok(LogoutRequest {
        id,
        issue_instant,
        destination: xml_doc::attr(&root, "Destination"),
        issuer: text_of(&root, ns::SAML, "Issuer")?,
        name_id: text_of(&root, ns::SAML, "NameID")?,
        session_index: text_of(&root, ns::SAMLP, "SessionIndex")?,
    })
}
