//! Forgot password (SPEC 17), over HTTP: `/forgot-password` (email) and the emailed link
//! `/reset-password` (a new password). The rules live in `idp::recovery`.

use actix_web::{web, HttpRequest, HttpResponse};

use super::extract::{self, CsrfForm, EmailForm, Lang, NewPasswordForm, TokenQuery};
use super::i18n::Locale;
use super::password_page::NewPasswordPage;
use super::render::{self, page_context};
use super::{cookies, session, AppState, WebError};
use crate::idp::recovery::{self, RequestOutcome, ResetOutcome};

pub async fn email_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
) -> Result<HttpResponse, WebError> {
    email_page(&state, &req, locale, None, 200).await
}

async fn email_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let sp = session::pending_sp(state, req, locale).await?;
    let context = page_context(locale, "recovery.title", sp.as_deref());
    session::anonymous_form(
        state,
        req,
        locale,
        "forgot_password.html",
        context,
        error,
        status,
    )
}

pub async fn email_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let base = state.config.base_url.trim_end_matches('/');
    let prefix = format!("{base}/reset-password?locale={}&token=", locale.code());
    let outcome = state
        .run(locale, move |deps| {
            recovery::request(deps, &form.email, &client, &prefix, locale.code())
        })
        .await?;
    let sp = session::pending_sp(&state, &req, locale).await?;
    match outcome {
        RequestOutcome::Sent => render::mail_sent(&state, locale, "recovery.sent", sp.as_deref()),
        RequestOutcome::InvalidEmail => {
            email_page(&state, &req, locale, Some("signup.invalid_email"), 400).await
        }
        RequestOutcome::RateLimited => Err(WebError::RateLimited { locale }),
    }
}

fn dead_link(locale: Locale) -> Result<HttpResponse, WebError> {
    let url = format!("/forgot-password?locale={}", locale.code());
    render::message(
        locale,
        "recovery.link_dead",
        None,
        Some((&url, "link.new")),
        410,
    )
}

pub async fn reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, WebError> {
    let token = q.token.clone();
    let live = state
        .run(locale, move |deps| recovery::link_is_live(deps, &token))
        .await?;
    if !live {
        return dead_link(locale);
    }
    password_page(&state, &req, locale, &q.token, None, 200)
}

fn password_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    token: &str,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let page = NewPasswordPage {
        title_key: "recovery.password_title",
        sp: None,
        action: "/reset-password",
        token,
    };
    page.render(state, req, locale, error, status)
}

pub async fn reset_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<HttpResponse, WebError> {
    let token = form.token.clone();
    let outcome = state
        .run(locale, move |deps| {
            recovery::reset(
                deps,
                &form.token,
                &form.password,
                &form.password_confirmation,
            )
        })
        .await?;
    match outcome {
        ResetOutcome::Done { notified } => {
            let prefix = if notified {
                "recovery.done"
            } else {
                "recovery.done_unnotified"
            };
            let link = format!("/sign-in?locale={}", locale.code());
            let page = render::message(locale, prefix, None, Some((&link, "signin.title")), 200)?;
            render::with_cookies(page, [cookies::removal(&state, cookies::SESSION)])
        }
        ResetOutcome::Refused(problem) => password_page(
            &state,
            &req,
            locale,
            &token,
            Some(problem.message_key()),
            400,
        ),
        ResetOutcome::LinkDead => dead_link(locale),
    }
}
