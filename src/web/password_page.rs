//! `new_password.html`, the page that chooses a password for an emailed link: the end of
//! sign-up's confirmation and of a password reset. One page model for both handlers.

use actix_web::{HttpRequest, HttpResponse};

use super::i18n::Locale;
use super::render::page_context;
use super::{session, AppState, WebError};
use crate::registry::ServiceProvider;

/// What differs between the two flows.
pub struct NewPasswordPage<'a> {
    /// The catalogue key of the title.
    pub title_key: &'static str,
    /// The SP being signed in to, when the flow started from one.
    pub sp: Option<&'a ServiceProvider>,
    /// Where the form posts.
    pub action: &'static str,
    /// The emailed link's token, carried by the form.
    pub token: &'a str,
}

impl NewPasswordPage<'_> {
    /// The page, with `error` (a catalogue key) above the form.
    pub fn render(
        &self,
        state: &AppState,
        req: &HttpRequest,
        locale: Locale,
        error: Option<&str>,
        status: u16,
    ) -> Result<HttpResponse, WebError> {
        let mut context = page_context(locale, self.title_key, self.sp);
        context.insert("token", self.token);
        context.insert("action", self.action);
        let template = "new_password.html";
        session::anonymous_form(state, req, locale, template, context, error, status)
    }
}
