//! A quick-xml writer that emits XML already in exclusive canonical form (xml-exc-c14n), so
//! that an element can be digested and signed as written, with no re-parse and no
//! re-canonicalisation:
//!
//! - a namespace is declared on the element that first *visibly uses* it (its own prefix or an
//!   attribute's), and only if no open ancestor declared it (exc-c14n §3);
//! - declarations come first, sorted by prefix, then attributes sorted by (namespace, name)
//!   (c14n §2.2: "Namespace nodes … then attribute nodes");
//! - empty elements are written as a start and an end tag, never `<a/>`;
//! - text and attribute values use c14n's escaping, which is not quick-xml's default (c14n
//!   writes `'` and `"` literally in text, `>` literally in attributes).
//!
//! Characters XML 1.0 cannot carry (most C0 controls) are written as U+FFFD.
//! Only prefixed element names from `ns::PREFIXES` are written; the IdP never uses a default
//! namespace, so the output never depends on one.

use std::borrow::Cow;

use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;
use quick_xml::Writer;

use super::ns;

struct Open {
    name: String,
    declared: Vec<&'static str>,
}

/// Writes one element tree in canonical form. See the module documentation.
pub struct CanonicalWriter {
    writer: Writer<Vec<u8>>,
    open: Vec<Open>,
}

impl Default for CanonicalWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CanonicalWriter {
    pub fn new() -> Self {
        CanonicalWriter {
            writer: Writer::new(Vec::with_capacity(4096)),
            open: Vec::new(),
        }
    }

    /// Opens `prefix:local` with unescaped attribute values (`name`, `value`); the writer adds
    /// the namespace declarations and puts everything in canonical order.
    pub fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let declared = self.undeclared_prefixes(name, attributes);
        let mut start = BytesStart::new(name);
        for prefix in &declared {
            let uri = ns::uri_of(prefix).unwrap_or_default();
            push(&mut start, &format!("xmlns:{prefix}"), uri.to_string());
        }
        let mut sorted: Vec<_> = attributes.iter().collect();
        sorted.sort_by_key(|(n, _)| attribute_sort_key(n));
        for (attr_name, value) in sorted {
            push(&mut start, attr_name, escape_attribute(value));
        }
        self.emit(Event::Start(start));
        self.open.push(Open {
            name: name.to_string(),
            declared,
        });
    }

    /// Closes the most recently opened element.
    pub fn end(&mut self) {
        if let Some(open) = self.open.pop() {
            self.emit(Event::End(BytesEnd::new(open.name)));
        }
    }

    pub fn text(&mut self, text: &str) {
        self.emit(Event::Text(BytesText::from_escaped(escape_text(text))));
    }

    /// `<name attrs>text</name>`
    pub fn leaf(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.start(name, attributes);
        if !text.is_empty() {
            self.text(text);
        }
        self.end();
    }

    /// `<name attrs></name>`
    pub fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start(name, attributes);
        self.end();
    }

    /// Appends an element that is already canonical *in this position* (a signed Assertion
    /// inside its Response): it must declare every namespace it uses itself, and none of
    /// them may be declared by the elements open here.
    pub fn canonical_element(&mut self, bytes: &[u8]) {
        self.writer.get_mut().extend_from_slice(bytes);
    }

    /// Bytes written so far: a splice point for an enveloped signature.
    pub fn position(&self) -> usize {
        self.writer.get_ref().len()
    }

    /// The document; every element opened must have been closed.
    pub fn into_bytes(self) -> Vec<u8> {
        debug_assert!(self.open.is_empty(), "unclosed elements");
        self.writer.into_inner()
    }

    fn emit(&mut self, event: Event<'_>) {
        // Writing into a Vec<u8> cannot fail: the only error quick-xml reports is the sink's.
        let _ = self.writer.write_event(event);
    }

    fn undeclared_prefixes(&self, name: &str, attributes: &[(&str, &str)]) -> Vec<&'static str> {
        let used = std::iter::once(name).chain(attributes.iter().map(|(n, _)| *n));
        let mut out: Vec<&'static str> = Vec::new();
        for qname in used {
            let Some((prefix, _)) = qname.split_once(':') else {
                continue;
            };
            let Some(&(known, _)) = ns::PREFIXES.iter().find(|(p, _)| *p == prefix) else {
                debug_assert!(false, "unknown prefix {prefix}");
                continue;
            };
            let in_scope = self.open.iter().any(|o| o.declared.contains(&known));
            if known != "xml" && !in_scope && !out.contains(&known) {
                out.push(known);
            }
        }
        out.sort_unstable();
        out
    }
}

fn push(start: &mut BytesStart<'_>, name: &str, escaped_value: String) {
    start.push_attribute(Attribute {
        key: QName(name.as_bytes()),
        value: Cow::Owned(escaped_value.into_bytes()),
    });
}

/// c14n orders attributes by namespace URI (none first), then local name.
fn attribute_sort_key(name: &str) -> (&'static str, &str) {
    match name.split_once(':') {
        Some((prefix, local)) => (ns::uri_of(prefix).unwrap_or("\u{10FFFF}"), local),
        None => ("", name),
    }
}

fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
        c => c,
    }
}

/// c14n §2.3 text nodes: `&` `<` `>` and CR escaped, nothing else.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// c14n §2.3 attribute nodes: `&` `<` `"` TAB LF CR escaped, nothing else.
pub fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(f: impl FnOnce(&mut CanonicalWriter)) -> String {
        let mut w = CanonicalWriter::new();
        f(&mut w);
        String::from_utf8(w.into_bytes()).expect("utf-8")
    }

    #[test]
    fn declares_namespaces_where_first_used_and_sorts_attributes() {
        let out = render(|w| {
            w.start("md:EntityDescriptor", &[("entityID", "e"), ("ID", "_1")]);
            w.start("md:KeyDescriptor", &[("use", "signing")]);
            w.leaf("ds:KeyInfo", &[], "k");
            w.end();
            w.leaf(
                "md:OrganizationName",
                &[("xml:lang", "en"), ("a", "b")],
                "x",
            );
            w.end();
        });
        assert_eq!(
            out,
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" ID=\"_1\" entityID=\"e\">\
             <md:KeyDescriptor use=\"signing\"><ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">k</ds:KeyInfo></md:KeyDescriptor>\
             <md:OrganizationName a=\"b\" xml:lang=\"en\">x</md:OrganizationName></md:EntityDescriptor>"
        );
    }

    #[test]
    fn escapes_as_c14n_does() {
        let out = render(|w| w.leaf("saml:A", &[("v", "<&\">'\t\n\r")], "<&\">'\t\n\r\u{1}é"));
        assert_eq!(
            out,
            "<saml:A xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" v=\"&lt;&amp;&quot;>'&#x9;&#xA;&#xD;\">&lt;&amp;\"&gt;'\t\n&#xD;\u{FFFD}é</saml:A>"
        );
    }

    #[test]
    fn empty_elements_have_an_end_tag() {
        assert_eq!(
            render(|w| w.empty("ds:Transform", &[("Algorithm", "a")])),
            "<ds:Transform xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Algorithm=\"a\"></ds:Transform>"
        );
    }
}
