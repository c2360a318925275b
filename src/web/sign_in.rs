//! The password step (`/sign-in`) and the second factor (`/sign-in/mfa`: a code, or a
//! security key through `/sign-in/security-key`), SPEC 7 and 18. Handlers extract, call
//! `idp::sign_in` / `idp::security_key` and render; the rules (one lock for every step, rate
//! limits, the same answer for unknown, locked and wrong) live there.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::Deserialize;

use super::extract::{self, has_csrf, ButtonForm, CsrfForm, Lang, SessionForm, SignedIn};
use super::i18n::Locale;
use super::render::{self, page_context};
use super::{cookies, session, AppState, WebError};
use crate::idp::security_key::{self, Begun, KeyAttempt};
use crate::idp::sign_in::{self, CodeAttempt, CodeOutcome, PasswordAttempt, PasswordOutcome};
use crate::idp::token::TokenHash;
use crate::sessions::{SessionRecord, REMEMBER_DAYS};

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

/// `/sign-in`'s query: why the user is asked (e.g. to enter the password again before
/// changing the account). The language is read by [`Lang`].
#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    notice: Option<String>,
}

/// `/sign-in/mfa`'s query: `key=required` when only a security key will do.
#[derive(Debug, Deserialize)]
pub struct MfaQuery {
    key: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    response: String,
}

has_csrf!(PasswordForm, MfaForm, KeyForm);

/// A form of the second-factor page: the password step done, and the session's token.
type StepForm<T> = SessionForm<T, SignedIn>;

/// The password form. Stores nothing: its CSRF token is bound to a cookie.
pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    q: web::Query<SignInQuery>,
) -> Result<HttpResponse, WebError> {
    let sp = session::pending_sp(&state, &req, locale).await?;
    let notice = match q.notice.as_deref() {
        Some("reauthenticate") => Some("signin.reauthenticate"),
        _ => None,
    };
    password_page(&state, &req, locale, sp.as_deref(), notice, None, 200)
}

/// The password page; after a refusal (`error`: the message and the address typed, kept so
/// that only the password is typed again).
fn password_page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    sp: Option<&crate::registry::ServiceProvider>,
    notice: Option<&str>,
    error: Option<(&str, &str)>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, "signin.title", sp);
    if let Some(key) = notice {
        context.insert("notice", locale.t(key));
    }
    if let Some((_, email)) = error {
        context.insert("email", email);
    }
    let error = error.map(|(key, _)| key);
    session::anonymous_form(state, req, locale, "sign_in.html", context, error, status)
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let (remembered, old) = (session::remembered_hash(&req), session::token_hash_of(&req));
    let typed = form.email.clone();
    let result = state
        .run(locale, move |deps| {
            let attempt = PasswordAttempt {
                email: &form.email,
                password: &form.password,
                client: &client,
                remembered: remembered.as_deref(),
                replace: old.as_ref(),
            };
            sign_in::password(deps, &attempt)
        })
        .await?;
    let sp = session::pending_sp(&state, &req, locale).await?;
    match result {
        PasswordOutcome::Accepted { session: token, .. } => {
            let cookie = session::cookie(&state, token);
            let location = match session::pending_hash(&req) {
                Some(_) => session::onward(&req, locale),
                None => format!("/sign-in/mfa?locale={}", locale.code()),
            };
            render::with_cookies(render::redirect(&location), [cookie])
        }
        PasswordOutcome::Suspended => {
            render::message(locale, "suspended", sp.as_deref(), None, 403)
        }
        PasswordOutcome::RateLimited => Err(WebError::RateLimited { locale }),
        _ => password_page(
            &state,
            &req,
            locale,
            sp.as_deref(),
            None,
            Some(("signin.failed", &typed)),
            401,
        ),
    }
}

pub async fn mfa_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    q: web::Query<MfaQuery>,
    SignedIn(session): SignedIn,
) -> Result<HttpResponse, WebError> {
    let key_required = q.key.as_deref() == Some("required");
    mfa_page(&state, &req, locale, &session, key_required, None, 200).await
}

/// The second-factor page: the code form, and a security-key button when the user has a
/// key (only the key when `key_required`).
async fn mfa_page(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    locale: Locale,
    session: &SessionRecord,
    key_required: bool,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let user_id = session.user_id;
    let has_keys = state
        .run(locale, move |deps| match user_id {
            Some(id) => security_key::has_usable_key(deps, id),
            None => Ok(false),
        })
        .await?;
    let sp = session::pending_sp(state, req, locale).await?;
    let only_key = key_required && has_keys;
    let title = if only_key {
        "securitykey.heading"
    } else {
        "mfa.title"
    };
    let mut context = page_context(locale, title, sp.as_deref());
    context.insert("csrf", &session.csrf_token);
    context.insert("hide_code", &only_key);
    if has_keys {
        let code = locale.code();
        context.insert(
            "key_options_url",
            &format!("/sign-in/security-key/options?locale={code}"),
        );
        // A refused key keeps the page as it was (key only, when only a key will do).
        let required = if key_required { "&key=required" } else { "" };
        context.insert(
            "key_action",
            &format!("/sign-in/security-key?locale={code}{required}"),
        );
        for (name, key) in KEY_TEXTS {
            context.insert(*name, locale.t(key));
        }
        if key_required {
            context.insert("key_required", locale.t("securitykey.required"));
        }
    }
    if let Some(key) = error {
        context.insert("error", locale.t(key));
    }
    render::page("mfa.html", &context, Vec::new(), status)
}

