//! Hardened XML reading: untrusted bytes in, a small namespace-resolved element tree out.

use quick_xml::events::{BytesDecl, BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use thiserror::Error;

/// Bounds on what [`parse`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 256 * 1024,
            max_depth: 64,
            max_attributes: 64,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub namespace: Option<String>,
    pub local_name: String,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub namespace: Option<String>,
    pub local_name: String,
    pub value: String,
}

/// Comments and CDATA sections are kept so that callers reading a value can refuse them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
    Comment(String),
    CData(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum XmlError {
    #[error("the XML document is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the XML document nests elements deeper than the limit of {limit}")]
    TooDeep { limit: usize },
    #[error("element <{element}> has more than the limit of {limit} attributes")]
    TooManyAttributes { element: String, limit: usize },
    #[error("the XML document contains a DOCTYPE declaration, which is not allowed")]
    DoctypeForbidden,
    #[error("the XML document contains a processing instruction, which is not allowed")]
    ProcessingInstructionForbidden,
    #[error("the XML document is not UTF-8 or declares an encoding other than UTF-8")]
    NotUtf8,
    #[error("unknown entity reference &{name}; (only &lt; &gt; &amp; &quot; &apos; and &#...; are allowed)")]
    UnknownEntity { name: String },
    #[error("namespace prefix `{prefix}` is used but never declared")]
    UndeclaredPrefix { prefix: String },
    #[error("an element has the same attribute twice")]
    DuplicateAttribute,
    #[error("malformed XML: {detail}")]
    Malformed { detail: String },
    #[error("the XML document has no root element")]
    NoRootElement,
    #[error("the XML document has text or a second element after its root element")]
    TrailingContent,
    #[error("element <{element}> must hold only text but holds a comment, CDATA section or child element")]
    MixedContent { element: String },
}

impl XmlError {
    /// A description in fixed words naming only the rule or the limit that failed, never
    /// text from the document (SPEC 3): what error pages and JSON show. `Display` may quote
    /// the document and belongs in the debug log only.
    pub fn public_detail(&self) -> String {
        match self {
            XmlError::TooLarge { limit } => {
                format!("the XML document is larger than the limit of {limit} bytes")
            }
            XmlError::TooDeep { limit } => {
                format!("the XML document nests elements deeper than the limit of {limit}")
            }
            XmlError::TooManyAttributes { limit, .. } => {
                format!("an element has more than the limit of {limit} attributes")
            }
            XmlError::DoctypeForbidden => "a DOCTYPE declaration is not allowed".into(),
            XmlError::ProcessingInstructionForbidden => {
                "a processing instruction is not allowed".into()
            }
            XmlError::NotUtf8 => "the XML document must be UTF-8".into(),
            XmlError::UnknownEntity { .. } => {
                "only the predefined entities and character references are allowed".into()
            }
            XmlError::UndeclaredPrefix { .. } => {
                "a namespace prefix is used but never declared".into()
            }
            XmlError::DuplicateAttribute => "an element has the same attribute twice".into(),
            XmlError::Malformed { .. } => "the XML document is not well-formed".into(),
            XmlError::NoRootElement => "the XML document has no root element".into(),
            XmlError::TrailingContent => {
                "the XML document has content after its root element".into()
            }
            XmlError::MixedContent { .. } => {
                "a value must be plain text (no comments, CDATA sections or child elements)".into()
            }
        }
    }
}

fn malformed(detail: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed {
        detail: detail.to_string(),
    }
}

fn from_quick_xml(err: quick_xml::Error) -> XmlError {
    match err {
        quick_xml::Error::InvalidAttr(quick_xml::events::attributes::AttrError::Duplicated(..)) => {
            XmlError::DuplicateAttribute
        }
        other => malformed(other),
    }
}

impl Element {
    pub fn is(&self, namespace: &str, local_name: &str) -> bool {
        self.namespace.as_deref() == Some(namespace) && self.local_name == local_name
    }

    /// The value of the unqualified (no namespace) attribute `local_name`.
    pub fn attr(&self, local_name: &str) -> Option<&str> {
        self.find_attr(None, local_name)
    }

    /// The value of a namespace-qualified attribute, such as `xml:lang`.
    pub fn attr_ns(&self, namespace: &str, local_name: &str) -> Option<&str> {
        self.find_attr(Some(namespace), local_name)
    }

    fn find_attr(&self, namespace: Option<&str>, local_name: &str) -> Option<&str> {
        let found = self
            .attributes
            .iter()
            .find(|a| a.namespace.as_deref() == namespace && a.local_name == local_name);
        found.map(|a| a.value.as_str())
    }

    /// Direct child elements with this namespace and local name, in document order.
    pub fn children<'a, 'n>(
        &'a self,
        namespace: &'n str,
        local_name: &'n str,
    ) -> impl Iterator<Item = &'a Element> + use<'a, 'n> {
        self.children.iter().filter_map(move |node| match node {
            Node::Element(e) if e.is(namespace, local_name) => Some(e),
            _ => None,
        })
    }

    pub fn child(&self, namespace: &str, local_name: &str) -> Option<&Element> {
        self.children(namespace, local_name).next()
    }

    /// The element's simple text value; a comment, CDATA section or child element is refused.
    pub fn text(&self) -> Result<String, XmlError> {
        let mut out = String::new();
        for node in &self.children {
            match node {
                Node::Text(t) => out.push_str(t),
                _ => {
                    return Err(XmlError::MixedContent {
                        element: self.local_name.clone(),
                    })
                }
            }
        }
        Ok(out)
    }
}

