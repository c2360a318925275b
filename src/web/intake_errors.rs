//! How intake refusals look: the localised HTML list (title "Error", one item per error with
//! its field, message and a link to the integration help) or `{"errors":[…]}` (SPEC 4).

use serde::Serialize;

use super::i18n::Locale;
use super::pages::{self, layout_context, PageError};
use crate::idp::intake::catalogue::{IntakeCode, IntakeError};

/// What a SAML error page says besides the errors (SPEC 15): the registered SP the request
/// named, with its way back, and the audit event's reference for support.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectionNote {
    pub sp_name: Option<String>,
    /// The SP's registered `return_to_sp_url`.
    pub return_url: Option<String>,
    pub reference: Option<String>,
}

#[derive(Debug, Serialize)]
struct Item {
    field: &'static str,
    field_label: &'static str,
    code: &'static str,
    message: String,
    detail: Option<String>,
    help_url: String,
}

fn items(errors: &[IntakeError], locale: Locale, help_base: &str) -> Vec<Item> {
    errors
        .iter()
        .map(|e| Item {
            field: e.code.field().as_str(),
            field_label: locale.t(&format!("field.{}", e.code.field().as_str())),
            code: e.code.as_str(),
            message: locale.t(&format!("code.{}", e.code.as_str())).to_string(),
            detail: e.detail.clone(),
            help_url: format!(
                "{help_base}/help/errors?locale={}#{}",
                locale.code(),
                e.code.as_str()
            ),
        })
        .collect()
}

pub fn html(
    errors: &[IntakeError],
    locale: Locale,
    help_base: &str,
    note: &RejectionNote,
) -> String {
    let mut context = layout_context(locale);
    context.insert("title", locale.t("error.title"));
    // The tab names the first error, so it can be told apart from any other page.
    let first = errors
        .first()
        .map(|e| locale.t(&format!("code.{}", e.code.as_str())));
    let page_title = match first {
        Some(message) => format!("{}: {message}", locale.t("error.title")),
        None => locale.t("error.title").to_string(),
    };
    context.insert("page_title", &page_title);
    context.insert("sp_name", &note.sp_name);
    context.insert("return_url", &note.return_url);
    context.insert("reference", &note.reference);
    context.insert(
        "tool_url",
        &format!("/tools/saml-request?locale={}", locale.code()),
    );
    context.insert("intro", locale.t("error.intro"));
    context.insert("more_info", locale.t("error.more_info"));
    context.insert("errors", &items(errors, locale, help_base));
    pages::render("saml_error.html", &context).unwrap_or_else(|_| {
        pages::error_page(locale, locale.t("error.title"), locale.t("error.intro"))
    })
}

#[derive(Serialize)]
struct JsonItem<'a> {
    field: &'a str,
    code: &'a str,
    message: String,
}

pub fn json(
    errors: &[IntakeError],
    locale: Locale,
    help_base: &str,
    note: &RejectionNote,
) -> String {
    let list: Vec<JsonItem<'_>> = items(errors, locale, help_base)
        .into_iter()
        .map(|i| JsonItem {
            field: i.field,
            code: i.code,
            message: match i.detail {
                Some(detail) => format!("{} ({detail})", i.message),
                None => i.message,
            },
        })
        .collect();
    match &note.reference {
        Some(reference) => serde_json::json!({ "errors": list, "reference": reference }),
        None => serde_json::json!({ "errors": list }),
    }
    .to_string()
}

/// What the code `code` means and how to fix it, in `locale`, with its `/help/errors` link;
/// `None` for a word that is not an intake code.
pub fn explain(code: &str, locale: Locale, help_base: &str) -> Option<(String, String, String)> {
    let known = IntakeCode::all().find(|c| c.as_str() == code)?;
    Some((
        locale.t(&format!("code.{}", known.as_str())).to_string(),
        locale.t(&format!("help.{}", known.as_str())).to_string(),
        format!(
            "{help_base}/help/errors?locale={}#{}",
            locale.code(),
            known.as_str()
        ),
    ))
}

