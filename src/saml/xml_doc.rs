//! The parsed form of an incoming SAML message: one libxml2 document, from which the
//! signature is verified *and* every value is read (DESIGN: one parser per message).
//!
//! Before libxml2 sees the bytes, the hardened reader (`xml_reader`) refuses DOCTYPEs,
//! entity declarations, processing instructions, non-UTF-8, and depth/attribute/size
//! overruns; it is only a gate, never a source of values. libxml2 then parses with network
//! access off and no DTD. Documents are not `Send`: use them inside one blocking task.

use libxml::parser::{Parser, ParserOptions};
use libxml::tree::{Document, Node, NodeType};
use thiserror::Error;

use super::xml_reader::{self, XmlError};

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum XmlDocError {
    #[error(transparent)]
    Refused(#[from] XmlError),
    #[error("the XML could not be parsed")]
    Unparseable,
    #[error(
        "element <{element}> must hold plain text only (no comments, CDATA or child elements)"
    )]
    NotPlainText { element: String },
}

impl XmlDocError {
    /// Fixed words naming the rule that failed, never text from the document (SPEC 3).
    pub fn public_detail(&self) -> String {
        match self {
            XmlDocError::Refused(e) => e.public_detail(),
            XmlDocError::Unparseable => "the XML could not be parsed".into(),
            XmlDocError::NotPlainText { .. } => {
                "a value must be plain text (no comments, CDATA sections or child elements)".into()
            }
        }
    }
}

/// A parsed document; the root is an element.
pub struct XmlDoc {
    doc: Document,
}

impl XmlDoc {
    pub fn parse(xml: &[u8], limits: &xml_reader::Limits) -> Result<XmlDoc, XmlDocError> {
        xml_reader::parse(xml, limits)?;
        let options = ParserOptions {
            // libxml2 recovers from malformed XML by default and returns what it salvaged;
            // the gate (quick-xml) may accept bytes libxml2 calls malformed, e.g. attributes
            // with no space between them, and the two would then read different trees
            // (found by fuzzing: fuzz/regressions/xml_gate/). Malformed is refused instead.
            recover: false,
            no_net: true,
            no_error: true,
            no_warning: true,
            no_def_dtd: true,
            ..ParserOptions::default()
        };
        let doc = Parser::default()
            .parse_string_with_options(xml, options)
            .map_err(|_| XmlDocError::Unparseable)?;
        if doc.get_root_element().is_none() {
            return Err(XmlDocError::Unparseable);
        }
        Ok(XmlDoc { doc })
    }

    pub fn document(&self) -> &Document {
        &self.doc
    }

    pub fn root(&self) -> Option<Node> {
        self.doc.get_root_element()
    }
}

/// `node` is the element `{namespace}local`.
pub fn is(node: &Node, namespace: &str, local: &str) -> bool {
    node.get_type() == Some(NodeType::ElementNode)
        && node.get_name() == local
        && node.get_namespace().map(|ns| ns.get_href()).as_deref() == Some(namespace)
}

/// Direct child elements `{namespace}local`, in document order.
pub fn children(node: &Node, namespace: &str, local: &str) -> Vec<Node> {
    node.get_child_elements()
        .into_iter()
        .filter(|c| is(c, namespace, local))
        .collect()
}

/// The one direct child `{namespace}local`, if there is exactly one.
pub fn only_child(node: &Node, namespace: &str, local: &str) -> Option<Node> {
    let mut found = children(node, namespace, local);
    (found.len() == 1).then(|| found.remove(0))
}

/// An unqualified attribute.
pub fn attr(node: &Node, name: &str) -> Option<String> {
    node.get_property_no_ns(name)
}

/// The text of an element that must hold text only: a comment, CDATA section, processing
/// instruction or child element inside it is an error, so `a<!---->b` is never read as `ab`
/// (SPEC 3).
pub fn plain_text(node: &Node) -> Result<String, XmlDocError> {
    let mut out = String::new();
    for child in node.get_child_nodes() {
        match child.get_type() {
            Some(NodeType::TextNode) => out.push_str(&child.get_content()),
            _ => {
                return Err(XmlDocError::NotPlainText {
                    element: node.get_name(),
                })
            }
        }
    }
    Ok(out)
}

/// Every element of the document, depth first (bounded by the reader's depth limit).
pub fn descendants(node: &Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![node.clone()];
    while let Some(n) = stack.pop() {
        let mut kids = n.get_child_elements();
        kids.reverse();
        stack.extend(kids);
        out.push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<XmlDoc, XmlDocError> {
        XmlDoc::parse(xml.as_bytes(), &xml_reader::Limits::default())
    }

    #[test]
    fn reads_plain_text_and_refuses_mixed_content() {
        let doc = parse("<a:r xmlns:a=\"urn:a\"><a:i>urn:sp&amp;x</a:i><a:j>urn:sp<!---->.evil</a:j><a:k><![CDATA[x]]></a:k></a:r>")
            .expect("parses");
        let root = doc.root().expect("root");
        assert!(is(&root, "urn:a", "r"));
        let i = only_child(&root, "urn:a", "i").expect("i");
        assert_eq!(plain_text(&i).expect("text"), "urn:sp&x");
        for name in ["j", "k"] {
            let node = only_child(&root, "urn:a", name).expect("node");
            assert!(plain_text(&node).is_err(), "{name}");
        }
    }

    #[test]
    fn the_gate_refuses_doctype_before_libxml_sees_it() {
        let err = parse("<!DOCTYPE r [<!ENTITY e \"x\">]><r>&e;</r>").err();
        assert_eq!(err, Some(XmlDocError::Refused(XmlError::DoctypeForbidden)));
        assert!(parse("not xml").is_err());
    }
}
