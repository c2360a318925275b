//! The password step (`/sign-in`) and the second factor (`/sign-in/mfa`), SPEC 7. Handlers
//! extract, call `idp::sign_in` and render; the rules (one lock for every step, rate limits,
//! the same answer for unknown, locked and wrong) live there.

use actix_web::cookie::Cookie;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Deserialize;

use super::extract::{self, LocaleQuery};
use super::i18n::Locale;
use super::render::{self, page_context};
use super::{blocking, cookies, pending, session, AppState, WebError};
use crate::idp::pending::token_hash;
use crate::idp::sign_in::{self, CodeAttempt, CodeOutcome, PasswordAttempt, PasswordOutcome};
use crate::sessions::REMEMBER_DAYS;

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct MfaForm {
    #[serde(default)]
    csrf: String,
    code: String,
    remember: Option<String>,
}

/// Where a browser goes once a step is done: the pending request decides, else home.
fn next(req: &HttpRequest, locale: Locale) -> String {
    match session::pending_hash(req) {
        Some(_) => format!("/api/saml/complete?locale={}", locale.code()),
        None => format!("/?locale={}", locale.code()),
    }
}

/// The password form. Stores nothing: its CSRF token is bound to a cookie.
pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let sp = pending::current_sp(&state, &req, locale).await?;
    password_page(&state, &req, locale, sp.as_deref(), None, 200)
}

fn password_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    sp: Option<&crate::registry::ServiceProvider>,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let (csrf, cookie) = session::anonymous_csrf(state, req)?;
    let mut context = page_context(locale, "signin.title", sp);
    context.insert("csrf", &csrf);
    if let Some(key) = error {
        context.insert("error", locale.t(key));
    }
    render::page(
        "sign_in.html",
        &context,
        cookie.into_iter().collect(),
        status,
    )
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    if !session::anonymous_csrf_ok(&req, &form.csrf) {
        return Err(WebError::Csrf { locale });
    }
    let client = extract::client_address(&state, &req);
    let (remembered, old) = (session::remembered_hash(&req), session::token_hash_of(&req));
    let worker = state.clone();
    let result = blocking::run(locale, move || {
        let attempt = PasswordAttempt {
            email: &form.email,
            password: &form.password,
            client: &client,
            remembered: remembered.as_deref(),
        };
        let outcome = sign_in::password(&worker.deps(), &attempt)?;
        let cookie = match outcome {
            PasswordOutcome::Accepted { user_id } => {
                Some(session::start_signed_in(&worker, user_id, old.as_deref())?)
            }
            _ => None,
        };
        Ok((outcome, cookie))
    })
    .await?;
    let sp = pending::current_sp(&state, &req, locale).await?;
    match result {
        (PasswordOutcome::Accepted { .. }, Some(cookie)) => {
            let location = match session::pending_hash(&req) {
                Some(_) => next(&req, locale),
                None => format!("/sign-in/mfa?locale={}", locale.code()),
            };
            let mut response = render::redirect(&location);
            add(&mut response, cookie)?;
            Ok(response)
        }
        (PasswordOutcome::Suspended, _) => {
            render::message(locale, "suspended", sp.as_deref(), None, 403)
        }
        (PasswordOutcome::RateLimited, _) => Err(WebError::RateLimited { locale }),
        _ => password_page(
            &state,
            &req,
            locale,
            sp.as_deref(),
            Some("signin.failed"),
            401,
        ),
    }
}

fn add(response: &mut HttpResponse, cookie: Cookie<'static>) -> Result<(), WebError> {
    response
        .add_cookie(&cookie)
        .map_err(|e| WebError::Internal(e.to_string()))
}

pub async fn mfa_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let Some(session) = session::current(&state, &req, locale)
        .await?
        .filter(|s| s.password_at.is_some())
    else {
        return Ok(render::redirect(&format!(
            "/sign-in?locale={}",
            locale.code()
        )));
    };
    let sp = pending::current_sp(&state, &req, locale).await?;
    let mut context = page_context(locale, "mfa.title", sp.as_deref());
    context.insert("csrf", &session.csrf_token);
    render::page("mfa.html", &context, Vec::new(), 200)
}

pub async fn mfa_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<MfaForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let session = session::current(&state, &req, locale)
        .await?
        .filter(|s| s.password_at.is_some())
        .ok_or(WebError::SessionExpired { locale })?;
    if !session::csrf_ok(&session, &form.csrf) {
        return Err(WebError::Csrf { locale });
    }
    let client = extract::client_address(&state, &req);
    let remember_token = match form.remember {
        Some(_) => state.ids.secret_token(),
        None => None,
    };
    let remember_hash = remember_token.as_deref().map(token_hash);
    let (worker, stored) = (state.clone(), session.clone());
    let outcome = blocking::run(locale, move || {
        let attempt = CodeAttempt {
            session: &stored,
            code: &form.code,
            client: &client,
            remember: remember_hash.as_deref(),
        };
        sign_in::second_factor(&worker.deps(), &attempt)
    })
    .await?;
    let sp = pending::current_sp(&state, &req, locale).await?;
    let ended = || cookies::removal(&state, cookies::SESSION);
    match outcome {
        CodeOutcome::Accepted(_) => {
            let mut response = render::redirect(&next(&req, locale));
            if let Some(token) = remember_token {
                let max_age = Duration::days(REMEMBER_DAYS);
                add(
                    &mut response,
                    cookies::build(&state, cookies::REMEMBER, token, max_age),
                )?;
            }
            Ok(response)
        }
        CodeOutcome::Wrong => {
            let mut context = page_context(locale, "mfa.title", sp.as_deref());
            context.insert("csrf", &session.csrf_token);
            context.insert("error", locale.t("mfa.failed"));
            render::page("mfa.html", &context, Vec::new(), 401)
        }
        CodeOutcome::Locked => {
            let mut context = page_context(locale, "signin.title", sp.as_deref());
            let (csrf, cookie) = session::anonymous_csrf(&state, &req)?;
            context.insert("csrf", &csrf);
            context.insert("error", locale.t("signin.locked"));
            let cookies: Vec<_> = std::iter::once(ended()).chain(cookie).collect();
            render::page("sign_in.html", &context, cookies, 403)
        }
        CodeOutcome::SessionEnded => Err(WebError::SessionExpired { locale }),
        CodeOutcome::RateLimited => Err(WebError::RateLimited { locale }),
    }
}
