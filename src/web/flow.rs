//! The sign-in flow around the pending request: `/api/saml/complete` decides the next step
//! (`idp::complete`), `/consent` records what the user agreed to share, `/cancel` returns to
//! the SP. Plus the helpers every flow page shares: language, the SP being signed in to,
//! rendering, blocking calls.

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tera::Context;

use super::handoff;
use super::i18n::Locale;
use super::session;
use super::sign_in::LocaleQuery;
use super::sso::PENDING_COOKIE;
use super::{pages, AppState, WebError};
use crate::idp::complete::{next_step, Facts, Step};
use crate::idp::pending::{token_hash, PendingRequest};
use crate::registry::ServiceProvider;

/// Runs blocking store work; store errors mean the database is unavailable.
pub async fn block<T: Send + 'static, E: std::fmt::Display + Send + 'static>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, WebError> {
    web::block(f)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::DatabaseUnavailable(e.to_string()))
}

pub fn locale(req: &HttpRequest, param: Option<&str>) -> Locale {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Locale::negotiate(param, accept)
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// The pending request of this browser and its SP, if both still exist.
pub async fn pending(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<(PendingRequest, std::sync::Arc<ServiceProvider>)>, WebError> {
    let Some(cookie) = req.cookie(PENDING_COOKIE) else {
        return Ok(None);
    };
    let (store, hash, now) = (
        state.pending.clone(),
        token_hash(cookie.value()),
        state.clock.now(),
    );
    let pending = block(move || store.get(&hash, now)).await?;
    Ok(pending.and_then(|p| state.sp_cache.get(&p.issuer).map(|sp| (p, sp))))
}

/// Title, language, and the SP being signed in to with its Cancel link (SPEC 15).
pub async fn page_context(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    title_key: &str,
) -> Result<Context, WebError> {
    let mut context = Context::new();
    context.insert("lang", locale.code());
    context.insert("locale", locale.code());
    context.insert("title", locale.t(title_key));
    context.insert("t", &Translations(locale));
    if let Some((_, sp)) = pending(state, req).await? {
        context.insert("sp_name", &sp.friendly_name);
        context.insert("cancel_url", &format!("/cancel?locale={}", locale.code()));
    }
    Ok(context)
}

/// Lets templates look messages up: `{{ t.get(key="signin.email") }}` is not tera; instead
/// templates receive every flow message under its key with dots replaced by underscores.
pub(super) struct Translations(pub(super) Locale);

impl serde::Serialize for Translations {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let keys = FLOW_KEYS;
        let mut map = s.serialize_map(Some(keys.len()))?;
        for key in keys {
            map.serialize_entry(&key.replace('.', "_"), self.0.t(key))?;
        }
        map.end()
    }
}

const FLOW_KEYS: &[&str] = &[
    "signin.to",
    "signin.email",
    "signin.password",
    "signin.submit",
    "signin.cancel",
    "mfa.intro",
    "mfa.code",
    "mfa.remember",
    "mfa.submit",
    "consent.intro",
    "consent.agree",
    "handoff.body",
    "home.signed_in",
    "home.signed_out",
    "home.sign_out",
];

pub fn render_page(
    template: &str,
    context: &Context,
    cookie: Option<Cookie<'static>>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let html = pages::render(template, context)?;
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    if let Some(c) = cookie {
        response.cookie(c);
    }
    Ok(response.content_type("text/html; charset=utf-8").body(html))
}

/// A page with a title, a paragraph and maybe a link: `{prefix}.title`, `{prefix}.body`.
pub async fn message(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    prefix: &str,
    link: Option<(&str, &str)>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(state, req, locale, &format!("{prefix}.title")).await?;
    context.insert("body", locale.t(&format!("{prefix}.body")));
    if let Some((url, key)) = link {
        context.insert("link_url", url);
        context.insert("link_text", locale.t(key));
    }
    render_page("message.html", &context, None, status)
}

pub async fn complete(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = locale(&req, q.locale.as_deref());
    let Some((pending, sp)) = pending(&state, &req).await? else {
        return message(&state, &req, locale, "signin.none_page", None, 400).await;
    };
    let session = session::current(&state, &req).await?;
    let facts = gather(&state, &req, &pending, session.as_ref()).await?;
    let consented = facts.consented.clone();
    let step = next_step(&Facts {
        pending: &pending,
        sp: &sp,
        password_at: session.as_ref().and_then(|s| s.password_at),
        mfa_at: session.as_ref().and_then(|s| s.mfa_at),
        status: facts.status,
        remembered: facts.remembered,
        user_verified: facts.verified,
        has_phishing_resistant: false,
        consented: consented.as_deref(),
    });
    let code = locale.code();
    match step {
        Step::SignIn => Ok(redirect(&format!("/sign-in?locale={code}"))),
        Step::SecondFactor => Ok(redirect(&format!("/sign-in/mfa?locale={code}"))),
        Step::Consent(_) => Ok(redirect(&format!("/consent?locale={code}"))),
        Step::Suspended => message(&state, &req, locale, "suspended", None, 403).await,
        Step::PhishingResistantRequired => {
            let link = sp.return_to_sp_url.as_deref().map(|u| (u, "signin.cancel"));
            message(&state, &req, locale, "phishing", link, 403).await
        }
        Step::VerifyIdentity => {
            let link = sp
                .failure_to_proof_url
                .as_deref()
                .map(|u| (u, "verify.link"));
            message(&state, &req, locale, "verify", link, 403).await
        }
        Step::NoPassive => {
            handoff::hand_off(&state, &req, locale, &pending, &sp, session, None).await
        }
        Step::HandOff(released) => {
            handoff::hand_off(&state, &req, locale, &pending, &sp, session, Some(released)).await
        }
    }
}

struct Gathered {
    status: Option<crate::accounts::UserStatus>,
    verified: bool,
    remembered: bool,
    consented: Option<Vec<String>>,
}

async fn gather(
    state: &AppState,
    req: &HttpRequest,
    pending: &PendingRequest,
    session: Option<&crate::sessions::SessionRecord>,
) -> Result<Gathered, WebError> {
    let Some(user_id) = session.and_then(|s| s.user_id) else {
        return Ok(Gathered {
            status: None,
            verified: false,
            remembered: false,
            consented: None,
        });
    };
    let (accounts, sessions, identities) = (
        state.accounts.clone(),
        state.sessions.clone(),
        state.identities.clone(),
    );
    let (remember, issuer, now) = (
        session::remembered_hash(req),
        pending.issuer.clone(),
        state.clock.now(),
    );
    block(move || {
        let user = accounts.get(user_id).map_err(|e| e.to_string())?;
        let remembered = match remember {
            Some(hash) => sessions
                .is_remembered(&hash, user_id, now)
                .map_err(|e| e.to_string())?,
            None => false,
        };
        Ok::<_, String>(Gathered {
            status: user.as_ref().map(|u| u.status),
            verified: user.as_ref().is_some_and(|u| u.verified_at.is_some()),
            remembered,
            consented: identities
                .consent(user_id, &issuer)
                .map_err(|e| e.to_string())?,
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
}

pub async fn consent_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = locale(&req, q.locale.as_deref());
    let (Some(session), Some((pending, sp))) = (
        session::current(&state, &req).await?,
        pending(&state, &req).await?,
    ) else {
        return Ok(redirect(&format!("/sign-in?locale={}", locale.code())));
    };
    let user_verified = gather(&state, &req, &pending, Some(&session))
        .await?
        .verified;
    let grant = crate::idp::release::Grant {
        user_verified,
        piv_session: false,
    };
    let attributes: Vec<&str> = crate::idp::release::released(&sp, &pending.authn_context, grant)
        .into_iter()
        .map(|key| locale.t(&format!("attr.{key}")))
        .collect();
    let mut context = page_context(&state, &req, locale, "consent.title").await?;
    context.insert("csrf", &session.csrf_token);
    context.insert("attributes", &attributes);
    render_page("consent.html", &context, None, 200)
}

pub async fn consent_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, WebError> {
    let locale = locale(&req, q.locale.as_deref());
    let session = session::current(&state, &req)
        .await?
        .ok_or(WebError::SessionExpired { locale })?;
    if !session::csrf_ok(&session, &form.csrf) {
        return Err(WebError::Csrf { locale });
    }
    let (Some(user_id), Some((pending, sp))) = (session.user_id, pending(&state, &req).await?)
    else {
        return Err(WebError::SessionExpired { locale });
    };
    let verified = gather(&state, &req, &pending, Some(&session))
        .await?
        .verified;
    let grant = crate::idp::release::Grant {
        user_verified: verified,
        piv_session: false,
    };
    let attributes: Vec<String> = crate::idp::release::released(&sp, &pending.authn_context, grant)
        .into_iter()
        .map(str::to_string)
        .collect();
    let (identities, issuer, now) = (
        state.identities.clone(),
        sp.issuer.clone(),
        state.clock.now(),
    );
    block(move || identities.save_consent(user_id, &issuer, &attributes, now)).await?;
    Ok(redirect(&format!(
        "/api/saml/complete?locale={}",
        locale.code()
    )))
}

/// "Cancel" anywhere: forget the pending request and go back to the SP (SPEC 7).
pub async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let target = pending(&state, &req)
        .await?
        .and_then(|(_, sp)| sp.return_to_sp_url.clone())
        .unwrap_or_else(|| "/".to_string());
    let mut response = redirect(&target);
    response
        .add_removal_cookie(&session::removal(&state, PENDING_COOKIE))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn help_errors(
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let html = super::intake_errors::help_page(locale(&req, q.locale.as_deref()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
