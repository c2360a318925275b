//! The auto-post page (HTTP-POST binding) without a template engine on the hot path.
//!
//! Every single sign-on ends on this page, and rendering it through Tera cost more than
//! building the Response's XML. The page's markup still lives in `post_form.html`: it is
//! rendered once per language, message kind and "names an SP or not", with markers in place
//! of the per-message values, and kept as a list of literal pieces and slots. Each message
//! then fills the slots: the form's action and the SP's name escaped for HTML, the hidden
//! fields built here (the Response's base64 as it is, RelayState escaped).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use tera::Context;

use super::i18n::Locale;
use super::pages::{self, PageError};

/// Marker delimiter: a control character no template text or translation contains.
const MARK: char = '\u{1}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Action,
    Fields,
    SpName,
}

impl Slot {
    const ALL: [Slot; 3] = [Slot::Action, Slot::Fields, Slot::SpName];

    fn name(self) -> &'static str {
        match self {
            Slot::Action => "action",
            Slot::Fields => "fields",
            Slot::SpName => "sp_name",
        }
    }

    fn marker(self) -> String {
        format!("{MARK}{}{MARK}", self.name())
    }
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// The page for one language, message kind and SP-or-not, cut at its slots.
#[derive(Debug)]
struct Shell {
    pieces: Vec<Piece>,
    literal_len: usize,
}

impl Shell {
    fn render(locale: Locale, prefix: &str, names_sp: bool) -> Result<Shell, PageError> {
        let mut context = Context::new();
        context.insert("lang", locale.code());
        context.insert("locale", locale.code());
        context.insert(
            "t",
            &std::collections::BTreeMap::from([("layout_skip", locale.t("layout.skip"))]),
        );
        context.insert("title", locale.t(&format!("{prefix}.title")));
        context.insert("body", locale.t(&format!("{prefix}.body")));
        context.insert("button", locale.t("bounce.button"));
        context.insert("action", &Slot::Action.marker());
        context.insert("hidden_fields", &Slot::Fields.marker());
        if names_sp {
            context.insert("sp_name", &Slot::SpName.marker());
        }
        let html = pages::render("post_form.html", &context)?;
        Shell::cut(&html)
    }

    /// Splits rendered HTML at its markers: text, slot, text, slot, … text.
    fn cut(html: &str) -> Result<Shell, PageError> {
        let mut pieces = Vec::new();
        let mut literal_len = 0;
        for (i, part) in html.split(MARK).enumerate() {
            if i % 2 == 0 {
                literal_len += part.len();
                pieces.push(Piece::Text(part.to_string()));
                continue;
            }
            let slot = Slot::ALL
                .into_iter()
                .find(|s| s.name() == part)
                .ok_or_else(|| PageError(format!("post_form.html: marker {part:?}")))?;
            pieces.push(Piece::Slot(slot));
        }
        let fields = pieces
            .iter()
            .filter(|p| matches!(p, Piece::Slot(Slot::Fields)))
            .count();
        if fields != 1 {
            return Err(PageError(format!(
                "post_form.html: the hidden fields appear {fields} times"
            )));
        }
        Ok(Shell {
            pieces,
            literal_len,
        })
    }
}

type ShellKey = (Locale, &'static str, bool);

static SHELLS: LazyLock<Mutex<HashMap<ShellKey, Arc<Shell>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn shell(locale: Locale, prefix: &'static str, names_sp: bool) -> Result<Arc<Shell>, PageError> {
    let key = (locale, prefix, names_sp);
    if let Some(shell) = SHELLS.lock().ok().and_then(|s| s.get(&key).cloned()) {
        return Ok(shell);
    }
    let shell = Arc::new(Shell::render(locale, prefix, names_sp)?);
    if let Ok(mut shells) = SHELLS.lock() {
        shells.insert(key, shell.clone());
    }
    Ok(shell)
}

/// What one message puts into the page.
pub struct PostValues<'a> {
    pub action: &'a str,
    /// The `SAMLResponse`, base64 encoded.
    pub encoded: &'a str,
    pub relay_state: Option<&'a str>,
    pub sp_name: Option<&'a str>,
}

/// The whole page for one message.
pub fn page(
    locale: Locale,
    prefix: &'static str,
    values: &PostValues<'_>,
) -> Result<String, PageError> {
    let shell = shell(locale, prefix, values.sp_name.is_some())?;
    let mut fields = String::with_capacity(values.encoded.len() + 128);
    push_hidden(&mut fields, "SAMLResponse", values.encoded);
    if let Some(relay_state) = values.relay_state {
        push_hidden(&mut fields, "RelayState", relay_state);
    }
    let action = tera::escape_html(values.action);
    let sp_name = values.sp_name.map(tera::escape_html).unwrap_or_default();
    let mut html =
        String::with_capacity(shell.literal_len + fields.len() + action.len() + sp_name.len());
    for piece in &shell.pieces {
        match piece {
            Piece::Text(text) => html.push_str(text),
            Piece::Slot(Slot::Action) => html.push_str(&action),
            Piece::Slot(Slot::Fields) => html.push_str(&fields),
            Piece::Slot(Slot::SpName) => html.push_str(&sp_name),
        }
    }
    Ok(html)
}

