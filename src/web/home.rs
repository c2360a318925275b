//! The landing page (signed in or not, with sign-out), sign-out, and static assets.

use actix_web::{web, HttpRequest, HttpResponse};

use super::extract::{self, BrowserSession, ButtonForm, Lang};
use super::render::{self, page_context};
use super::{cookies, pages, session, AppState, WebError};

pub async fn index(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    BrowserSession(session): BrowserSession,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, "home.title", None);
    context.insert("title", "saml-idp");
    context.insert(
        "signed_in",
        &session.as_ref().is_some_and(|s| s.mfa_at.is_some()),
    );
    context.insert("csrf", &session.map(|s| s.csrf_token).unwrap_or_default());
    context.insert("entity_id", &*state.entity_id);
    context.insert("demo_sp", &state.demo_sp.is_some());
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

/// Ends this browser's IdP session (a session's form: its token is checked when there is
/// one; without a session there is nothing to end).
pub async fn sign_out(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ButtonForm>,
    BrowserSession(current): BrowserSession,
) -> Result<HttpResponse, WebError> {
    // Sign-out takes no `locale` parameter: its refusal speaks the browser's language.
    let locale = extract::locale(&req, None);
    if let Some(current) = current {
        if !session::csrf_ok(&current, &form.csrf) {
            return Err(WebError::Csrf { locale });
        }
        state
            .run(locale, move |deps| {
                let hash = crate::idp::token::TokenHash::of_stored(current.token_hash);
                crate::idp::session::end(deps.sessions, &hash)
            })
            .await?;
    }
    let gone = cookies::removal(&state, cookies::SESSION);
    render::with_cookies(render::redirect("/"), [gone])
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

pub async fn console_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::CONSOLE_JS)
}

pub async fn show_password_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::SHOW_PASSWORD_JS)
}

pub async fn webauthn_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(pages::WEBAUTHN_JS)
}
