//! A writer that emits XML already in exclusive canonical form (xml-exc-c14n), so
//! that an element can be digested and signed as written, with no re-parse and no
//! re-canonicalisation:
//!
//! - a namespace is declared on the element that first *visibly uses* it (its own prefix or an
//!   attribute's), and only if no open ancestor declared it (exc-c14n §3);
//! - declarations come first, sorted by prefix, then attributes sorted by (namespace, name)
//!   (c14n §2.2: "Namespace nodes … then attribute nodes");
//! - empty elements are written as a start and an end tag, never `<a/>`;
//! - text and attribute values use c14n's escaping, which is not XML's usual one (c14n
//!   writes `'` and `"` literally in text, `>` literally in attributes).
//!
//! Characters XML 1.0 cannot carry (most C0 controls) are written as U+FFFD.
//! Only prefixed element names from `ns::PREFIXES` are written; the IdP never uses a default
//! namespace, so the output never depends on one.

use std::sync::LazyLock;

use super::ns;

/// A set of `ns::PREFIXES`, one bit per entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Prefixes(u32);

const _: () = assert!(ns::PREFIXES.len() <= 32, "one bit per prefix in a u32");

impl Prefixes {
    fn with(self, index: usize) -> Prefixes {
        Prefixes(self.0 | 1 << index)
    }

    fn has(self, index: usize) -> bool {
        self.0 & (1 << index) != 0
    }
}

/// One open element: where its name starts in `CanonicalWriter::names`, and the prefixes
/// in scope inside it (its ancestors' and its own declarations).
#[derive(Debug, Clone, Copy)]
struct Open {
    name_at: usize,
    in_scope: Prefixes,
}

/// Writes one element tree in canonical form, straight into its output buffer. See the
/// module documentation.
pub struct CanonicalWriter {
    out: Vec<u8>,
    /// The names of the open elements, one after the other.
    names: String,
    open: Vec<Open>,
    /// Attribute indexes in canonical order, reused from one start tag to the next.
    order: Vec<usize>,
}

impl Default for CanonicalWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl CanonicalWriter {
    pub fn new() -> Self {
        CanonicalWriter {
            out: Vec::with_capacity(4096),
            names: String::with_capacity(256),
            open: Vec::with_capacity(16),
            order: Vec::with_capacity(8),
        }
    }

    /// Opens `prefix:local` with unescaped attribute values (`name`, `value`); the writer adds
    /// the namespace declarations and puts everything in canonical order.
    pub fn start(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let in_scope = self.open.last().map(|o| o.in_scope).unwrap_or_default();
        let declared = undeclared_prefixes(in_scope, name, attributes);
        self.out.push(b'<');
        self.out.extend_from_slice(name.as_bytes());
        // `ns::PREFIXES` is sorted by prefix: declarations come out in canonical order.
        for (i, (prefix, uri)) in ns::PREFIXES.iter().enumerate() {
            if declared.has(i) {
                self.out.extend_from_slice(b" xmlns:");
                self.out.extend_from_slice(prefix.as_bytes());
                self.out.extend_from_slice(b"=\"");
                self.out.extend_from_slice(uri.as_bytes());
                self.out.push(b'"');
            }
        }
        self.order.clear();
        self.order.extend(0..attributes.len());
        self.order.sort_by(|&a, &b| {
            let (a, b) = (
                attribute_sort_key(attributes[a].0),
                attribute_sort_key(attributes[b].0),
            );
            // Byte by byte: names are a few bytes long, shorter than a call to `memcmp`.
            a.0.cmp(&b.0).then_with(|| a.1.bytes().cmp(b.1.bytes()))
        });
        for &i in &self.order {
            let (attr_name, value) = attributes[i];
            self.out.push(b' ');
            self.out.extend_from_slice(attr_name.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_into(&mut self.out, value, Escaping::Attribute);
            self.out.push(b'"');
        }
        self.out.push(b'>');
        self.open.push(Open {
            name_at: self.names.len(),
            in_scope: Prefixes(in_scope.0 | declared.0),
        });
        self.names.push_str(name);
    }

    /// Closes the most recently opened element.
    pub fn end(&mut self) {
        if let Some(open) = self.open.pop() {
            self.out.extend_from_slice(b"</");
            self.out
                .extend_from_slice(&self.names.as_bytes()[open.name_at..]);
            self.out.push(b'>');
            self.names.truncate(open.name_at);
        }
    }

    pub fn text(&mut self, text: &str) {
        escape_into(&mut self.out, text, Escaping::Text);
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
        self.out.extend_from_slice(bytes);
    }

    /// Bytes written so far: a splice point for an enveloped signature.
    pub fn position(&self) -> usize {
        self.out.len()
    }

    /// The document; every element opened must have been closed.
    pub fn into_bytes(self) -> Vec<u8> {
        debug_assert!(self.open.is_empty(), "unclosed elements");
        self.out
    }
}

/// The prefixes `name` and the attribute names use that `in_scope` does not declare
/// (`xml` is never declared).
fn undeclared_prefixes(in_scope: Prefixes, name: &str, attributes: &[(&str, &str)]) -> Prefixes {
    let used = std::iter::once(name).chain(attributes.iter().map(|(n, _)| *n));
    let mut out = Prefixes::default();
    for qname in used {
        let Some((prefix, _)) = split_prefix(qname) else {
            continue;
        };
        let Some(index) = ns::prefix_index(prefix) else {
            debug_assert!(false, "unknown prefix {prefix}");
            continue;
        };
        if prefix != "xml" && !in_scope.has(index) {
            out = out.with(index);
        }
    }
    out
}

/// `prefix:local` split at its colon.
fn split_prefix(qname: &str) -> Option<(&str, &str)> {
    let colon = qname.bytes().position(|b| b == b':')?;
    Some((&qname[..colon], &qname[colon + 1..]))
}

/// c14n orders attributes by namespace URI (none first), then local name: the URI is
/// given as its rank among our namespaces' URIs (an unknown prefix last).
fn attribute_sort_key(name: &str) -> (usize, &str) {
    match split_prefix(name) {
        Some((prefix, local)) => {
            let rank = ns::prefix_index(prefix).map_or(usize::MAX, |i| by_uri()[i]);
            (rank, local)
        }
        None => (0, name),
    }
}

/// For each index of `ns::PREFIXES`, 1 + the rank of its URI among their URIs.
fn by_uri() -> &'static [usize] {
    static RANKS: LazyLock<Vec<usize>> = LazyLock::new(|| {
        let uris: Vec<&str> = ns::PREFIXES.iter().map(|(_, uri)| *uri).collect();
        uris.iter()
            .map(|uri| 1 + uris.iter().filter(|other| *other < uri).count())
            .collect()
    });
    &RANKS
}