/// Parses `xml` and returns its root element.
pub fn parse(xml: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    if xml.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            limit: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(xml).map_err(|_| XmlError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_chars(text)?;
    let mut reader = NsReader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_unmatched_ends = false;
    config.allow_dangling_amp = false;
    config.expand_empty_elements = false;
    let mut tree = Tree::new(limits);
    let mut first = true;
    loop {
        let event = reader.read_event().map_err(from_quick_xml)?;
        if matches!(event, Event::Eof) {
            return tree.finish();
        }
        tree.handle(&reader, event, first)?;
        first = false;
    }
}

/// XML 1.0 `Char` production, less the surrogates that a `str` cannot hold anyway.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn check_chars(text: &str) -> Result<(), XmlError> {
    match text.chars().find(|c| !is_xml_char(*c)) {
        Some(c) => Err(malformed(format!(
            "character U+{:04X} is not allowed in XML",
            u32::from(c)
        ))),
        None => Ok(()),
    }
}

fn check_decl(decl: &BytesDecl) -> Result<(), XmlError> {
    let version = decl.version().map_err(from_quick_xml)?;
    if version.as_ref() != b"1.0" {
        return Err(malformed(format!(
            "XML version {} is not supported, only 1.0",
            String::from_utf8_lossy(&version)
        )));
    }
    match decl.encoding() {
        None => Ok(()),
        Some(Ok(enc)) if enc.eq_ignore_ascii_case(b"utf-8") => Ok(()),
        Some(Ok(_)) => Err(XmlError::NotUtf8),
        Some(Err(e)) => Err(malformed(e)),
    }
}

