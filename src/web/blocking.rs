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

/// Runs a short use case (parsing, at most a signature or two, a few statements) where it
/// costs least. With the database in this process (SQLite) that is the worker that took the
/// request: the hand-off to the blocking pool and back cost more than the statements, and
/// the pool let every waiting request share the two cores at once, so each took as long as
/// all of them (issue 23: the p99). With a database server (PostgreSQL) a statement is a
/// round trip the worker would sit out, so the blocking pool runs it. A panic is the same
/// 500 either way. Waits for an SQLite lock are short and bounded (`store::sqlite_wait`).
pub async fn quick<T: Send + 'static>(
    state: &AppState,
    locale: Locale,
    f: impl FnOnce() -> Result<T, idp::Error> + Send + 'static,
) -> Result<T, WebError> {
    if !state.database_in_process() {
        return run(locale, f).await;
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .map_err(|_| WebError::Internal("the use case panicked".into()))?
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
