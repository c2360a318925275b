//! The account page over HTTP (SPEC 17): `GET /account` shows everything, and each form
//! posts to its own route (`/account/password`, `/account/emails`, …). The rules live in
//! `idp::account`; here a browser without a fully signed-in session is sent to `/sign-in`,
//! one whose password is older than 15 minutes to `/account/reauthenticate` (which returns to
//! the account page), a form without its session's CSRF token is refused, and a change's
//! result is shown on the account page after a 303 (a refusal: the page itself, with the
//! problem and a 4xx status).

pub mod emails;
pub mod leave;
pub mod security;
mod view;

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::extract::{self, has_csrf, FullySignedIn, Lang, SessionForm};
use super::i18n::Locale;
use super::render::{self, page_context};
use super::{session, AppState, WebError};
use crate::idp::account::reauth::reauthenticate;
use crate::idp::account::{overview, Outcome, Problem};
use crate::idp::{self, Deps};
use crate::sessions::SessionRecord;

pub use super::extract::ButtonForm;

/// `/account`'s query (the language is read by [`Lang`]).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// The change just made (one of [`view::DONE`]); anything else is ignored.
    done: Option<String>,
    /// Set when the email announcing the change could not be sent.
    unmailed: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    /// Where to go afterwards (the console's pages only; else the account page).
    #[serde(default)]
    next: String,
}

/// `/account/reauthenticate`'s query.
#[derive(Debug, Deserialize)]
pub struct ReauthQuery {
    #[serde(default)]
    next: String,
}

/// `next` when it is a console page of this site (never another site: no scheme, no host,
/// no `//`, no backslash); else `/account`.
fn after_reauthentication(next: &str) -> &str {
    let console = next == "/console" || next.starts_with("/console/");
    let plain = next
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-_".contains(c));
    if console && plain && !next.contains("//") {
        next
    } else {
        "/account"
    }
}

has_csrf!(PasswordForm);

fn to_sign_in(locale: Locale) -> HttpResponse {
    render::redirect(&format!("/sign-in?locale={}", locale.code()))
}

fn to_reauthenticate(locale: Locale) -> HttpResponse {
    render::redirect(&format!("/account/reauthenticate?locale={}", locale.code()))
}

/// Runs one change for a signed-in form and shows its result; `notice` names the change on
/// the account page.
async fn change<F>(
    state: &AppState,
    locale: Locale,
    session: SessionRecord,
    notice: &'static str,
    f: F,
) -> Result<HttpResponse, WebError>
where
    F: FnOnce(&Deps<'_>, &SessionRecord) -> Result<Outcome, idp::Error> + Send + 'static,
{
    let stored = session.clone();
    let outcome = state.run(locale, move |deps| f(deps, &stored)).await?;
    finish(state, &session, locale, outcome, notice).await
}

/// Where a change's outcome leads.
async fn finish<T>(
    state: &AppState,
    session: &SessionRecord,
    locale: Locale,
    outcome: Outcome<T>,
    notice: &'static str,
) -> Result<HttpResponse, WebError> {
    match outcome {
        Outcome::Done { notified, .. } => {
            let unmailed = if notified { "" } else { "&unmailed=1" };
            Ok(render::redirect(&format!(
                "/account?locale={}&done={notice}{unmailed}",
                locale.code()
            )))
        }
        Outcome::Refused(problem) => {
            let field = view::failed_field(notice, &problem);
            refused_at(state, session, locale, problem, field).await
        }
        Outcome::NotSignedIn => Ok(to_sign_in(locale)),
        Outcome::ReauthenticationNeeded => Ok(to_reauthenticate(locale)),
    }
}

/// The account page again, with the problem (or 429 for the rate limit).
async fn refused(
    state: &AppState,
    session: &SessionRecord,
    locale: Locale,
    problem: Problem,
) -> Result<HttpResponse, WebError> {
    refused_at(state, session, locale, problem, None).await
}

/// As [`refused`], the message next to the field that caused it when there is one.
async fn refused_at(
    state: &AppState,
    session: &SessionRecord,
    locale: Locale,
    problem: Problem,
    field: Option<&'static str>,
) -> Result<HttpResponse, WebError> {
    if problem == Problem::RateLimited {
        return Err(WebError::RateLimited { locale });
    }
    let (key, status) = view::problem(problem);
    show(
        state,
        session,
        locale,
        view::Notice::Problem(key, field),
        status,
    )
    .await
}

/// Renders the account page for this session (or sends the browser where it must go first).
async fn show(
    state: &AppState,
    session: &SessionRecord,
    locale: Locale,
    notice: view::Notice,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let stored = session.clone();
    let outcome = state
        .run(locale, move |deps| overview::overview(deps, &stored))
        .await?;
    match outcome {
        Outcome::Done { value, .. } => {
            view::page(locale, &session.csrf_token, &value, notice, status)
        }
        Outcome::ReauthenticationNeeded => Ok(to_reauthenticate(locale)),
        Outcome::NotSignedIn | Outcome::Refused(_) => Ok(to_sign_in(locale)),
    }
}

/// `GET /account`.
pub async fn page(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    q: web::Query<PageQuery>,
    FullySignedIn(session): FullySignedIn,
) -> Result<HttpResponse, WebError> {
    let notice = view::Notice::from_query(q.done.as_deref(), q.unmailed.is_some());
    show(&state, &session, locale, notice, 200).await
}

/// `GET /account/reauthenticate`.
pub async fn reauth_form(
    Lang(locale): Lang,
    FullySignedIn(session): FullySignedIn,
    q: web::Query<ReauthQuery>,
) -> Result<HttpResponse, WebError> {
    reauth_page(locale, &session, after_reauthentication(&q.next), None, 200)
}

fn reauth_page(
    locale: Locale,
    session: &SessionRecord,
    next: &str,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, "account.reauth_title", None);
    context.insert("csrf", &session.csrf_token);
    context.insert("next", next);
    if let Some(key) = error {
        context.insert("error", locale.t(key));
    }
    render::page("reauthenticate.html", &context, Vec::new(), status)
}

/// `POST /account/reauthenticate`: the password again, then back to the account page.
pub async fn reauth_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let stored = session.clone();
    let next = form.next.clone();
    let outcome = state
        .run(locale, move |deps| {
            reauthenticate(deps, &stored, &form.password, &client)
        })
        .await?;
    match outcome {
        Outcome::Done { value: token, .. } => {
            let to = format!("{}?locale={}", after_reauthentication(&next), locale.code());
            render::with_cookies(render::redirect(&to), [session::cookie(&state, token)])
        }
        Outcome::Refused(Problem::RateLimited) => Err(WebError::RateLimited { locale }),
        Outcome::Refused(problem) => {
            let (key, status) = view::problem(problem);
            let next = after_reauthentication(&next);
            reauth_page(locale, &session, next, Some(key), status)
        }
        Outcome::NotSignedIn | Outcome::ReauthenticationNeeded => Ok(to_sign_in(locale)),
    }
}