/// Resolves `&name;` (given `name`): the five predefined entities and character references.
fn resolve_entity(name: &str) -> Result<char, XmlError> {
    match name {
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "amp" => Ok('&'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        _ => match name.strip_prefix('#') {
            Some(number) => char_reference(number),
            None => Err(XmlError::UnknownEntity {
                name: name.to_string(),
            }),
        },
    }
}

fn char_reference(number: &str) -> Result<char, XmlError> {
    let (digits, radix) = number
        .strip_prefix('x')
        .map_or((number, 10), |hex| (hex, 16));
    let valid_digits = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    let code = valid_digits.then(|| u32::from_str_radix(digits, radix).ok());
    code.flatten()
        .and_then(char::from_u32)
        .filter(|c| is_xml_char(*c))
        .ok_or_else(|| malformed(format!("&#{number}; is not a valid character reference")))
}

/// Unescapes an attribute value and applies attribute-value normalization (XML 1.0 §3.3.3).
fn attribute_value(raw: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find(['&', '<', '\t', '\n', '\r']) {
        out.push_str(&rest[..pos]);
        let special = rest.as_bytes()[pos];
        rest = &rest[pos + 1..];
        match special {
            b'&' => {
                let end = rest
                    .find(';')
                    .ok_or_else(|| malformed("unterminated entity reference in an attribute"))?;
                out.push(resolve_entity(&rest[..end])?);
                rest = &rest[end + 1..];
            }
            b'<' => return Err(malformed("`<` is not allowed in an attribute value")),
            b'\r' => {
                out.push(' ');
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            }
            _ => out.push(' '),
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn utf8(bytes: &[u8]) -> Result<String, XmlError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| XmlError::NotUtf8)
}

fn namespace_of(result: ResolveResult) -> Result<Option<String>, XmlError> {
    match result {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) if ns.as_ref().contains(&b'&') => Err(malformed(
            "entity references in namespace names are not supported",
        )),
        // Normalised as any attribute value (XML 1.0 §2.11, §3.3.3: a CR LF pair is one line
        // end, and each line end or tab one space), so that the gate and libxml2 read the
        // same namespace name (afl found `\r\n` counted twice).
        ResolveResult::Bound(ns) => attribute_value(&utf8(ns.as_ref())?).map(Some),
        ResolveResult::Unknown(prefix) => Err(XmlError::UndeclaredPrefix {
            prefix: String::from_utf8_lossy(&prefix).into_owned(),
        }),
    }
}

fn local_name_of(bytes: &[u8]) -> Result<String, XmlError> {
    let name = utf8(bytes)?;
    if name.is_empty() || name.contains(':') {
        return Err(malformed(format!("`{name}` is not a valid local name")));
    }
    Ok(name)
}

type Reader<'i> = NsReader<&'i [u8]>;

fn build_element(
    reader: &Reader,
    start: &BytesStart,
    limits: &Limits,
) -> Result<Element, XmlError> {
    let (ns, local) = reader.resolve_element(start.name());
    let namespace = namespace_of(ns)?;
    let local_name = local_name_of(local.as_ref())?;
    let qname = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attributes: Vec<Attribute> = Vec::new();
    for (count, attr) in start.attributes().with_checks(true).enumerate() {
        if count >= limits.max_attributes {
            return Err(XmlError::TooManyAttributes {
                element: qname,
                limit: limits.max_attributes,
            });
        }
        let attr = attr.map_err(|e| from_quick_xml(e.into()))?;
        let raw = utf8(&attr.value)?;
        if attr.key.as_namespace_binding().is_some() {
            attribute_value(&raw)?;
            continue;
        }
        let (ns, local) = reader.resolve_attribute(attr.key);
        let attribute = Attribute {
            namespace: namespace_of(ns)?,
            local_name: local_name_of(local.as_ref())?,
            value: attribute_value(&raw)?,
        };
        let duplicate = attributes
            .iter()
            .any(|a| a.namespace == attribute.namespace && a.local_name == attribute.local_name);
        if duplicate {
            return Err(XmlError::DuplicateAttribute);
        }
        attributes.push(attribute);
    }
    Ok(Element {
        namespace,
        local_name,
        attributes,
        children: Vec::new(),
    })
}

/// The elements still open, and the root once it is closed.
struct Tree<'l> {
    limits: &'l Limits,
    open: Vec<Element>,
    root: Option<Element>,
}

impl<'l> Tree<'l> {
    fn new(limits: &'l Limits) -> Self {
        Tree {
            limits,
            open: Vec::new(),
            root: None,
        }
    }

