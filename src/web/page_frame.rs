//! What every page's frame shows that no handler passes (SPEC 15): the organization's name
//! in the header, and the language switcher, whose links keep the request's other query
//! parameters (a confirmation link's token survives a change of language). The
//! `web::page_frame` middleware sets it for each request; `pages::layout_context` reads it.
//! A page rendered outside a request (the tests) gets the defaults.

use std::future::Future;

use serde::Serialize;

use super::i18n::Locale;

/// Longer queries (a SAMLRequest) are not repeated in three links: the switcher then links
/// to the bare path.
const MAX_KEPT_QUERY: usize = 2048;

#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// `[organization] display_name`.
    pub brand: String,
    /// The request's query without its `locale` parameters, form-encoded.
    pub query: String,
}

tokio::task_local! {
    static FRAME: Frame;
}

/// Runs `f` (the rest of the request) with `frame` as its pages' frame.
pub async fn scope<F: Future>(frame: Frame, f: F) -> F::Output {
    FRAME.scope(frame, f).await
}

pub fn current() -> Frame {
    FRAME.try_with(Clone::clone).unwrap_or_default()
}

/// The valid `locale` parameter of a query, if it has one.
pub fn chosen_locale(query: &str) -> Option<Locale> {
    // Every request passes here (a SAML request's query is up to 128 KiB): parse only a
    // query that can hold the parameter.
    if !query.contains("locale=") {
        return None;
    }
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "locale")
        .and_then(|(_, v)| Locale::parse(&v))
}

/// `query` without its `locale` pairs (empty when it is too long to repeat).
pub fn without_locale(query: &str) -> String {
    if query.len() > MAX_KEPT_QUERY {
        return String::new();
    }
    if !query.contains("locale=") {
        return query.to_string();
    }
    let kept = url::form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "locale");
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish()
}

/// One entry of the switcher: the language's own name, in that language.
#[derive(Debug, Serialize)]
pub struct LanguageLink {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

/// The switcher's links: the same page (a relative `?…` URL keeps the path) in each language.
pub fn languages(current: Locale, frame: &Frame) -> Vec<LanguageLink> {
    [
        (Locale::En, "English"),
        (Locale::Es, "Español"),
        (Locale::Fr, "Français"),
    ]
    .into_iter()
    .map(|(locale, name)| {
        let separator = if frame.query.is_empty() { "" } else { "&" };
        LanguageLink {
            code: locale.code(),
            name,
            href: format!("?{}{separator}locale={}", frame.query, locale.code()),
            current: locale == current,
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_switcher_keeps_other_parameters_and_drops_the_old_locale() {
        let frame = Frame {
            brand: String::new(),
            query: without_locale("locale=fr&token=a%2Bb&x=1"),
        };
        let links = languages(Locale::Fr, &frame);
        assert_eq!(links[1].href, "?token=a%2Bb&x=1&locale=es");
        assert!(links[2].current && !links[0].current);
        assert_eq!(chosen_locale("a=1&locale=ES"), Some(Locale::Es));
        assert_eq!(chosen_locale("locale=de"), None);
        assert_eq!(without_locale(&"a".repeat(MAX_KEPT_QUERY + 1)), "");
        let bare = languages(Locale::En, &Frame::default());
        assert_eq!(bare[0].href, "?locale=en");
    }
}
