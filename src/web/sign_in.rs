//! `/sign-in`: the page a verified request lands on. It shows which service the user is
//! signing in to and offers Cancel (back to the SP's `return_to_sp_url`). Password and
//! second-factor sign-in are the next step of the flow (not in this version).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tera::Context;

use super::i18n::Locale;
use super::sso::PENDING_COOKIE;
use super::{pages, AppState, WebError};
use crate::idp::pending::{token_hash, PendingRequest};

#[derive(Debug, Deserialize)]
pub struct LocaleQuery {
    locale: Option<String>,
}

fn locale(req: &HttpRequest, query: &LocaleQuery) -> Locale {
    let accept = req
        .headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Locale::negotiate(query.locale.as_deref(), accept)
}

async fn pending(state: &AppState, req: &HttpRequest) -> Result<Option<PendingRequest>, WebError> {
    let Some(cookie) = req.cookie(PENDING_COOKIE) else {
        return Ok(None);
    };
    let (store, hash, now) = (
        state.pending.clone(),
        token_hash(cookie.value()),
        state.clock.now(),
    );
    web::block(move || store.get(&hash, now))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::DatabaseUnavailable(e.to_string()))
}

pub async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = locale(&req, &query);
    let mut context = Context::new();
    context.insert("lang", locale.code());
    let sp = pending(&state, &req)
        .await?
        .and_then(|p| state.sp_cache.get(&p.issuer));
    let html = match sp {
        Some(sp) => {
            context.insert("title", locale.t("signin.title"));
            context.insert("signing_in_to", locale.t("signin.to"));
            context.insert("sp_name", &sp.friendly_name);
            context.insert("unavailable", locale.t("signin.unavailable"));
            context.insert("cancel", locale.t("signin.cancel"));
            context.insert("cancel_url", &sp.return_to_sp_url);
            pages::render("sign_in.html", &context)?
        }
        None => {
            context.insert("title", locale.t("signin.title"));
            context.insert("body", locale.t("signin.none"));
            pages::render("message.html", &context)?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

pub async fn help_errors(
    req: HttpRequest,
    query: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let html = super::intake_errors::help_page(locale(&req, &query))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
