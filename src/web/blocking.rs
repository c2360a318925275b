//! Runs use cases (blocking: Diesel, libxml2, Argon2) off the async runtime and turns
//! their typed errors into `WebError`s with the page's language.

use actix_web::web;

use super::i18n::Locale;
use super::{AppState, WebError};
use crate::idp::{self, Deps};

/// Runs `f` on the blocking pool.
pub async fn run<T: Send + 'static>(
    locale: Locale,
    f: impl FnOnce() -> Result<T, idp::Error> + Send + 'static,
) -> Result<T, WebError> {
    web::block(f)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(|e| WebError::from_idp(e, locale))
}

impl AppState {
    /// Runs a use case on the blocking pool over this state's ports, at the current time:
    /// `state.run(locale, move |deps| idp::…(deps, …))`.
    pub async fn run<T: Send + 'static>(
        &self,
        locale: Locale,
        f: impl FnOnce(&Deps<'_>) -> Result<T, idp::Error> + Send + 'static,
    ) -> Result<T, WebError> {
        let worker = self.clone();
        run(locale, move || f(&worker.deps())).await
    }
}
