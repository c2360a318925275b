//! HTML pages rendered with tera. Templates are compiled into the binary so the server does
//! not depend on its working directory; tera escapes every value by default.

use std::sync::LazyLock;

use super::i18n::Locale;
use tera::{Context, Tera};

use super::error::WebError;

pub const STYLESHEET: &str = include_str!("../../templates/site.css");

pub const AUTO_SUBMIT_JS: &str = include_str!("../../templates/auto-submit.js");

pub const WEBAUTHN_JS: &str = include_str!("../../templates/webauthn.js");

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../templates/layout.html")),
    ("index.html", include_str!("../../templates/index.html")),
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

    pub fn render(&self, name: &str, context: &Context) -> Result<String, WebError> {
        self.tera.render(name, context).map_err(|e| {
            let mut detail = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                detail = format!("{detail}: {cause}");
                source = cause.source();
            }
            WebError::Internal(format!("template {name}: {detail}"))
        })
    }

    /// The error page; falls back to plain text if rendering itself fails.
    pub fn error_page(&self, locale: Locale, title: &str, message: &str) -> String {
        let mut context = super::render::layout_context(locale);
        context.insert("title", title);
        context.insert("message", message);
        self.tera
            .render("error.html", &context)
            .unwrap_or_else(|_| format!("{title}: {message}"))
    }
}

/// Renders with the compiled templates.
pub fn render(name: &str, context: &Context) -> Result<String, WebError> {
    match &*PAGES {
        Ok(pages) => pages.render(name, context),
        Err(e) => Err(WebError::Internal(format!(
            "templates failed to compile: {e}"
        ))),
    }
}

/// The error page for any `WebError`.
pub fn error_page(locale: Locale, title: &str, message: &str) -> String {
    match &*PAGES {
        Ok(pages) => pages.error_page(locale, title, message),
        Err(_) => format!("{title}: {message}"),
    }
}

/// Renders every page template with the context its handler gives it (`pages/tests.rs`).
#[cfg(test)]
mod tests;
