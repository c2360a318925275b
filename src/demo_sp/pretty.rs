//! The XML the demo SP shows, indented two spaces per level for reading. Display only: the
//! checks read the document as received, never this text.

use quick_xml::events::Event;
use quick_xml::{Reader, Writer};

/// `xml` indented; if it cannot be re-read, as received (lossy UTF-8).
pub fn indent(xml: &[u8]) -> String {
    let mut reader = Reader::from_reader(xml);
    reader.config_mut().trim_text(true);
    let mut writer = Writer::new_with_indent(Vec::with_capacity(xml.len() * 2), b' ', 2);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) => break,
            Ok(event) => {
                if writer.write_event(event).is_err() {
                    return String::from_utf8_lossy(xml).into_owned();
                }
            }
            Err(_) => return String::from_utf8_lossy(xml).into_owned(),
        }
        buf.clear();
    }
    String::from_utf8(writer.into_inner())
        .unwrap_or_else(|_| String::from_utf8_lossy(xml).into_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn nested_elements_are_indented() {
        let out = super::indent(b"<a><b x=\"1\">t</b><c/></a>");
        assert_eq!(out, "<a>\n  <b x=\"1\">t</b>\n  <c/>\n</a>");
    }
}
