//! The console's read-only pages (SPEC 19): an SP's recent refused requests, explained
//! with the `/help/errors` text, and the IdP's metadata for each live year.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::gate::{admit, context, failed, page};
use super::run;
use crate::idp::console::events::refused;
use crate::web::console_view as view;
use crate::web::extract::{FullySignedIn, Lang};
use crate::web::{AppState, WebError};

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    limit: Option<i64>,
}

/// `GET /console/sps/{id}/events`: the SP's recent refused requests, explained.
pub async fn events(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    FullySignedIn(session): FullySignedIn,
    id: web::Path<String>,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, WebError> {
    let actor = match admit(&state, locale, &session).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let (id, limit) = (id.into_inner(), q.limit.unwrap_or(100));
    let ((sp, found), _) = match run(&state, move |p| refused(p, &actor, &id, limit)).await {
        Ok(found) => found,
        Err(e) => return failed(locale, e),
    };
    let rows: Vec<view::EventView> = found.iter().map(|r| view::event(r, locale)).collect();
    let mut context = context(locale, "console.events_title", &session);
    context.insert("sp_name", &sp.friendly_name);
    context.insert("id", &sp.public_id());
    context.insert("events", &rows);
    page("console_events.html", &context, 200)
}

/// `GET /console/metadata`: the IdP's metadata for each live year, and when its certificate
/// ends.
pub async fn idp_metadata(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    FullySignedIn(session): FullySignedIn,
) -> Result<HttpResponse, WebError> {
    if let Err(page) = admit(&state, locale, &session).await? {
        return Ok(page);
    }
    #[derive(serde::Serialize)]
    struct Year {
        year: String,
        url: String,
        not_after: String,
        sha256: String,
    }
    let base = state.config.base_url.trim_end_matches('/');
    let years: Vec<Year> = state
        .live_years()
        .into_iter()
        .filter_map(|year| {
            let key = state.keys.get(year)?;
            let cert = key.certificate();
            Some(Year {
                year: year.to_string(),
                url: format!("{base}/api/saml/metadata{year}"),
                not_after: cert
                    .not_after()
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                sha256: cert.sha256_fingerprint().to_string(),
            })
        })
        .collect();
    let mut context = context(locale, "console.idp_title", &session);
    context.insert("years", &years);
    context.insert("entity_id", &*state.entity_id);
    page("console_metadata.html", &context, 200)
}
