//! Liveness, readiness (the database answers) and Prometheus metrics.

use actix_web::{web, HttpResponse};

use super::{AppState, WebError};

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.db.clone();
    web::block(move || db.ping())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::DatabaseUnavailable(e.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ready\n"))
}

/// Prometheus text exposition (version 0.0.4).
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (active, inactive) = state.sp_cache.counts();
    let revision = state.sp_cache.revision().unwrap_or(-1);
    let body = format!(
        "# HELP saml_idp_service_providers Registered service providers in this node's cache.\n\
         # TYPE saml_idp_service_providers gauge\n\
         saml_idp_service_providers{{state=\"active\"}} {active}\n\
         saml_idp_service_providers{{state=\"inactive\"}} {inactive}\n\
         # HELP saml_idp_registry_revision Registry revision this node's cache holds.\n\
         # TYPE saml_idp_registry_revision gauge\n\
         saml_idp_registry_revision {revision}\n"
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}