/// Which of c14n's two escapings (§2.3) a value gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Escaping {
    /// Text nodes: `&` `<` `>` and CR escaped, nothing else.
    Text,
    /// Attribute values: `&` `<` `"` TAB LF CR escaped, nothing else.
    Attribute,
}

/// Appends `text` escaped as `escaping` says; characters XML 1.0 cannot carry (C0 controls
/// other than TAB, LF and CR; U+FFFE and U+FFFF) become U+FFFD. Every escaped character is
/// ASCII, so the scan is over bytes, and the bytes between escapes are copied in runs.
fn escape_into(out: &mut Vec<u8>, text: &str, escaping: Escaping) {
    let bytes = text.as_bytes();
    let attribute = escaping == Escaping::Attribute;
    let mut run = 0;
    let mut at = 0;
    while at < bytes.len() {
        let escaped = match bytes[at] {
            b'&' => Some(("&amp;", 1)),
            b'<' => Some(("&lt;", 1)),
            b'>' if !attribute => Some(("&gt;", 1)),
            b'"' if attribute => Some(("&quot;", 1)),
            b'\t' if attribute => Some(("&#x9;", 1)),
            b'\n' if attribute => Some(("&#xA;", 1)),
            b'\r' => Some(("&#xD;", 1)),
            b'\t' | b'\n' => None,
            0..=0x1F => Some(("\u{FFFD}", 1)),
            // U+FFFE and U+FFFF, in UTF-8.
            0xEF if matches!(bytes.get(at + 1..at + 3), Some([0xBF, 0xBE | 0xBF])) => {
                Some(("\u{FFFD}", 3))
            }
            _ => None,
        };
        let Some((replacement, width)) = escaped else {
            at += 1;
            continue;
        };
        out.extend_from_slice(&bytes[run..at]);
        out.extend_from_slice(replacement.as_bytes());
        at += width;
        run = at;
    }
    out.extend_from_slice(&bytes[run..]);
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
    fn characters_xml_cannot_carry_become_the_replacement_character() {
        // U+FFFE and U+FFFF are replaced; their UTF-8 neighbours (U+FFFD, U+F000, U+EFFF
        // all start with the byte 0xEF) are kept, and so are TAB and LF in text.
        let out = render(|w| {
            w.leaf(
                "saml:A",
                &[("v", "\u{FFFF}\u{1F}\u{FFFD}")],
                "\u{FFFE}\u{FFFD}\u{F000}\u{EFFF}\t\n\u{0}x\u{FFFF}",
            )
        });
        assert_eq!(
            out,
            "<saml:A xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" v=\"\u{FFFD}\u{FFFD}\u{FFFD}\">\
             \u{FFFD}\u{FFFD}\u{F000}\u{EFFF}\t\n\u{FFFD}x\u{FFFD}</saml:A>"
        );
    }

    #[test]
    fn attributes_sort_by_namespace_uri_then_local_name() {
        // Unqualified attributes first; then xsi's (http://www.w3.org/2001/…) before xml's
        // (http://www.w3.org/XML/…): by URI, not by prefix.
        let out = render(|w| {
            w.empty(
                "saml:A",
                &[
                    ("xsi:type", "t"),
                    ("b", "2"),
                    ("xml:lang", "en"),
                    ("a", "1"),
                ],
            )
        });
        assert_eq!(
            out,
            "<saml:A xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" a=\"1\" b=\"2\" \
             xsi:type=\"t\" xml:lang=\"en\"></saml:A>"
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
