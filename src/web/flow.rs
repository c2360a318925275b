//! The sign-in flow around the stored request: `/api/saml/complete` resumes it after each
//! step (`idp::advance`), `/consent` records what the user agreed to share, `/cancel`
//! forgets the request and returns to the SP; plus the error-code help page.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::extract::{self, LocaleQuery};
use super::render::{self, page_context};
use super::{blocking, cookies, intake_errors, outcome, pending, session, AppState, WebError};
use crate::idp::advance::{self, advance, Browser, Outcome};

pub async fn complete(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let Some((stored, hash)) = pending::current(&state, &req, locale)
        .await?
        .zip(session::pending_hash(&req))
    else {
        return render::message(locale, "signin.none_page", None, None, 400);
    };
    let (pending_request, _) = stored;
    let session = session::current(&state, &req, locale).await?;
    let remembered = session::remembered_hash(&req);
    let (worker, for_block) = (state.clone(), pending_request.clone());
    let (sp, result) = blocking::run(locale, move || {
        let browser = Browser {
            session: session.as_ref(),
            remembered: remembered.as_deref(),
        };
        advance(&worker.deps(), &for_block, Some(&hash), browser)
    })
    .await?;
    match result {
        Outcome::Respond(xml) => {
            let gone = vec![cookies::removal(&state, cookies::PENDING)];
            outcome::respond(locale, &sp, &pending_request, &xml, gone)
        }
        Outcome::Ask(step) => outcome::step(locale, &sp, &step),
        Outcome::AlreadyUsed => render::message(locale, "signin.none_page", None, None, 400),
    }
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
    let locale = extract::locale(&req, q.locale.as_deref());
    let (Some(session), Some((pending, sp))) = (
        session::current(&state, &req, locale).await?,
        pending::current(&state, &req, locale).await?,
    ) else {
        return Ok(render::redirect(&format!(
            "/sign-in?locale={}",
            locale.code()
        )));
    };
    let user_id = session.user_id.ok_or(WebError::SessionExpired { locale })?;
    let (worker, p, s) = (state.clone(), pending.clone(), sp.clone());
    let keys = blocking::run(locale, move || {
        advance::consent_attributes(&worker.deps(), &p, &s, user_id)
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

pub async fn consent_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let session = session::current(&state, &req, locale)
        .await?
        .ok_or(WebError::SessionExpired { locale })?;
    if !session::csrf_ok(&session, &form.csrf) {
        return Err(WebError::Csrf { locale });
    }
    let (Some(user_id), Some((pending, sp))) = (
        session.user_id.filter(|_| session.mfa_at.is_some()),
        pending::current(&state, &req, locale).await?,
    ) else {
        return Err(WebError::SessionExpired { locale });
    };
    let worker = state.clone();
    blocking::run(locale, move || {
        advance::give_consent(&worker.deps(), &pending, &sp, user_id)
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
    let target = pending::current_sp(&state, &req, locale)
        .await?
        .and_then(|sp| sp.return_to_sp_url.clone())
        .unwrap_or_else(|| "/".to_string());
    if let Some(hash) = session::pending_hash(&req) {
        let store = state.pending.clone();
        blocking::run(locale, move || Ok(store.take(&hash).map(|_| ())?)).await?;
    }
    let mut response = render::redirect(&target);
    response
        .add_removal_cookie(&cookies::removal(&state, cookies::PENDING))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn help_errors(
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let html = intake_errors::help_page(extract::locale(&req, q.locale.as_deref()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
