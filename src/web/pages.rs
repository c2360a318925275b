//! HTML pages rendered with tera. Templates are compiled into the binary so the server does
//! not depend on its working directory; tera escapes every value by default.

use std::sync::LazyLock;

use tera::{Context, Tera};
use thiserror::Error;

use super::i18n::Locale;

/// A template that would not render: a bug of ours (500), detail for the log only.
#[derive(Debug, Error)]
#[error("template {0}")]
pub struct PageError(pub String);

pub const STYLESHEET: &str = include_str!("../../templates/site.css");

pub const AUTO_SUBMIT_JS: &str = include_str!("../../templates/auto-submit.js");

pub const WEBAUTHN_JS: &str = include_str!("../../templates/webauthn.js");

pub const CONSOLE_JS: &str = include_str!("../../templates/console.js");

pub const SHOW_PASSWORD_JS: &str = include_str!("../../templates/show-password.js");

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/layout.html")),
    ("index.html", include_str!("../../templates/index.html")),
    (
        "sign_out.html",
        include_str!("../../templates/sign_out.html"),
    ),
    ("error.html", include_str!("../../templates/error.html")),
    (
        "saml_error.html",
        include_str!("../../templates/saml_error.html"),
    ),
    ("message.html", include_str!("../../templates/message.html")),
    ("sign_in.html", include_str!("../../templates/sign_in.html")),
    (
        "post_form.html",
        include_str!("../../templates/post_form.html"),
    ),
    (
        "help_errors.html",
        include_str!("../../templates/help_errors.html"),
    ),
    ("mfa.html", include_str!("../../templates/mfa.html")),
    ("sign_up.html", include_str!("../../templates/sign_up.html")),
    (
        "new_password.html",
        include_str!("../../templates/new_password.html"),
    ),
    (
        "totp_setup.html",
        include_str!("../../templates/totp_setup.html"),
    ),
    (
        "backup_codes.html",
        include_str!("../../templates/backup_codes.html"),
    ),
    (
        "forgot_password.html",
        include_str!("../../templates/forgot_password.html"),
    ),
    ("consent.html", include_str!("../../templates/consent.html")),
    (
        "security_keys.html",
        include_str!("../../templates/security_keys.html"),
    ),
    (
        "sign_up_security_key.html",
        include_str!("../../templates/sign_up_security_key.html"),
    ),
    (
        "tools_saml_request.html",
        include_str!("../../templates/tools_saml_request.html"),
    ),
    // The SP administrator console (SPEC 19).
    (
        "console_macros.html",
        include_str!("../../templates/console_macros.html"),
    ),
    (
        "console_fields.html",
        include_str!("../../templates/console_fields.html"),
    ),
    (
        "console_list.html",
        include_str!("../../templates/console_list.html"),
    ),
    (
        "console_sp.html",
        include_str!("../../templates/console_sp.html"),
    ),
    (
        "console_new.html",
        include_str!("../../templates/console_new.html"),
    ),
    (
        "console_remove_cert.html",
        include_str!("../../templates/console_remove_cert.html"),
    ),
    (
        "console_refused.html",
        include_str!("../../templates/console_refused.html"),
    ),
    (
        "console_events.html",
        include_str!("../../templates/console_events.html"),
    ),
    (
        "console_metadata.html",
        include_str!("../../templates/console_metadata.html"),
    ),
    // The demo SP (SPEC 20).
    ("demo_sp.html", include_str!("../../templates/demo_sp.html")),
    // The account page (SPEC 17).
    ("account.html", include_str!("../../templates/account.html")),
    (
        "reauthenticate.html",
        include_str!("../../templates/reauthenticate.html"),
    ),
    (
        "confirm_email.html",
        include_str!("../../templates/confirm_email.html"),
    ),
];

/// Templates are constants of the binary, compiled once on first use; a test renders every
/// one of them, so a broken template fails the build's tests, not a request.
pub static PAGES: LazyLock<Result<Pages, String>> =
    LazyLock::new(|| Pages::load().map_err(|e| format!("{e:?}")));

pub struct Pages {
    tera: Tera,
}

impl Pages {
    pub fn load() -> Result<Pages, tera::Error> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![".html"]);
        tera.add_raw_templates(TEMPLATES.iter().copied())?;
        Ok(Pages { tera })
    }

    pub fn render(&self, name: &str, context: &Context) -> Result<String, PageError> {
        self.tera.render(name, context).map_err(|e| {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                detail = format!("{detail}: {cause}");
                source = cause.source();
            }
            PageError(format!("{name}: {detail}"))
        })
    }

    /// The error page; falls back to plain text if rendering itself fails.
    pub fn error_page(&self, locale: Locale, title: &str, message: &str) -> String {
        self.error_page_with_links(locale, title, message, &[])
    }

    /// The error page, with links the reader can follow instead (e.g. the live metadata).
    pub fn error_page_with_links(
        &self,
        locale: Locale,
        title: &str,
        message: &str,
        links: &[String],
    ) -> String {
        let mut context = layout_context(locale);
        context.insert("title", title);
        context.insert("message", message);
        context.insert("links", links);
        self.tera
            .render("error.html", &context)
            .unwrap_or_else(|_| format!("{title}: {message}"))
    }
}

/// Renders with the compiled templates.
pub fn render(name: &str, context: &Context) -> Result<String, PageError> {
    match &*PAGES {
        Ok(pages) => pages.render(name, context),
        Err(e) => Err(PageError(format!("templates failed to compile: {e}"))),
    }
}

/// What `layout.html` needs on every page: the language and the translated texts (its skip
/// link among them). Every page's context starts from this one.
pub fn layout_context(locale: Locale) -> Context {
    let mut context = Context::new();
    context.insert("lang", locale.code());
    context.insert("locale", locale.code());
    context.insert("t", &Translations(locale));
    let frame = super::page_frame::current();
    context.insert("languages", &super::page_frame::languages(locale, &frame));
    if !frame.brand.is_empty() {
        context.insert("brand", &frame.brand);
    }
    context
}

/// Templates receive every message under its key with dots replaced by underscores
/// (`t.signin_email`).
pub struct Translations(pub Locale);

impl serde::Serialize for Translations {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for key in Locale::keys() {
            map.serialize_entry(&key.replace('.', "_"), self.0.t(key))?;
        }
        map.end()
    }
}

/// The error page for any `WebError`.
pub fn error_page(locale: Locale, title: &str, message: &str) -> String {
    error_page_with_links(locale, title, message, &[])
}

/// [`error_page`] with links to follow.
pub fn error_page_with_links(
    locale: Locale,
    title: &str,
    message: &str,
    links: &[String],
) -> String {
    match &*PAGES {
        Ok(pages) => pages.error_page_with_links(locale, title, message, links),
        Err(_) => format!("{title}: {message}"),
    }
}

/// Renders every page template with the context its handler gives it (`pages/tests.rs`).
#[cfg(test)]
mod tests;
