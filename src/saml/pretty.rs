//! XML indented for people to read (the decoder's report, the demo SP's page). Display
//! only: nothing ever checks or signs this text.

/// The XML indented for reading; the text as it is when it does not parse as XML.
pub fn pretty_xml(xml: &[u8]) -> String {
    indent(xml).unwrap_or_else(|| String::from_utf8_lossy(xml).into_owned())
}

fn indent(xml: &[u8]) -> Option<String> {
    use quick_xml::events::{BytesText, Event};
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    // quick-xml splits text at entity references: gather the pieces, as escaped, and keep
    // text that is not only the whitespace between elements.
    let mut text = String::new();
    loop {
        let event = reader.read_event().ok()?;
        match &event {
            Event::Text(t) => text.push_str(std::str::from_utf8(t).ok()?),
            Event::GeneralRef(r) => {
                text.push('&');
                text.push_str(std::str::from_utf8(r).ok()?);
                text.push(';');
            }
            _ => {
                if !text.trim().is_empty() {
                    writer
                        .write_event(Event::Text(BytesText::from_escaped(text.as_str())))
                        .ok()?;
                }
                text.clear();
                match event {
                    Event::Eof => break,
                    event => writer.write_event(event).ok()?,
                }
            }
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_is_indented_and_garbage_kept() {
        let pretty = pretty_xml(b"<a><b x=\"1\">t &amp; u</b><c/></a>");
        assert_eq!(pretty, "<a>\n  <b x=\"1\">t &amp; u</b>\n  <c/>\n</a>");
        assert_eq!(pretty_xml(b"<a><b></a>"), "<a><b></a>");
    }
}
