//! The SP administrator console (SPEC 19): its JSON API under `/console/api/v1/` (bearer
//! tokens) and the OpenAPI document that describes it. Every handler calls one
//! `idp::console` use case over the ports built here.

pub mod api;
mod bearer;
mod gate;
pub mod new_sp;
pub mod openapi;
pub mod pages;
pub mod reports;

use actix_web::web;
use chrono::{DateTime, Utc};

use crate::idp::api_tokens::TokenPorts;
use crate::idp::console::{ConsoleError, ConsolePorts};
use crate::registry::Policy;
use crate::web::AppState;

impl AppState {
    /// The console's ports, at the current time.
    pub fn console_ports(&self) -> ConsolePorts<'_> {
        ConsolePorts {
            registry: self.sp_cache.registry_ref(),
            audit: self.stores.audit.as_ref(),
            accounts: self.stores.accounts.as_ref(),
            roles: self.stores.roles.as_ref(),
            crypto: &self.account_crypto,
            mailer: self.mailer.as_ref(),
            policy: Policy {
                production: self.config.mode == crate::config::Mode::Production,
            },
            base_url: &self.config.base_url,
            now: self.clock.now(),
        }
    }

    /// The API tokens' ports, at the current time.
    pub fn token_ports(&self) -> TokenPorts<'_> {
        TokenPorts {
            accounts: self.stores.accounts.as_ref(),
            api_tokens: self.stores.api_tokens.as_ref(),
            roles: self.stores.roles.as_ref(),
            crypto: &self.account_crypto,
            audit: self.stores.audit.as_ref(),
            ids: self.ids.as_ref(),
            now: self.clock.now(),
        }
    }
}

/// Runs a console use case on the blocking pool over the state's ports; the value and the
/// time it ran at.
pub async fn run<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&ConsolePorts<'_>) -> Result<T, ConsoleError> + Send + 'static,
) -> Result<(T, DateTime<Utc>), ConsoleError> {
    let state = state.clone();
    web::block(move || {
        let ports = state.console_ports();
        let value = f(&ports)?;
        Ok((value, ports.now))
    })
    .await
    .map_err(|e| ConsoleError::Storage(e.to_string()))?
}

/// After a change: this node's SP cache reloaded now (the others within
/// `registry_refresh_seconds`).
pub async fn reload(state: &web::Data<AppState>) {
    let cache = state.sp_cache.clone();
    match web::block(move || cache.refresh()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the SP cache was not reloaded after a change"),
        Err(e) => tracing::warn!(error = %e, "the SP cache was not reloaded after a change"),
    }
}
