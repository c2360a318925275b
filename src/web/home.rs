//! The landing page and its stylesheet.

use actix_web::{web, HttpResponse};
use tera::Context;

use super::{pages, AppState, WebError};

pub async fn index(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let mut context = Context::new();
    context.insert("title", "saml-idp identity provider");
    context.insert("entity_id", &state.config.entity_id());
    context.insert(
        "years",
        &state
            .metadata
            .years()
            .map(|y| y.value())
            .collect::<Vec<_>>(),
    );
    let html = pages::render("index.html", &context)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
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
