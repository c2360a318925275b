//! Page languages (SPEC 14): the catalogues and negotiation live in [`crate::i18n`], shared
//! with the emails (`mail`); the pages name them through this module.

pub use crate::i18n::Locale;
