//! Creating an account (SPEC 17), over HTTP: `/sign-up` (email), the emailed link
//! `/sign-up/confirm` (password), `/sign-up/second-factor` (an authenticator app, its QR code
//! drawn as SVG by `web::qr`) and the backup codes, shown once. The rules live in `idp::sign_up`;
//! a sign-up started from an SP's sign-in page keeps the browser's pending request, so the
//! last page continues to that SP.

use actix_web::cookie::Cookie;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::extract::{
    self, has_csrf, ButtonForm, CsrfForm, EmailForm, KeyRegistrationForm, Lang, NewPasswordForm,
    TokenQuery,
};
use super::i18n::Locale;
use super::password_page::NewPasswordPage;
use super::qr::{group, qr_svg};
use super::render::{self, page_context, with_cookies};
use super::{cookies, session, AppState, WebError};
use crate::idp::security_key::Begun;
use crate::idp::sign_up::{
    self, FinishOutcome, KeyFinish, PasswordStep, SignUpLinks, StartOutcome,
};

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    code: String,
}

has_csrf!(CodeForm);

/// The live sign-up's token, from its cookie (set once the password is chosen).
fn sign_up_token(req: &HttpRequest) -> Option<String> {
    cookies::read(req, cookies::SIGN_UP)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

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
    let context = page_context(locale, "signup.title", sp.as_deref());
    session::anonymous_form(state, req, locale, "sign_up.html", context, error, status)
}

pub async fn email_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let base = state.config.base_url.trim_end_matches('/').to_string();
    let outcome = state
        .run(locale, move |deps| {
            let code = locale.code();
            let confirm_prefix = format!("{base}/sign-up/confirm?locale={code}&token=");
            let sign_in = format!("{base}/sign-in?locale={code}");
            let forgot_password = format!("{base}/forgot-password?locale={code}");
            let links = SignUpLinks {
                confirm_prefix: &confirm_prefix,
                sign_in: &sign_in,
                forgot_password: &forgot_password,
            };
            sign_up::start(deps, &form.email, code, &client, &links)
        })
        .await?;
    let sp = session::pending_sp(&state, &req, locale).await?;
    match outcome {
        StartOutcome::Sent => render::mail_sent(&state, locale, "signup.sent", sp.as_deref()),
        StartOutcome::InvalidEmail => {
            email_page(&state, &req, locale, Some("signup.invalid_email"), 400).await
        }
        StartOutcome::RateLimited => Err(WebError::RateLimited { locale }),
    }
}

/// A link that is expired, used or was never issued: say so and offer a new one.
fn dead_link(locale: Locale, prefix: &str, again: &str) -> Result<HttpResponse, WebError> {
    let url = format!("{again}?locale={}", locale.code());
    render::message(locale, prefix, None, Some((&url, "link.new")), 410)
}

/// The page for a step after the password when the sign-up is gone (or never started).
fn no_sign_up(locale: Locale) -> Result<HttpResponse, WebError> {
    dead_link(locale, "signup.expired", "/sign-up")
}

/// The emailed link: the password form, if the link is still good. Looking uses nothing up.
pub async fn confirm_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, WebError> {
    let token = q.token.clone();
    let live = state
        .run(locale, move |deps| {
            sign_up::confirmation_is_live(deps, &token)
        })
        .await?;
    if !live {
        return dead_link(locale, "signup.link_dead", "/sign-up");
    }
    password_page(&state, &req, locale, &q.token, None, 200).await
}

async fn password_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    token: &str,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let sp = session::pending_sp(state, req, locale).await?;
    let page = NewPasswordPage {
        title_key: "signup.password_title",
        sp: sp.as_deref(),
        action: "/sign-up/confirm",
        token,
    };
    page.render(state, req, locale, error, status)
}

pub async fn confirm_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<HttpResponse, WebError> {
    let token = form.token.clone();
    let step = state
        .run(locale, move |deps| {
            sign_up::choose_password(
                deps,
                &form.token,
                &form.password,
                &form.password_confirmation,
            )
        })
        .await?;
    match step {
        PasswordStep::Continue { sign_up_token } => {
            let lifetime = crate::accounts::tokens::TokenPurpose::SignUp.lifetime();
            let cookie = cookies::build(&state, cookies::SIGN_UP, sign_up_token, lifetime);
            let location = format!("/sign-up/second-factor?locale={}", locale.code());
            with_cookies(render::redirect(&location), [cookie])
        }
        PasswordStep::Refused(problem) => {
            let error = Some(problem.message_key());
            password_page(&state, &req, locale, &token, error, 400).await
        }
        PasswordStep::LinkDead => dead_link(locale, "signup.link_dead", "/sign-up"),
    }
}

pub async fn second_factor_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
) -> Result<HttpResponse, WebError> {
    totp_page(&state, &req, locale, None, 200).await
}

async fn totp_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let Some(token) = sign_up_token(req) else {
        return no_sign_up(locale);
    };
    let label = state.config.organization.display_name.clone();
    let enrollment = state
        .run(locale, move |deps| {
            sign_up::totp_enrollment(deps, &token, &label)
        })
        .await?;
    let Some(enrollment) = enrollment else {
        return no_sign_up(locale);
    };
    let sp = session::pending_sp(state, req, locale).await?;
    let (csrf, cookie) = session::anonymous_csrf(state, req)?;
    let mut context = page_context(locale, "totp_setup.title", sp.as_deref());
    context.insert("csrf", &csrf);
    context.insert("action", "/sign-up/totp");
    context.insert("secret", &group(&enrollment.secret_base32));
    context.insert("qr_svg", &qr_svg(&enrollment.provisioning_uri)?);
    if state.relying_party.is_available() {
        let key_url = format!("/sign-up/security-key?locale={}", locale.code());
        context.insert("key_url", &key_url);
    }
    if let Some(key) = error {
        context.insert("error", locale.t(key));
    }
    render::page(
        "totp_setup.html",
        &context,
        cookie.into_iter().collect(),
        status,
    )
}

