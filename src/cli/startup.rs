//! Start-up shared by the subcommands: logging, the key ring (with development keys when
//! none are configured), the database with its migrations, then `serve`, `migrate` and
//! `metadata`.

use std::io::Write;
use std::sync::Arc;

use chrono::Datelike;

use super::CliError;
use crate::accounts::sealing::AccountCrypto;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, LogFormat, Mode};
use crate::crypto::dev_keys::{self, DevKeyOutcome};
use crate::crypto::KeyRing;
use crate::idp::{MetadataDocuments, SpCache};
use crate::ids::RandomIds;
use crate::mail::MailerSetting;
use crate::registry::SpRegistry;
use crate::saml::SamlYear;
use crate::store::{Database, DieselSpRegistry};
use crate::web::{self, AppState};

/// Logs go to standard error, as text or as one JSON object per line (`log_format`), at the
/// level of `SAML_IDP_LOG` (default `info`).
pub fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAML_IDP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        // Colours only on a terminal: a file or the journal gets plain text.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
}

/// The configured keys, or in development mode keys for the previous and the current
/// calendar year under the data directory (created on first use).
pub fn key_ring(config: &Config, clock: &dyn Clock) -> Result<KeyRing, CliError> {
    if !config.signing_keys.is_empty() {
        return Ok(KeyRing::load(&config.signing_keys)?);
    }
    debug_assert_eq!(
        config.mode,
        Mode::Development,
        "Config::load refuses production without keys"
    );
    let years = live_years(config, clock);
    let mut configs = Vec::with_capacity(years.len());
    for (key_config, outcome) in dev_keys::ensure(&config.data_dir, &years)? {
        match outcome {
            DevKeyOutcome::Created(path) => tracing::warn!(
                year = %key_config.year, certificate = %path.display(),
                "created a development signing key (not for production)"
            ),
            DevKeyOutcome::Reused(path) => tracing::info!(
                year = %key_config.year, certificate = %path.display(),
                "using development signing key"
            ),
        }
        configs.push(key_config);
    }
    Ok(KeyRing::load(&configs)?)
}

/// The live years: those of the configured keys, or in development the previous and the
/// current calendar year (whose keys `key_ring` creates when missing).
pub fn live_years(config: &Config, clock: &dyn Clock) -> Vec<SamlYear> {
    if !config.signing_keys.is_empty() {
        return config.signing_keys.iter().map(|k| k.year).collect();
    }
    let this_year = u16::try_from(clock.now().year()).ok();
    this_year
        .into_iter()
        .flat_map(|y| [y.saturating_sub(1), y])
        .filter_map(SamlYear::new)
        .collect()
}

/// The key that seals PII at rest: `SAML_IDP_DATA_KEY`, else `data_key_file`, else (in
/// development) a key created under the data directory.
pub fn account_crypto(config: &Config) -> Result<AccountCrypto, CliError> {
    let key = match (
        std::env::var("SAML_IDP_DATA_KEY").ok(),
        &config.data_key_file,
    ) {
        (Some(key), _) => key,
        (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| CliError::Read {
            path: path.clone(),
            detail: e.to_string(),
        })?,
        (None, None) if config.mode == Mode::Production => return Err(CliError::Usage(
            "production mode needs a data-encryption key: set SAML_IDP_DATA_KEY or data_key_file"
                .into(),
        )),
        (None, None) => {
            let (key, outcome) = dev_keys::ensure_data_key(&config.data_dir)?;
            if let DevKeyOutcome::Created(path) = outcome {
                tracing::warn!(file = %path.display(), "created a development data-encryption key (not for production)");
            }
            key
        }
    };
    AccountCrypto::new(key.trim()).ok_or_else(|| {
        CliError::Usage("the data-encryption key must be base64 of 32 random bytes".into())
    })
}

/// Connects and applies pending migrations.
pub fn open_database(config: &Config) -> Result<Database, CliError> {
    let db = Database::connect(&config.database_url)?;
    for version in db.migrate()? {
        tracing::info!(%version, "applied migration");
    }
    Ok(db)
}

/// Where the database is, for logs: never a password.
pub fn describe_database(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.scheme().starts_with("postgres") => {
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

pub fn serve(config: Config) -> Result<(), CliError> {
    init_tracing(config.log_format);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keys = key_ring(&config, clock.as_ref())?;
    let db = open_database(&config)?;
    crate::crypto::xmlsec_ffi::init();
    let registry: Arc<dyn SpRegistry> = Arc::new(DieselSpRegistry::new(db.clone(), clock.clone()));
    let sp_cache = Arc::new(SpCache::new(registry));
    sp_cache.refresh()?;
    let metadata = MetadataDocuments::build(&config, &keys, &RandomIds)?;
    let years: Vec<String> = keys.years().map(|y| y.to_string()).collect();
    tracing::info!(
        listen = %config.listen, base_url = %config.base_url, years = %years.join(","),
        database = %describe_database(&config.database_url),
        mailer = %config.mailer.describe(), "saml-idp starting"
    );
    if config.mode == Mode::Production && config.mailer == MailerSetting::Outbox {
        tracing::warn!(
            "production mode with mailer = outbox: emails are only written to {}/outbox",
            config.data_dir.display()
        );
    }
    let listen = config.listen.clone();
    let crypto = account_crypto(&config)?;
    let state = AppState::build(
        Arc::new(config),
        Arc::new(keys),
        Arc::new(metadata),
        sp_cache,
        crate::store::compose(&db, clock.clone()),
        clock,
        Arc::new(RandomIds),
        crypto,
    );
    let state = if state.config.demo_sp {
        state
            .with_demo_sp()
            .map_err(|e| CliError::Usage(format!("demo SP: {e}")))?
    } else {
        state
    };
    actix_web::rt::System::new()
        .block_on(web::server::run(state, &listen))
        .map_err(CliError::Serve)
}

pub fn migrate(config: &Config) -> Result<(), CliError> {
    let db = Database::connect(&config.database_url)?;
    let applied = db.migrate()?;
    println!(
        "{} migration(s) applied to {}",
        applied.len(),
        describe_database(&config.database_url)
    );
    Ok(())
}

pub fn print_metadata(config: &Config, year: u16) -> Result<(), CliError> {
    let keys = key_ring(config, &SystemClock)?;
    let live: Vec<String> = keys.years().map(|y| y.to_string()).collect();
    let not_live = || {
        CliError::Usage(format!(
            "year {year} is not live (live years: {})",
            live.join(", ")
        ))
    };
    let year = SamlYear::new(year).ok_or_else(not_live)?;
    let documents = MetadataDocuments::build(config, &keys, &RandomIds)?;
    let document = documents.get(year).ok_or_else(not_live)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&document)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(|e| CliError::Usage(format!("cannot write to standard output: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_descriptions_hide_passwords() {
        let d =
            super::describe_database("postgres://idp:s3cret@db.internal:5432/idp?sslmode=require");
        assert!(!d.contains("s3cret"), "{d}");
        assert!(d.contains("db.internal"), "{d}");
    }
}
