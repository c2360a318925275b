//! `/help/errors`: every error code the SAML endpoints answer with, what it means and how to
//! fix it (SPEC 4).

use actix_web::{web, HttpRequest, HttpResponse};

use super::extract::{self, LocaleQuery};
use super::{intake_errors, WebError};

pub async fn errors(
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let html = intake_errors::help_page(extract::locale(&req, q.locale.as_deref()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}
