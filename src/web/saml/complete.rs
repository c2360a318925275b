//! The sign-in flow around the stored request: `/api/saml/complete` resumes it after each
//! step (`idp::sso::resume`), `/consent` records what the user agreed to share, `/cancel`
//! forgets the request and returns to the SP.

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};

use super::reply::{self, Refusal};
use crate::idp::sso::pending::PendingRequest;
use crate::idp::sso::{self, consent, Browser};
use crate::registry::ServiceProvider;
use crate::web::extract::{self, ButtonForm, Lang, LocaleQuery, SessionForm, SignedIn};
use crate::web::i18n::Locale;
use crate::web::render::{self, page_context};
use crate::web::{blocking, cookies, session, AppState, WebError};

pub async fn complete(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let Some(stored) = session::pending_hash(&req) else {
        return render::message(locale, "signin.none_page", None, None, 400);
    };
    let browser = Browser {
        session: session::token_hash_of(&req),
        remembered: session::remembered_hash(&req),
    };
    let worker = state.clone();
    let reply = blocking::run(locale, move || {
        sso::resume(&worker.deps(), &stored, &browser)
    })
    .await?;
    let refused = Refusal {
        locale,
        json: false,
        help_base: state.config.base_url.clone(),
    };
    let gone = vec![cookies::removal(&state, cookies::PENDING)];
    reply::render(&state, reply, refused, gone)
}

/// The browser's stored request and its SP (as registered now), if both still exist.
async fn pending(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
) -> Result<Option<(PendingRequest, Arc<ServiceProvider>)>, WebError> {
    let Some(stored) = session::pending_hash(req) else {
        return Ok(None);
    };
    state
        .run(locale, move |deps| sso::pending_request(deps, &stored))
        .await
}

/// `GET /consent`: what the SP of the stored request would receive.
pub async fn consent_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    SignedIn(session): SignedIn,
) -> Result<HttpResponse, WebError> {
    let Some((pending, sp)) = pending(&state, &req, locale).await? else {
        return Ok(render::redirect(&format!(
            "/sign-in?locale={}",
            locale.code()
        )));
    };
    let user_id = session.user_id.ok_or(WebError::SessionExpired { locale })?;
    let (p, s) = (pending.clone(), sp.clone());
    let keys = state
        .run(locale, move |deps| {
            consent::attributes(deps, &p, &s, user_id)
        })
        .await?;
    let attributes: Vec<&str> = keys
        .into_iter()
        .map(|key| locale.t(&format!("attr.{key}")))
        .collect();
    let mut context = page_context(locale, "consent.title", Some(&sp));
    context.insert("csrf", &session.csrf_token);
    context.insert("attributes", &attributes);
    render::page("consent.html", &context, Vec::new(), 200)
}

/// `POST /consent`: the user agreed; the stored request resumes.
pub async fn consent_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    form: SessionForm<ButtonForm, SignedIn>,
) -> Result<HttpResponse, WebError> {
    let session = form.session;
    let (Some(user_id), Some((pending, sp))) = (
        session.user_id.filter(|_| session.mfa_at.is_some()),
        pending(&state, &req, locale).await?,
    ) else {
        return Err(WebError::SessionExpired { locale });
    };
    state
        .run(locale, move |deps| {
            consent::give(deps, &pending, &sp, user_id)
        })
        .await?;
    Ok(render::redirect(&format!(
        "/api/saml/complete?locale={}",
        locale.code()
    )))
}

/// "Cancel" anywhere: delete the stored request and go back to the SP (SPEC 7).
pub async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, None);
    let target = pending(&state, &req, locale)
        .await?
        .and_then(|(_, sp)| sp.return_to_sp_url.clone())
        .unwrap_or_else(|| "/".to_string());
    if let Some(stored) = session::pending_hash(&req) {
        let worker = state.clone();
        blocking::run(locale, move || sso::cancel(&worker.deps(), &stored)).await?;
    }
    let mut response = render::redirect(&target);
    response
        .add_removal_cookie(&cookies::removal(&state, cookies::PENDING))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}