/// The integration help page: every code with its message and how to fix it.
pub fn help_page(locale: Locale) -> Result<String, PageError> {
    #[derive(Serialize)]
    struct Entry {
        code: &'static str,
        message: &'static str,
        help: &'static str,
    }
    let entries: Vec<Entry> = IntakeCode::all()
        .map(|c| Entry {
            code: c.as_str(),
            message: locale.t(&format!("code.{}", c.as_str())),
            help: locale.t(&format!("help.{}", c.as_str())),
        })
        .collect();
    let mut context = layout_context(locale);
    context.insert("title", locale.t("help.title"));
    context.insert("intro", locale.t("help.intro"));
    context.insert("errors", &entries);
    pages::render("help_errors.html", &context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::intake::catalogue::every_variant;

    #[test]
    fn every_variant_has_a_field_label_a_message_and_help_in_english() {
        for code in every_variant() {
            let field = code.field().as_str();
            for key in [
                format!("field.{field}"),
                format!("code.{}", code.as_str()),
                format!("help.{}", code.as_str()),
            ] {
                assert!(!Locale::En.t(&key).trim().is_empty(), "{code:?}: no {key}");
            }
        }
    }

    #[test]
    fn the_page_and_json_show_every_variant() {
        let errors: Vec<IntakeError> = every_variant().into_iter().map(IntakeError::new).collect();
        let none = RejectionNote::default();
        let page = html(&errors, Locale::En, "https://idp.example.gov", &none);
        let listed: serde_json::Value =
            serde_json::from_str(&json(&errors, Locale::En, "", &none)).expect("json");
        for (i, code) in every_variant().into_iter().enumerate() {
            let message = Locale::En.t(&format!("code.{}", code.as_str()));
            assert!(
                page.contains(&tera::escape_html(message)),
                "{code:?}: {page}"
            );
            assert!(page.contains(&format!("#{}\"", code.as_str())), "{code:?}");
            assert_eq!(listed["errors"][i]["code"], code.as_str(), "{code:?}");
            assert_eq!(listed["errors"][i]["message"], message, "{code:?}");
        }
        assert!(listed.get("reference").is_none());
    }

    /// A registered SP's name and way back, the reference, the tool link, and a `<title>`
    /// that names the first error; the SP's name is escaped (an administrator typed it).
    #[test]
    fn the_page_names_the_sp_the_reference_and_the_first_error() {
        let errors = vec![IntakeError::new(IntakeCode::RequestExpired)];
        let note = RejectionNote {
            sp_name: Some("Tax <b>Filing</b>".into()),
            return_url: Some("https://sp.example.gov/?a=1&b=2".into()),
            reference: Some("0A1B2C3D4E".into()),
        };
        let page = html(&errors, Locale::En, "", &note);
        let expired = Locale::En.t("code.request_expired");
        let title = format!(
            "<title>Error: {} | saml-idp</title>",
            tera::escape_html(expired)
        );
        assert!(page.contains(&title), "{page}");
        assert!(
            page.contains("<strong>Tax &lt;b&gt;Filing&lt;&#x2F;b&gt;</strong>"),
            "{page}"
        );
        assert!(
            page.contains("href=\"https:&#x2F;&#x2F;sp.example.gov&#x2F;?a=1&amp;b=2\""),
            "{page}"
        );
        assert!(page.contains("<code>0A1B2C3D4E</code>"));
        assert!(
            page.contains("href=\"&#x2F;tools&#x2F;saml-request?locale=en\""),
            "{page}"
        );
        let listed: serde_json::Value =
            serde_json::from_str(&json(&errors, Locale::En, "", &note)).expect("json");
        assert_eq!(listed["reference"], "0A1B2C3D4E");
    }
}
