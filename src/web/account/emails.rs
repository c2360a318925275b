//! Email addresses on the account page: `POST /account/emails` (add: a link to the new
//! address), the emailed link `/account/emails/confirm` (a page with one button; looking
//! uses nothing up), `POST /account/emails/{id}/remove` and `POST /account/emails/{id}/for-sp`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{change, finish, to_sign_in, ButtonForm};
use crate::idp::account::{emails, Outcome};
use crate::web::extract::{self, has_csrf, FullySignedIn, Lang, SessionForm, TokenQuery};
use crate::web::i18n::Locale;
use crate::web::render::{self, page_context};
use crate::web::{AppState, WebError};

#[derive(Debug, Deserialize)]
pub struct AddForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

has_csrf!(AddForm, TokenForm);

pub async fn add(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<AddForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let base = state.config.base_url.trim_end_matches('/');
    let prefix = format!(
        "{base}/account/emails/confirm?locale={}&token=",
        locale.code()
    );
    change(
        &state,
        locale,
        session,
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
    Lang(locale): Lang,
    q: web::Query<TokenQuery>,
    FullySignedIn(session): FullySignedIn,
) -> Result<HttpResponse, WebError> {
    let (stored, token) = (session.clone(), q.token.clone());
    let outcome = state
        .run(locale, move |deps| {
            emails::check_link(deps, &stored, &token)
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
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<TokenForm>,
) -> Result<HttpResponse, WebError> {
    let stored = session.clone();
    let outcome = state
        .run(locale, move |deps| {
            emails::confirm(deps, &stored, &form.token)
        })
        .await?;
    match outcome {
        Outcome::Refused(_) => dead_link(locale),
        other => finish(&state, &session, locale, other, "email_added").await,
    }
}

pub async fn remove(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    id: web::Path<i64>,
    form: SessionForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    change(
        &state,
        locale,
        form.session,
        "email_removed",
        move |d, s| emails::remove(d, s, id),
    )
    .await
}

pub async fn choose_for_sps(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    id: web::Path<i64>,
    form: SessionForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    change(
        &state,
        locale,
        form.session,
        "email_for_sp_changed",
        move |d, s| emails::choose_for_sps(d, s, id),
    )
    .await
}
