//! `GET /api/saml/metadata{YEAR}`: the signed metadata of a live year; any other year, or
//! none (`/api/saml/metadata`), is 404 with the live years' metadata URLs (SPEC 20).

use actix_web::{web, HttpResponse};

use crate::saml::SamlYear;
use crate::web::{AppState, WebError};

pub async fn metadata(
    state: web::Data<AppState>,
    year: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let document = SamlYear::parse(&year)
        .and_then(|y| state.metadata.get(y))
        .ok_or_else(|| not_live(&state))?;
    Ok(HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(document.to_vec()))
}

/// `/api/saml/metadata` without a year: what there is.
pub async fn without_year(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    Err(not_live(&state))
}

fn not_live(state: &AppState) -> WebError {
    let base = state.config.base_url.trim_end_matches('/');
    WebError::MetadataNotFound {
        live: state
            .live_years()
            .into_iter()
            .map(|y| format!("{base}/api/saml/metadata{y}"))
            .collect(),
    }
}
