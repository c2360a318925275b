//! What every console page does first: the actor of the browser's session (or the page
//! that says why there is none), the password again before a change after the
//! re-authentication window, the page of a refusal that is not about a field, and the
//! common page context.

use actix_web::{web, HttpResponse};
use tera::Context;

use super::run;
use crate::idp::console::access::{self, Access};
use crate::idp::console::{Actor, ConsoleError};
use crate::sessions::SessionRecord;
use crate::web::i18n::Locale;
use crate::web::render::{self, page_context};
use crate::web::{session, AppState, WebError};

/// The actor of this session, or the page that says why there is none.
pub(super) async fn admit(
    state: &web::Data<AppState>,
    locale: Locale,
    session: &SessionRecord,
) -> Result<Result<Actor, HttpResponse>, WebError> {
    let stored = session.clone();
    let require = state.config.console_requires_security_key;
    let access = run(state, move |p| {
        access::of_session(p.accounts, p.roles, &stored, require)
    })
    .await
    .map(|(access, _)| access)
    .map_err(|e| WebError::DatabaseUnavailable(e.to_string()))?;
    let home = Some(("/", "home.title"));
    Ok(match access {
        Access::Allowed(actor) => Ok(actor),
        Access::NoRole => Err(render::message(locale, "console.no_role", None, home, 403)?),
        Access::SecurityKeyNeeded => Err(render::message(
            locale,
            "console.key_needed",
            None,
            Some(("/account#factors", "console.key_needed_link")),
            403,
        )?),
        Access::NotSignedIn => Err(render::redirect(&format!(
            "/sign-in?locale={}",
            locale.code()
        ))),
    })
}

/// For a change: the actor, or where the browser must go first (the password again after
/// the re-authentication window, which then returns to `back`).
pub(super) async fn admit_change(
    state: &web::Data<AppState>,
    locale: Locale,
    session: &SessionRecord,
    back: &str,
) -> Result<Result<Actor, HttpResponse>, WebError> {
    if !session::recent_password(state, session) {
        let next: String = url::form_urlencoded::byte_serialize(back.as_bytes()).collect();
        return Ok(Err(render::redirect(&format!(
            "/account/reauthenticate?locale={}&next={next}",
            locale.code()
        ))));
    }
    admit(state, locale, session).await
}

/// A use case's refusal that is not about a field: the SP is gone (or not the actor's), or
/// the database failed.
pub(super) fn failed(locale: Locale, e: ConsoleError) -> Result<HttpResponse, WebError> {
    match e {
        ConsoleError::NotFound | ConsoleError::NoSuchCertificate => render::message(
            locale,
            "console.gone",
            None,
            Some(("/console", "console.back")),
            404,
        ),
        ConsoleError::Storage(detail) => Err(WebError::DatabaseUnavailable(detail)),
        ConsoleError::Stale | ConsoleError::Invalid(_) | ConsoleError::Forbidden(_) => Err(
            WebError::Internal(format!("unhandled console refusal: {e}")),
        ),
    }
}

pub(super) fn context(locale: Locale, title_key: &str, session: &SessionRecord) -> Context {
    let mut context = page_context(locale, title_key, None);
    context.insert("csrf", &session.csrf_token);
    context
}

pub(super) fn page(
    template: &str,
    context: &Context,
    status: u16,
) -> Result<HttpResponse, WebError> {
    render::page(template, context, Vec::new(), status)
}

pub(super) fn sp_url(locale: Locale, id: &str, done: &str) -> String {
    format!("/console/sps/{id}?locale={}&done={done}", locale.code())
}
