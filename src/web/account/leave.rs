//! Leaving, on the account page: `POST /account/connected/revoke` (forget the consent to one
//! SP), `POST /account/sign-out-everywhere` and `POST /account/delete` (password and a
//! second-factor code). The last two end this browser's session too, so their result is a
//! page of its own that also deletes the session cookie.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{change, finish, ButtonForm};
use crate::idp::account::connected::{revoke_consent, sign_out_everywhere};
use crate::idp::account::delete::{delete_account, Deletion};
use crate::idp::account::Outcome;
use crate::web::extract::{self, has_csrf, Lang, SessionForm};
use crate::web::i18n::Locale;
use crate::web::{cookies, render, AppState, WebError};

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

has_csrf!(RevokeForm, DeleteForm);

pub async fn revoke(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<RevokeForm>,
) -> Result<HttpResponse, WebError> {
    change(&state, locale, session, "consent_revoked", move |d, s| {
        revoke_consent(d, s, &form.issuer)
    })
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
    let page = render::message(
        locale,
        &prefix,
        None,
        Some((link.as_str(), "signin.title")),
        200,
    )?;
    render::with_cookies(page, [cookies::removal(state, cookies::SESSION)])
}

pub async fn everywhere(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    form: SessionForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let (session, stored) = (form.session.clone(), form.session);
    let outcome = state
        .run(locale, move |deps| sign_out_everywhere(deps, &stored))
        .await?;
    match outcome {
        Outcome::Done { notified, .. } => ended(&state, locale, "account.signed_out", notified),
        other => finish(&state, &session, locale, other, "signed_out_everywhere").await,
    }
}

pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<DeleteForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let stored = session.clone();
    let outcome = state
        .run(locale, move |deps| {
            let typed = Deletion {
                password: &form.password,
                code: &form.code,
                client: &client,
            };
            delete_account(deps, &stored, &typed)
        })
        .await?;
    match outcome {
        Outcome::Done { notified, .. } => ended(&state, locale, "account.deleted", notified),
        other => finish(&state, &session, locale, other, "account_deleted").await,
    }
}
