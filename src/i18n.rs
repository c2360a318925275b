//! Page languages (SPEC 14): English, Spanish and French, chosen by the `locale` parameter,
//! else `Accept-Language`, else English. One catalogue per language (`locales/*.toml`,
//! compiled in); a key missing from a translation falls back to English.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Locale {
    En,
    Es,
    Fr,
}

const LOCALES: &[(Locale, &str, &str)] = &[
    (Locale::En, "en", include_str!("../locales/en.toml")),
    (Locale::Es, "es", include_str!("../locales/es.toml")),
    (Locale::Fr, "fr", include_str!("../locales/fr.toml")),
];

type Catalogue = HashMap<String, String>;

/// Compiled once; a catalogue that does not parse is empty (and fails the tests).
static CATALOGUES: LazyLock<HashMap<Locale, Catalogue>> = LazyLock::new(|| {
    LOCALES
        .iter()
        .map(|(locale, _, text)| (*locale, toml::from_str(text).unwrap_or_default()))
        .collect()
});

impl Locale {
    pub fn code(self) -> &'static str {
        LOCALES
            .iter()
            .find(|(l, _, _)| *l == self)
            .map_or("en", |(_, c, _)| *c)
    }

    /// `es`, `es-MX`, `FR` …
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        LOCALES
            .iter()
            .find(|(_, c, _)| *c == primary)
            .map(|(l, _, _)| *l)
    }

    /// The `locale` parameter wins, then the first supported language of
    /// `Accept-Language` by quality, then English.
    pub fn negotiate(param: Option<&str>, accept_language: Option<&str>) -> Locale {
        if let Some(locale) = param.and_then(Locale::parse) {
            return locale;
        }
        let mut ranked: Vec<(f32, Locale)> = accept_language
            .unwrap_or_default()
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let locale = Locale::parse(parts.next()?)?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, locale))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map_or(Locale::En, |(_, l)| *l)
    }

    /// The message for `key`, falling back to English, then to the key itself.
    /// Every message key (those of the English catalogue, which every other one has).
    pub fn keys() -> impl Iterator<Item = &'static str> {
        CATALOGUES
            .get(&Locale::En)
            .into_iter()
            .flat_map(|c| c.keys().map(String::as_str))
    }

    pub fn t(self, key: &str) -> &'static str {
        let lookup = |locale: Locale| {
            CATALOGUES
                .get(&locale)
                .and_then(|c| c.get(key))
                .map(String::as_str)
        };
        lookup(self).or_else(|| lookup(Locale::En)).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_english_key() {
        let english = &CATALOGUES[&Locale::En];
        assert!(english.len() > 40, "the English catalogue parses");
        for (locale, code, _) in LOCALES {
            let catalogue = &CATALOGUES[locale];
            for key in english.keys() {
                assert!(catalogue.contains_key(key), "{code} lacks {key}");
            }
            assert!(
                catalogue.values().all(|v| !v.trim().is_empty()),
                "{code} has an empty message"
            );
        }
    }

    #[test]
    fn negotiation() {
        assert_eq!(Locale::negotiate(Some("fr"), Some("es")), Locale::Fr);
        assert_eq!(
            Locale::negotiate(Some("de"), Some("es-MX,en;q=0.5")),
            Locale::Es
        );
        assert_eq!(
            Locale::negotiate(None, Some("de, en;q=0.2, fr;q=0.8")),
            Locale::Fr
        );
        assert_eq!(Locale::negotiate(None, Some("es;q=0")), Locale::En);
        assert_eq!(Locale::negotiate(None, None), Locale::En);
        assert_eq!(Locale::Es.t("error.title"), "Error");
        assert_eq!(Locale::Fr.t("error.title"), "Erreur");
    }
}
