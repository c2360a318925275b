//! Email addresses on the account page: `POST /account/emails` (add: a link to the new
//! address), the emailed link `/account/emails/confirm` (a page with one button; looking
//! uses nothing up), `POST /account/emails/{id}/remove` and `POST /account/emails/{id}/for-sp`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{change, finish, form_session, signed_in, to_sign_in, CsrfForm};
use crate::idp::account::{emails, Outcome};
use crate::web::extract::{self, LocaleQuery};
use crate::web::i18n::Locale;
use crate::web::render::{self, page_context};
use crate::web::{blocking, AppState, WebError};

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    locale: Option<String>,
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

pub async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let client = extract::client_address(&state, &req);
    let base = state.config.base_url.trim_end_matches('/');
    let prefix = format!(
        "{base}/account/emails/confirm?locale={}&token=",
        locale.code()
    );
    let form = form.into_inner();
    let csrf = form.csrf.clone();
    change(
        &state,
        &req,
        locale,
        &csrf,
        "email_add_requested",
        move |deps, session| emails::add(deps, session, &form.email, &client, &prefix),
    )
    .await
}

/// A link that is expired, used, or another account's.
fn dead_link(locale: Locale) -> Result<HttpResponse, WebError> {
    let url = format!("/account?locale={}", locale.code());
    render::message(
        locale,
        "account.link_dead",
        None,
        Some((url.as_str(), "account.back")),
        410,
    )
}

/// `GET /account/emails/confirm?token=…`: signed in as the owner, a page to add the address.
pub async fn confirm_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let session = match signed_in(&state, &req, locale).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let (worker, stored, token) = (state.clone(), session.clone(), q.token.clone());
    let outcome = blocking::run(locale, move || {
        emails::check_link(&worker.deps(), &stored, &token)
    })
    .await?;
    let address = match outcome {
        Outcome::Done { value, .. } => value,
        Outcome::Refused(_) => return dead_link(locale),
        Outcome::NotSignedIn | Outcome::ReauthenticationNeeded => return Ok(to_sign_in(locale)),
    };
    let mut context = page_context(locale, "account.confirm_title", None);
    context.insert("csrf", &session.csrf_token);
    context.insert("token", &q.token);
    context.insert("address", &address);
    render::page("confirm_email.html", &context, Vec::new(), 200)
}

/// `POST /account/emails/confirm`: the address is added.
pub async fn confirm_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let session = match form_session(&state, &req, locale, &form.csrf).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let (worker, stored) = (state.clone(), session.clone());
    let token = form.into_inner().token;
    let outcome = blocking::run(locale, move || {
        emails::confirm(&worker.deps(), &stored, &token)
    })
    .await?;
    match outcome {
        Outcome::Refused(_) => dead_link(locale),
        other => finish(&state, &session, locale, other, "email_added").await,
    }
}

pub async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let id = id.into_inner();
    change(
        &state,
        &req,
        locale,
        &form.csrf,
        "email_removed",
        move |d, s| emails::remove(d, s, id),
    )
    .await
}

pub async fn choose_for_sps(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    id: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let id = id.into_inner();
    change(
        &state,
        &req,
        locale,
        &form.csrf,
        "email_for_sp_changed",
        move |d, s| emails::choose_for_sps(d, s, id),
    )
    .await
}