    fn handle(&mut self, reader: &Reader, event: Event, first: bool) -> Result<(), XmlError> {
        match event {
            Event::Decl(decl) if first => check_decl(&decl),
            Event::Decl(_) => Err(malformed("the XML declaration must start the document")),
            Event::PI(_) => Err(XmlError::ProcessingInstructionForbidden),
            Event::DocType(_) => Err(XmlError::DoctypeForbidden),
            Event::Start(start) => self.open(build_element(reader, &start, self.limits)?),
            Event::Empty(start) => {
                self.open(build_element(reader, &start, self.limits)?)?;
                self.close()
            }
            Event::End(_) => self.close(),
            Event::Text(text) => self.text(&text.xml10_content().map_err(malformed)?),
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(malformed)?;
                let c = resolve_entity(&name)?;
                self.node(Node::Text(c.to_string()))
            }
            Event::CData(data) => self.node(Node::CData(utf8(&data)?)),
            Event::Comment(_) if self.open.is_empty() => Ok(()),
            Event::Comment(c) => self.node(Node::Comment(utf8(&c)?)),
            Event::Eof => Ok(()),
        }
    }

    fn outside_root(&self) -> XmlError {
        if self.root.is_some() {
            XmlError::TrailingContent
        } else {
            malformed("content before the root element")
        }
    }

    fn open(&mut self, element: Element) -> Result<(), XmlError> {
        if self.open.is_empty() && self.root.is_some() {
            return Err(XmlError::TrailingContent);
        }
        if self.open.len() >= self.limits.max_depth {
            return Err(XmlError::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        self.open.push(element);
        Ok(())
    }

    fn close(&mut self) -> Result<(), XmlError> {
        let element = self
            .open
            .pop()
            .ok_or_else(|| malformed("end tag without a start tag"))?;
        match self.open.last_mut() {
            Some(parent) => parent.children.push(Node::Element(element)),
            None => self.root = Some(element),
        }
        Ok(())
    }

    fn text(&mut self, text: &str) -> Result<(), XmlError> {
        if text.contains("]]>") {
            return Err(malformed("`]]>` is not allowed in text"));
        }
        if self.open.is_empty() && text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
            return Ok(());
        }
        self.node(Node::Text(text.to_string()))
    }

    /// Adds a node to the innermost open element, merging adjacent text.
    fn node(&mut self, node: Node) -> Result<(), XmlError> {
        let Some(parent) = self.open.last_mut() else {
            return Err(self.outside_root());
        };
        match (parent.children.last_mut(), node) {
            (Some(Node::Text(previous)), Node::Text(more)) => previous.push_str(&more),
            (_, node) => parent.children.push(node),
        }
        Ok(())
    }

    fn finish(self) -> Result<Element, XmlError> {
        if let Some(element) = self.open.last() {
            return Err(malformed(format!(
                "the document ends inside <{}>",
                element.local_name
            )));
        }
        self.root.ok_or(XmlError::NoRootElement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<Element, XmlError> {
        parse(xml.as_bytes(), &Limits::default())
    }

    fn err(xml: &str) -> XmlError {
        read(xml).unwrap_err()
    }

    fn with(limits: Limits, xml: &str) -> Result<Element, XmlError> {
        parse(xml.as_bytes(), &limits)
    }

    #[test]
    fn resolves_prefixes_and_default_namespace() {
        let root = read(
            r#"<?xml version="1.0" encoding="utf-8"?>
            <r xmlns="urn:default" xmlns:p="urn:p" a="1" p:b="2" xml:lang="en">
              <p:x/><y xmlns=""/><p:x xmlns:p="urn:other"/>
            </r>"#,
        )
        .unwrap();
        assert!(root.is("urn:default", "r"));
        assert_eq!((root.attr("a"), root.attr("b")), (Some("1"), None));
        assert_eq!(root.attr_ns("urn:p", "b"), Some("2"));
        assert_eq!(root.attr_ns(crate::saml::ns::XML, "lang"), Some("en"));
        assert_eq!(
            root.attributes.len(),
            3,
            "xmlns declarations are not attributes"
        );
        assert_eq!(root.children("urn:p", "x").count(), 1);
        assert!(root.child("urn:other", "x").is_some());
        assert!(root.children.iter().any(|n| matches!(n,
            Node::Element(e) if e.local_name == "y" && e.namespace.is_none())));
        assert_eq!(
            err("<p:r/>"),
            XmlError::UndeclaredPrefix { prefix: "p".into() }
        );
        let undeclared = XmlError::UndeclaredPrefix { prefix: "q".into() };
        assert_eq!(err(r#"<r q:a="1"/>"#), undeclared);
    }

    #[test]
    fn resolves_entities_in_text_and_attributes() {
        let root = read("<r v=\"a &amp; b &#x41;&#66; &lt;&quot;&apos;&gt;\">a &amp; b &#x41;</r>");
        let root = root.unwrap();
        assert_eq!(root.text().unwrap(), "a & b A");
        assert_eq!(root.attr("v"), Some("a & b AB <\"'>"));
        assert_eq!(root.children.len(), 1, "adjacent text is merged");
        let root = read("<r v=\"a\r\nb\tc&#10;d\"/>").unwrap();
        assert_eq!(
            root.attr("v"),
            Some("a b c\nd"),
            "attribute-value normalization"
        );
        // Namespace names are normalised the same way (as libxml2 does): CR LF is one space.
        let root = read("<r xmlns=\"urn:a\r\n\r\rb\tc\"/>").unwrap();
        assert_eq!(root.namespace.as_deref(), Some("urn:a   b c"));
    }

    #[test]
    fn unknown_entity_and_bad_char_refs_are_rejected() {
        let unknown = XmlError::UnknownEntity {
            name: "nbsp".into(),
        };
        assert_eq!(err("<r>&nbsp;</r>"), unknown);
        assert_eq!(err(r#"<r a="&nbsp;"/>"#), unknown);
        for bad in ["&#0;", "&#xD800;", "&#x+41;", "&#X41;", "&#x110000;"] {
            let xml = format!("<r>{bad}</r>");
            assert!(matches!(err(&xml), XmlError::Malformed { .. }), "{bad}");
        }
    }

    #[test]
    fn doctype_and_processing_instructions_are_rejected() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><r>&x;</r>"#;
        assert_eq!(err(xml), XmlError::DoctypeForbidden);
        assert_eq!(err("<r/><!DOCTYPE r>"), XmlError::DoctypeForbidden);
        let pi = XmlError::ProcessingInstructionForbidden;
        assert_eq!(err(r#"<?xml-stylesheet href="x"?><r/>"#), pi);
        assert_eq!(err("<r><?php x ?></r>"), pi);
        assert!(matches!(
            err(r#"<r/><?xml version="1.0"?>"#),
            XmlError::Malformed { .. }
        ));
    }

    #[test]
    fn depth_limit() {
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        assert!(with(limits, "<a><b><c/></b></a>").is_ok());
        let too_deep = with(limits, "<a><b><c><d/></c></b></a>");
        assert_eq!(too_deep.unwrap_err(), XmlError::TooDeep { limit: 3 });
        assert_eq!(err(&"<a>".repeat(1000)), XmlError::TooDeep { limit: 64 });
    }

    #[test]
    fn attribute_limit_and_duplicates() {
        let limits = Limits {
            max_attributes: 2,
            ..Limits::default()
        };
        assert!(with(limits, r#"<r xmlns="urn:x" a="1"/>"#).is_ok());
        let too_many = with(limits, r#"<r a="1" b="2" c="3"/>"#).unwrap_err();
        let element = "r".to_string();
        assert_eq!(too_many, XmlError::TooManyAttributes { element, limit: 2 });
        assert_eq!(err(r#"<r a="1" a="2"/>"#), XmlError::DuplicateAttribute);
        let same_ns = r#"<r xmlns:p="urn:x" xmlns:q="urn:x" p:a="1" q:a="2"/>"#;
        assert_eq!(err(same_ns), XmlError::DuplicateAttribute);
    }

    #[test]
    fn size_limit() {
        let limits = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(with(limits, "<r>12</r>").is_ok());
        let too_large = with(limits, "<r>123456</r>").unwrap_err();
        assert_eq!(too_large, XmlError::TooLarge { limit: 10 });
        let huge = "<a>".repeat(100_000);
        assert_eq!(err(&huge), XmlError::TooLarge { limit: 256 * 1024 });
    }

    #[test]
    fn comment_or_cdata_inside_a_value_makes_text_fail() {
        let mixed = XmlError::MixedContent {
            element: "r".into(),
        };
        for xml in [
            "<r>urn:sp<!---->.evil</r>",
            "<r>urn:sp<![CDATA[.evil]]></r>",
            "<r>a<x/></r>",
        ] {
            assert_eq!(read(xml).unwrap().text().unwrap_err(), mixed, "{xml}");
        }
        let root = read("<!-- before --><r>urn:sp</r><!-- after -->").unwrap();
        assert_eq!(root.text().unwrap(), "urn:sp");
    }

    #[test]
    fn only_utf8_is_accepted() {
        let latin1 = r#"<?xml version="1.0" encoding="ISO-8859-1"?><r/>"#;
        assert_eq!(err(latin1), XmlError::NotUtf8);
        let bytes = parse(b"<r>\xe9</r>", &Limits::default());
        assert_eq!(bytes.unwrap_err(), XmlError::NotUtf8);
        assert!(read("\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?><r/>").is_ok());
    }

    #[test]
    fn malformed_xml_is_rejected() {
        let cases = [
            "<a><b></a></b>",
            "<a>",
            "<a x=1/>",
            "<a>\u{1}</a>",
            "<a>&amp</a>",
            "<a>]]></a>",
        ];
        for xml in cases {
            assert!(matches!(err(xml), XmlError::Malformed { .. }), "{xml}");
        }
        assert!(err("<a><b></a></b>").to_string().contains("</b>"));
    }

    #[test]
    fn root_and_trailing_content() {
        assert_eq!(err("  "), XmlError::NoRootElement);
        assert_eq!(err("<!-- only -->"), XmlError::NoRootElement);
        for xml in ["<a/><b/>", "<a/>text", "<a/>&amp;"] {
            assert_eq!(err(xml), XmlError::TrailingContent, "{xml}");
        }
        assert!(read("<a/>\n  ").is_ok());
        assert!(matches!(err("x<a/>"), XmlError::Malformed { .. }));
    }
}