pub async fn totp_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<HttpResponse, WebError> {
    let Some(token) = sign_up_token(&req) else {
        return no_sign_up(locale);
    };
    let old = session::token_hash_of(&req);
    let outcome = state
        .run(locale, move |deps| {
            sign_up::finish_with_totp(deps, &token, &form.code, old.as_ref())
        })
        .await?;
    let gone = cookies::removal(&state, cookies::SIGN_UP);
    match outcome {
        FinishOutcome::Created {
            backup_codes,
            session: token,
        } => {
            let set = vec![session::cookie(&state, token), gone];
            created_page(&state, &req, locale, &backup_codes, set).await
        }
        FinishOutcome::WrongCode => totp_page(&state, &req, locale, Some("mfa.failed"), 400).await,
        FinishOutcome::AlreadyExists => already_exists(locale, gone),
        FinishOutcome::Expired => with_cookies(no_sign_up(locale)?, [gone]),
    }
}

/// The end of a sign-up: the backup codes, shown once (never cached), with the session
/// cookie that signs the browser in and a link on to the SP's flow or home.
async fn created_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    backup_codes: &[String],
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, WebError> {
    let sp = session::pending_sp(state, req, locale).await?;
    let mut context = page_context(locale, "backup_codes.title", sp.as_deref());
    context.insert("codes", backup_codes);
    context.insert("next", &session::onward(req, locale));
    let mut response = render::page("backup_codes.html", &context, Vec::new(), 200)?;
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        "no-store"
            .parse()
            .map_err(|_| WebError::Internal("header".into()))?,
    );
    with_cookies(response, cookies)
}

fn already_exists(locale: Locale, gone: Cookie<'static>) -> Result<HttpResponse, WebError> {
    let link = format!("/sign-in?locale={}", locale.code());
    let page = render::message(
        locale,
        "signup.exists",
        None,
        Some((&link, "signin.title")),
        409,
    )?;
    with_cookies(page, [gone])
}

/// `GET /sign-up/security-key`: name a key and register it (the page's script runs the
/// WebAuthn ceremony), instead of an authenticator app.
pub async fn key_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
) -> Result<HttpResponse, WebError> {
    key_page(&state, &req, locale, None, 200).await
}

async fn key_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let Some(token) = sign_up_token(req) else {
        return no_sign_up(locale);
    };
    let live = state
        .run(locale, move |deps| {
            sign_up::awaits_second_factor(deps, &token)
        })
        .await?;
    if !live {
        return no_sign_up(locale);
    }
    let sp = session::pending_sp(state, req, locale).await?;
    let mut context = page_context(locale, "signup_key.title", sp.as_deref());
    context.insert("available", &state.relying_party.is_available());
    session::anonymous_form(
        state,
        req,
        locale,
        "sign_up_security_key.html",
        context,
        error,
        status,
    )
}

/// `POST /sign-up/security-key/options`: the options for `navigator.credentials.create`
/// and the ceremony token, as JSON.
pub async fn key_options(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    _: CsrfForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let Some(token) = sign_up_token(&req) else {
        return no_sign_up(locale);
    };
    let begun = state
        .run(locale, move |deps| {
            sign_up::begin_key_registration(deps, &token)
        })
        .await?;
    match begun {
        Some(Begun::Ceremony(ceremony)) => render::ceremony_json(&ceremony),
        Some(Begun::RateLimited) => Err(WebError::RateLimited { locale }),
        Some(Begun::NoKeys | Begun::Unavailable) => Err(WebError::NotFound),
        None => no_sign_up(locale),
    }
}

/// `POST /sign-up/security-key`: the authenticator's answer and the key's name; on success
/// the account exists and the backup codes follow, as after an authenticator app.
pub async fn key_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    CsrfForm(form): CsrfForm<KeyRegistrationForm>,
) -> Result<HttpResponse, WebError> {
    let Some(token) = sign_up_token(&req) else {
        return no_sign_up(locale);
    };
    let old = session::token_hash_of(&req);
    let outcome = state
        .run(locale, move |deps| {
            let (name, ceremony) = (&form.name, &form.ceremony);
            let old = old.as_ref();
            sign_up::finish_with_security_key(deps, &token, name, ceremony, &form.response, old)
        })
        .await?;
    let gone = cookies::removal(&state, cookies::SIGN_UP);
    match outcome {
        KeyFinish::Created {
            backup_codes,
            session: token,
        } => {
            let set = vec![session::cookie(&state, token), gone];
            created_page(&state, &req, locale, &backup_codes, set).await
        }
        KeyFinish::Refused(why) => {
            let (key, status) = render::key_refusal(why);
            key_page(&state, &req, locale, Some(key), status).await
        }
        KeyFinish::AlreadyExists => already_exists(locale, gone),
        KeyFinish::Expired => with_cookies(no_sign_up(locale)?, [gone]),
    }
}
