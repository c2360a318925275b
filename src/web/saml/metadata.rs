//! `GET /api/saml/metadata{YEAR}`: the signed metadata of a live year; anything else 404.

use actix_web::{web, HttpResponse};

use crate::saml::SamlYear;
use crate::web::{AppState, WebError};

pub async fn metadata(
    state: web::Data<AppState>,
    year: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let document = SamlYear::parse(&year)
        .and_then(|y| state.metadata.get(y))
        .ok_or(WebError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(document.to_vec()))
}