/// One hidden input. Base64 has nothing to escape in an attribute, so a plain base64 value
/// goes in as it is instead of being escaped (and grown, `/` → `&#x2F;`) character by
/// character; anything else is escaped.
fn push_hidden(out: &mut String, name: &str, value: &str) {
    out.push_str("<input type=\"hidden\" name=\"");
    out.push_str(name);
    out.push_str("\" value=\"");
    if is_base64(value) {
        out.push_str(value);
    } else {
        out.push_str(&tera::escape_html(value));
    }
    out.push_str("\">\n");
}

/// Only base64's alphabet? Without an early exit, the loop compiles to vector compares: a
/// Response's base64 (about 10 KB) is checked in 2 µs instead of 18 (1 in 40 of a signed-in
/// Response's CPU went to the check that stopped at the first other byte, issue 23).
fn is_base64(value: &str) -> bool {
    value.bytes().fold(true, |plain, b| {
        plain & (b.is_ascii_alphanumeric() | (b == b'+') | (b == b'/') | (b == b'='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(relay_state: Option<&'a str>, sp_name: Option<&'a str>) -> PostValues<'a> {
        PostValues {
            action: "https://sp.example/acs?a=1&b=\"2\"",
            encoded: "PHNhbWw+/Q==",
            relay_state,
            sp_name,
        }
    }

    #[test]
    fn values_are_spliced_and_escaped() {
        let html = page(
            Locale::En,
            "handoff",
            &values(Some("<b>&\"x'"), Some("Tom & <Jerry>")),
        )
        .unwrap();
        assert!(!html.contains(MARK));
        assert!(html
            .contains("action=\"https:&#x2F;&#x2F;sp.example&#x2F;acs?a=1&amp;b=&quot;2&quot;\""));
        assert!(
            html.contains("<input type=\"hidden\" name=\"SAMLResponse\" value=\"PHNhbWw+/Q==\">")
        );
        assert!(html.contains("name=\"RelayState\" value=\"&lt;b&gt;&amp;&quot;x&#x27;\""));
        assert!(html.contains("<strong>Tom &amp; &lt;Jerry&gt;</strong>"));
        assert!(html.contains("<html lang=\"en\""));
        assert!(html.contains("/static/auto-submit.js"));
    }

    #[test]
    fn only_base64_goes_in_unescaped() {
        assert!(is_base64("PHNhbWw+/Q=="));
        assert!(is_base64(""));
        for other in ["a b", "é", "a-b", "a\"b", "a<b", "a&b", "a'b"] {
            assert!(!is_base64(other), "{other}");
        }
        let mut out = String::new();
        push_hidden(&mut out, "RelayState", "x\"><script>");
        assert_eq!(
            out,
            "<input type=\"hidden\" name=\"RelayState\" value=\"x&quot;&gt;&lt;script&gt;\">\n"
        );
    }

    #[test]
    fn no_relay_state_and_no_sp_leave_no_trace() {
        let html = page(Locale::Es, "logout", &values(None, None)).unwrap();
        assert!(!html.contains("RelayState"));
        assert!(!html.contains("<strong>"));
        assert!(html.contains("<html lang=\"es\""));
        assert_eq!(html.matches("type=\"hidden\"").count(), 1);
    }

    #[test]
    fn the_same_page_as_tera_would_render() {
        // The cached shell must not drift from the template: rendering the template with the
        // final values gives the same bytes.
        let v = values(Some("state 1"), Some("Agency"));
        let html = page(Locale::Fr, "handoff", &v).unwrap();
        let mut context = Context::new();
        let locale = Locale::Fr;
        context.insert("lang", locale.code());
        context.insert("locale", locale.code());
        context.insert(
            "t",
            &std::collections::BTreeMap::from([("layout_skip", locale.t("layout.skip"))]),
        );
        context.insert("title", locale.t("handoff.title"));
        context.insert("body", locale.t("handoff.body"));
        context.insert("button", locale.t("bounce.button"));
        context.insert("action", v.action);
        context.insert(
            "hidden_fields",
            "<input type=\"hidden\" name=\"SAMLResponse\" value=\"PHNhbWw+/Q==\">\n\
             <input type=\"hidden\" name=\"RelayState\" value=\"state 1\">\n",
        );
        context.insert("sp_name", "Agency");
        assert_eq!(html, pages::render("post_form.html", &context).unwrap());
    }

    #[test]
    fn a_template_without_exactly_one_fields_slot_is_refused() {
        assert!(Shell::cut("<p>no slots</p>").is_err());
        let twice = format!("{0}{1}{0}", Slot::Fields.marker(), "x");
        assert!(Shell::cut(&twice).is_err());
        assert!(Shell::cut(&format!("{MARK}unknown{MARK}")).is_err());
    }
}