/// The security-key texts of the second-factor page: (context name, catalogue key).
pub(crate) const KEY_TEXTS: &[(&str, &str)] = &[
    ("key_heading", "securitykey.heading"),
    ("key_intro", "securitykey.intro"),
    ("key_button", "securitykey.use"),
    ("key_needs_js", "securitykey.needs_js"),
    ("key_failed_js", "securitykey.browser_failed"),
    ("code_heading", "securitykey.code_heading"),
];

/// `POST /sign-in/security-key/options`: the options for `navigator.credentials.get`, and
/// the ceremony token, as JSON.
pub async fn key_options(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    form: StepForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let session = form.session;
    let pending = session::pending_hash(&req);
    let begun = state
        .run(locale, move |deps| {
            security_key::begin_authentication(deps, &session, &client, pending.as_ref())
        })
        .await?;
    match begun {
        Begun::Ceremony(ceremony) => render::ceremony_json(&ceremony),
        Begun::RateLimited => Err(WebError::RateLimited { locale }),
        Begun::NoKeys | Begun::Unavailable => Err(WebError::NotFound),
    }
}

/// `POST /sign-in/security-key`: the authenticator's answer, as a form field.
pub async fn key_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    q: web::Query<MfaQuery>,
    StepForm { form, session, .. }: StepForm<KeyForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let stored = session.clone();
    let outcome = state
        .run(locale, move |deps| {
            let attempt = KeyAttempt {
                session: &stored,
                ceremony_token: &form.ceremony,
                response: &form.response,
                client: &client,
            };
            security_key::finish_authentication(deps, &attempt)
        })
        .await?;
    match outcome {
        CodeOutcome::Wrong => {
            let required = q.key.as_deref() == Some("required");
            let failed = Some("securitykey.failed");
            mfa_page(&state, &req, locale, &session, required, failed, 401).await
        }
        other => second_factor_answer(&state, &req, locale, other, None).await,
    }
}

pub async fn mfa_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    StepForm { form, session, .. }: StepForm<MfaForm>,
) -> Result<HttpResponse, WebError> {
    let client = extract::client_address(&state, &req);
    let remember_token = match form.remember {
        Some(_) => state.ids.secret_token(),
        None => None,
    };
    let remember_hash: Option<String> = remember_token.as_deref().map(|t| TokenHash::of(t).into());
    let stored = session.clone();
    let outcome = state
        .run(locale, move |deps| {
            let attempt = CodeAttempt {
                session: &stored,
                code: &form.code,
                client: &client,
                remember: remember_hash.as_deref(),
            };
            sign_in::second_factor(deps, &attempt)
        })
        .await?;
    match outcome {
        CodeOutcome::Wrong => {
            let failed = Some("mfa.failed");
            mfa_page(&state, &req, locale, &session, false, failed, 401).await
        }
        other => second_factor_answer(&state, &req, locale, other, remember_token).await,
    }
}

/// What the browser gets after a second factor that was not simply wrong.
async fn second_factor_answer(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    locale: Locale,
    outcome: CodeOutcome,
    remember_token: Option<String>,
) -> Result<HttpResponse, WebError> {
    let ended = || cookies::removal(state, cookies::SESSION);
    match outcome {
        CodeOutcome::Accepted { session: token, .. } => {
            let max_age = Duration::days(REMEMBER_DAYS);
            let remember = remember_token
                .map(|token| cookies::build(state, cookies::REMEMBER, token, max_age));
            let rotated = session::cookie(state, token);
            let cookies = std::iter::once(rotated).chain(remember);
            render::with_cookies(render::redirect(&session::onward(req, locale)), cookies)
        }
        CodeOutcome::Locked => {
            let sp = session::pending_sp(state, req, locale).await?;
            let mut context = page_context(locale, "signin.title", sp.as_deref());
            let (csrf, cookie) = session::anonymous_csrf(state, req)?;
            context.insert("csrf", &csrf);
            context.insert("error", locale.t("signin.locked"));
            let cookies: Vec<_> = std::iter::once(ended()).chain(cookie).collect();
            render::page("sign_in.html", &context, cookies, 403)
        }
        CodeOutcome::Wrong | CodeOutcome::SessionEnded => Err(WebError::SessionExpired { locale }),
        CodeOutcome::RateLimited => Err(WebError::RateLimited { locale }),
    }
}
