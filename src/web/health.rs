//! Liveness, readiness (the database answers; certificates about to expire are named) and
//! Prometheus metrics.

use actix_web::{web, HttpResponse};

use super::{AppState, WebError};
use crate::crypto::cert_status::CertificateStatus;
use crate::metrics::{Gauges, METRICS};

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body("ok\n")
}

/// 200 `ready` when the database answers, 503 otherwise. Each signing certificate that
/// expires within 30 days (or has expired) adds a line; that alone does not make the node
/// unready, since the year's key still signs and partners still accept it until then.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let db = state.stores.database.clone();
    web::block(move || db.ping())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::DatabaseUnavailable)?;
    let mut body = String::from("ready\n");
    for status in certificates(&state) {
        if status.needs_attention() {
            body.push_str(&format!(
                "warning: the signing certificate of {} {} on {} ({} days); run `saml-idp keys generate --year {}`\n",
                status.year,
                if status.days_left < Some(0) { "expired" } else { "expires" },
                status
                    .not_after
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                status.days_left.unwrap_or_default(),
                status.year + 1,
            ));
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(body))
}

fn certificates(state: &AppState) -> Vec<CertificateStatus> {
    let now = state.clock.now();
    state
        .keys
        .years()
        .filter_map(|year| state.keys.get(year))
        .map(|key| CertificateStatus::of(key.year(), key.certificate(), now))
        .collect()
}

/// Prometheus text exposition (version 0.0.4).
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (active, inactive) = state.sp_cache.counts();
    let revision = state.sp_cache.revision().unwrap_or(-1);
    let (open, idle, max) = state.stores.database.pool_state();
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let gauges = Gauges {
        service_providers_active: count(active),
        service_providers_inactive: count(inactive),
        registry_revision: revision,
        db_pool_open: i64::from(open),
        db_pool_idle: i64::from(idle),
        db_pool_max: i64::from(max),
        audit_events_buffered: count(state.stores.audit_buffer.waiting()),
        certificate_not_after: certificates(&state)
            .into_iter()
            .filter_map(|c| Some((c.year, c.not_after?.timestamp())))
            .collect(),
    };
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(METRICS.render(&gauges))
}
