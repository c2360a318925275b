//! Leaving, on the account page: `POST /account/connected/revoke` (forget the consent to one
//! SP), `POST /account/sign-out-everywhere` and `POST /account/delete` (password and a
//! second-factor code). The last two end this browser's session too, so their result is a
//! page of its own that also deletes the session cookie.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{change, finish, form_session, CsrfForm};
use crate::idp::account::connected::{revoke_consent, sign_out_everywhere};
use crate::idp::account::delete::{delete_account, Deletion};
use crate::idp::account::Outcome;
use crate::web::extract::{self, LocaleQuery};
use crate::web::i18n::Locale;
use crate::web::{blocking, cookies, render, AppState, WebError};

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    issuer: String,
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

pub async fn revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<RevokeForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let form = form.into_inner();
    let csrf = form.csrf.clone();
    change(
        &state,
        &req,
        locale,
        &csrf,
        "consent_revoked",
        move |d, s| revoke_consent(d, s, &form.issuer),
    )
    .await
}

/// The page after the session ended: `{prefix}.title` and `.body` (or the `_unmailed`
/// variant), with a link to sign in again, deleting the session cookie.
fn ended(
    state: &AppState,
    locale: Locale,
    prefix: &str,
    notified: bool,
) -> Result<HttpResponse, WebError> {
    let prefix = if notified {
        prefix.to_string()
    } else {
        format!("{prefix}_unmailed")
    };
    let link = format!("/sign-in?locale={}", locale.code());
    let mut page = render::message(
        locale,
        &prefix,
        None,
        Some((link.as_str(), "signin.title")),
        200,
    )?;
    page.add_removal_cookie(&cookies::removal(state, cookies::SESSION))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(page)
}

pub async fn everywhere(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let session = match form_session(&state, &req, locale, &form.csrf).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let (worker, stored) = (state.clone(), session.clone());
    let outcome =
        blocking::run(locale, move || sign_out_everywhere(&worker.deps(), &stored)).await?;
    match outcome {
        Outcome::Done { notified, .. } => ended(&state, locale, "account.signed_out", notified),
        other => finish(&state, &session, locale, other, "signed_out_everywhere").await,
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let session = match form_session(&state, &req, locale, &form.csrf).await? {
        Ok(session) => session,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let client = extract::client_address(&state, &req);
    let (worker, stored, form) = (state.clone(), session.clone(), form.into_inner());
    let outcome = blocking::run(locale, move || {
        let typed = Deletion {
            password: &form.password,
            code: &form.code,
            client: &client,
        };
        delete_account(&worker.deps(), &stored, &typed)
    })
    .await?;
    match outcome {
        Outcome::Done { notified, .. } => ended(&state, locale, "account.deleted", notified),
        other => finish(&state, &session, locale, other, "account_deleted").await,
    }
}
