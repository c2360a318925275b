//! Password and second factors on the account page: `POST /account/password`,
//! `POST /account/totp` (the set-up page: QR code and secret, as on sign-up),
//! `POST /account/totp/confirm`, `POST /account/totp/remove` and `POST /account/backup-codes`
//! (ten new codes, shown once).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::{change, finish, refused, ButtonForm};
use crate::idp::account::factors::{self, TotpSetup};
use crate::idp::account::password::{change_password, PasswordChange};
use crate::idp::account::{Outcome, Problem};
use crate::sessions::SessionRecord;
use crate::web::extract::{self, has_csrf, Lang, SessionForm};
use crate::web::i18n::Locale;
use crate::web::render::{self, page_context};
use crate::web::{qr, AppState, WebError};

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

#[derive(Debug, Deserialize)]
pub struct TotpForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    code: String,
}

has_csrf!(PasswordForm, TotpForm);

pub async fn password(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    change(&state, locale, session, "password_changed", move |d, s| {
        let typed = PasswordChange {
            current: &form.current_password,
            new: &form.password,
            confirmation: &form.password_confirmation,
            client: &client,
        };
        change_password(d, s, &typed)
    })
    .await
}

/// No page showing a secret or codes is kept by the browser or a proxy.
fn no_store(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The set-up page (`totp_setup.html`, as on sign-up), its form posting the token back.
fn setup_page(
    locale: Locale,
    session: &SessionRecord,
    setup: &TotpSetup,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, "totp_setup.title", None);
    context.insert("csrf", &session.csrf_token);
    context.insert("action", "/account/totp/confirm");
    context.insert("token", &setup.token);
    context.insert("secret", &qr::group(&setup.secret_base32));
    context.insert("qr_svg", &qr::qr_svg(&setup.provisioning_uri)?);
    context.insert("back_url", &format!("/account?locale={}", locale.code()));
    if let Some(key) = error {
        context.insert("error", locale.t(key));
    }
    render::page("totp_setup.html", &context, Vec::new(), status).map(no_store)
}

/// `POST /account/totp`: a new secret to scan.
pub async fn totp_start(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    form: SessionForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let (session, stored) = (form.session.clone(), form.session);
    let label = state.config.organization.display_name.clone();
    let outcome = state
        .run(locale, move |deps| {
            factors::start_totp(deps, &stored, &label)
        })
        .await?;
    match outcome {
        Outcome::Done { value, .. } => setup_page(locale, &session, &value, None, 200),
        other => finish(&state, &session, locale, other, "totp_added").await,
    }
}

/// `POST /account/totp/confirm`: the app's first code; a wrong one shows the page again.
pub async fn totp_confirm(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<TotpForm>,
) -> Result<HttpResponse, WebError> {
    let stored = session.clone();
    let label = state.config.organization.display_name.clone();
    let (outcome, again) = state
        .run(locale, move |deps| {
            let outcome = factors::confirm_totp(deps, &stored, &form.token, &form.code)?;
            let again = match outcome {
                Outcome::Refused(Problem::WrongCode) => {
                    factors::pending_totp(deps, &stored, &form.token, &label)?
                }
                _ => None,
            };
            Ok((outcome, again))
        })
        .await?;
    match (outcome, again) {
        (Outcome::Refused(Problem::WrongCode), Some(setup)) => {
            setup_page(locale, &session, &setup, Some("mfa.failed"), 400)
        }
        (Outcome::Refused(Problem::WrongCode), None) => {
            refused(&state, &session, locale, Problem::SetupExpired).await
        }
        (other, _) => finish(&state, &session, locale, other, "totp_added").await,
    }
}

pub async fn totp_remove(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    form: SessionForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    change(&state, locale, form.session, "totp_removed", |d, s| {
        factors::remove_totp(d, s)
    })
    .await
}

/// `POST /account/backup-codes`: the new codes, shown once; the old ones no longer work.
pub async fn backup_codes(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    form: SessionForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let (session, stored) = (form.session.clone(), form.session);
    let outcome = state
        .run(locale, move |deps| {
            factors::regenerate_backup_codes(deps, &stored)
        })
        .await?;
    let Outcome::Done { value, notified } = outcome else {
        return finish(
            &state,
            &session,
            locale,
            outcome,
            "backup_codes_regenerated",
        )
        .await;
    };
    let mut context = page_context(locale, "backup_codes.title", None);
    context.insert("codes", &value);
    let unmailed = if notified { "" } else { "&unmailed=1" };
    let next = format!(
        "/account?locale={}&done=backup_codes_regenerated{unmailed}",
        locale.code()
    );
    context.insert("next", &next);
    if !notified {
        context.insert("unmailed", locale.t("account.unmailed"));
    }
    render::page("backup_codes.html", &context, Vec::new(), 200).map(no_store)
}
