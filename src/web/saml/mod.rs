//! The SAML endpoints (SPEC 1–9): each handler extracts, makes one `idp` call in a blocking
//! task, and renders; `reply` turns single sign-on's answers into pages.

use actix_web::HttpRequest;

use crate::sessions::Binding;

pub mod auth;
pub mod complete;
pub mod logout;
pub mod metadata;
mod reply;

/// The binding a browser's request came by: POST, or Redirect for GET (and HEAD).
fn binding_of(req: &HttpRequest) -> Binding {
    if req.method() == actix_web::http::Method::POST {
        Binding::Post
    } else {
        Binding::Redirect
    }
}
