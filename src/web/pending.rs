//! The pending request of this browser (its cookie names it), read for the flow's pages.

use std::sync::Arc;

use actix_web::HttpRequest;

use super::i18n::Locale;
use super::{blocking, session, AppState, WebError};
use crate::idp::pending::PendingRequest;
use crate::registry::ServiceProvider;

/// The browser's stored request and its SP (as registered now), if both still exist.
pub async fn current(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
) -> Result<Option<(PendingRequest, Arc<ServiceProvider>)>, WebError> {
    let Some(hash) = session::pending_hash(req) else {
        return Ok(None);
    };
    let (store, now) = (state.pending.clone(), state.clock.now());
    let pending = blocking::run(locale, move || Ok(store.get(&hash, now)?)).await?;
    Ok(pending.and_then(|p| state.sp_cache.get(&p.issuer).map(|sp| (p, sp))))
}

/// Just the SP's friendly-name context of the current pending request, for page headers.
pub async fn current_sp(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
) -> Result<Option<Arc<ServiceProvider>>, WebError> {
    Ok(current(state, req, locale).await?.map(|(_, sp)| sp))
}
