//! The outermost layer of every route: one log line per request and the HTTP metrics.
//!
//! The line carries the method, the route pattern (`/api/saml/auth{year}`, never the path's
//! values), the year, the status, the latency and the error code; never the query string
//! (which holds SAML messages and RelayState), cookies, bodies or the client's address.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use super::error::ErrorCode;
use super::AppState;
use crate::metrics::METRICS;

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let response = next.call(req).await?;
    let elapsed = started.elapsed();
    let request = response.request();
    let endpoint = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_string());
    let year = match request.match_info().get("year") {
        None => "",
        Some(suffix) => match request.app_data::<web::Data<AppState>>() {
            Some(state) if state.live_year(suffix).is_some() => suffix,
            _ => "other",
        },
    };
    let status = response.status().as_u16();
    let error = response
        .response()
        .extensions()
        .get::<ErrorCode>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    // The label takes the first code only: a refused SAML request may carry several, and
    // their combinations would make an unbounded number of series (each code is counted on
    // its own in `saml_idp_saml_errors_total`). The log line keeps them all.
    let first_code = error.split(',').next().unwrap_or_default();
    METRICS.http_request(&endpoint, year, status, first_code, elapsed);
    // Whole microseconds: 16.281, not 16.281523999999997.
    let latency_ms = elapsed.as_micros() as f64 / 1000.0;
    if status >= 500 {
        tracing::warn!(
            target: "saml_idp::request", method = %method, route = %endpoint, year,
            status, latency_ms, error = %error, "request"
        );
    } else {
        tracing::info!(
            target: "saml_idp::request", method = %method, route = %endpoint, year,
            status, latency_ms, error = %error, "request"
        );
    }
    Ok(response)
}
