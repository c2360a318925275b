//! Runs the HTTP server: the registry refresh loop, the periodic purge of expired rows, the
//! mail queue worker, request logging without query strings (they carry SAML messages),
//! graceful shutdown on SIGINT/SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, App, HttpServer};

use super::{configure, default_headers, not_found, AppState};
use crate::clock::Clock;
use crate::idp::sp_cache::{Refresh, SpCache};
use crate::ports::DatabaseHealth;
use crate::sessions::purge::{PurgeCutoffs, Purger};

/// Serves until a shutdown signal arrives.
pub async fn run(state: AppState, listen: &str) -> std::io::Result<()> {
    let interval = Duration::from_secs(state.config.registry_refresh_seconds);
    actix_web::rt::spawn(refresh_loop(state.sp_cache.clone(), interval));
    // 0 = never: the operator runs `saml-idp purge` from cron instead.
    if state.config.purge_interval_seconds > 0 {
        let every = Duration::from_secs(state.config.purge_interval_seconds);
        actix_web::rt::spawn(purge_loop(
            state.stores.purger.clone(),
            state.clock.clone(),
            every,
            state.config.audit_retention_days,
        ));
    }
    actix_web::rt::spawn(checkpoint_loop(state.stores.database.clone()));
    let audit = state.stores.audit_buffer.clone();
    let mail = state.mail_worker.start()?;
    let served = HttpServer::new(move || {
        App::new()
            .wrap(default_headers())
            .configure(configure(state.clone()))
            .default_service(web::to(not_found))
    })
    .shutdown_timeout(10)
    .bind(listen)?
    .run()
    .await;
    // The server has finished its in-flight requests: the worker finishes the message it
    // is sending (the rest stays queued for the next start or another node), then the
    // audit events the requests left are stored.
    mail.stop();
    tracing::info!("mail queue worker stopped");
    match audit.shutdown() {
        Ok(()) => tracing::info!("audit events stored; stopped"),
        Err(e) => tracing::error!(error = %e.0, "audit events could not be stored at exit"),
    }
    served
}

/// Polls the registry revision; a failed poll keeps the last good snapshot and is logged.
async fn refresh_loop(cache: Arc<SpCache>, every: Duration) {
    let mut ticker = actix_web::rt::time::interval(every);
    loop {
        ticker.tick().await;
        let cache = cache.clone();
        match web::block(move || cache.refresh()).await {
            Ok(Ok(Refresh::Reloaded { revision, count })) => {
                tracing::info!(revision, count, "service-provider registry reloaded");
            }
            Ok(Ok(Refresh::Unchanged)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "service-provider registry refresh failed"),
            Err(e) => tracing::warn!(error = %e, "service-provider registry refresh was cancelled"),
        }
    }
}

/// How often SQLite's write-ahead log is copied back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// SQLite's write-ahead log, copied back into the database every `CHECKPOINT_EVERY` on a
/// blocking thread instead of by a request's commit (`store::Database::checkpoint`). Ends
/// at once on a database without such a log (PostgreSQL).
async fn checkpoint_loop(database: Arc<dyn DatabaseHealth>) {
    loop {
        actix_web::rt::time::sleep(CHECKPOINT_EVERY).await;
        let database = database.clone();
        match web::block(move || database.checkpoint()).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return,
            Ok(Err(e)) => tracing::warn!(error = %e, "write-ahead log checkpoint failed"),
            Err(e) => tracing::warn!(error = %e, "write-ahead log checkpoint was cancelled"),
        }
    }
}

/// Deletes expired rows every `every` (SPEC 7), on a blocking thread. Each node runs its
/// own loop: the purge is idempotent, so nodes need not agree on who does it. A failure (the
/// database down) is logged and the next round tries again.
async fn purge_loop(
    purger: Arc<dyn Purger>,
    clock: Arc<dyn Clock>,
    every: Duration,
    audit_retention_days: u32,
) {
    loop {
        // Sleep first, then purge: rounds never overlap, however long one takes.
        actix_web::rt::time::sleep(every).await;
        let purger = purger.clone();
        let now = clock.now();
        let cutoffs = PurgeCutoffs::at(now).with_audit_retention(now, audit_retention_days);
        match web::block(move || purger.purge(&cutoffs)).await {
            Ok(Ok(report)) if report.total() > 0 => {
                tracing::info!(deleted = report.total(), %report, "purged expired rows");
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "purge of expired rows failed"),
            Err(e) => tracing::warn!(error = %e, "purge of expired rows was cancelled"),
        }
    }
}
