//! The landing page (signed in or not, with sign-out), sign-out, and static assets.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::extract::{self, LocaleQuery};
use super::render::{self, page_context};
use super::{blocking, cookies, pages, session, AppState, WebError};

pub async fn index(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let session = session::current(&state, &req, locale).await?;
    let mut context = page_context(locale, "home.title", None);
    context.insert("title", "saml-idp");
    context.insert(
        "signed_in",
        &session.as_ref().is_some_and(|s| s.mfa_at.is_some()),
    );
    context.insert("csrf", &session.map(|s| s.csrf_token).unwrap_or_default());
    context.insert("entity_id", &*state.entity_id);
    context.insert(
        "years",
        &state
            .metadata
            .years()
            .map(|y| y.value())
            .collect::<Vec<_>>(),
    );
    render::page("index.html", &context, Vec::new(), 200)
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// Ends this browser's IdP session.
pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, None);
    if let Some(current) = session::current(&state, &req, locale).await? {
        if !session::csrf_ok(&current, &form.csrf) {
            return Err(WebError::Csrf { locale });
        }
        let worker = state.clone();
        blocking::run(locale, move || {
            let hash = crate::idp::token::TokenHash::of_stored(current.token_hash);
            crate::idp::session::end(worker.deps().sessions, &hash)
        })
        .await?;
    }
    let mut response = render::redirect("/");
    response
        .add_removal_cookie(&cookies::removal(&state, cookies::SESSION))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok(response)
}

pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::STYLESHEET)
}

pub async fn auto_submit_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::AUTO_SUBMIT_JS)
}

pub async fn webauthn_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::WEBAUTHN_JS)
}
