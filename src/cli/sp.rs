//! `saml-idp sp add | update | list | show | remove | import | import-metadata`.
//! Everything is validated before anything is written; imports are all-or-nothing. Changes
//! go through the console's use cases (`idp::console`) as the operator: the same rules,
//! audit events and notices as the console's and the API's.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;

use super::sp_fields::SpFields;
use super::startup::{account_crypto, open_database};
use super::CliError;
use crate::accounts::sealing::AccountCrypto;
use crate::clock::{Clock, SystemClock};
use crate::config::{toml_error_line, Config, Mode};
use crate::idp::console::{self, Actor, ConsoleError, ConsolePorts};
use crate::ids::RandomIds;
use crate::registry::{
    inline_certificates, public_id, validate, Policy, RecordFile, RegistryError, SpRecord,
    SpRegistry,
};
use crate::saml::sp_metadata::parse_sp_metadata;
use crate::store::{DieselAccountStore, DieselSessionStore, DieselSpRegistry};

const MAX_IMPORT_FILE: u64 = 8 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum SpCommand {
    /// Register a service provider.
    Add {
        #[arg(long)]
        issuer: String,
        #[command(flatten)]
        fields: SpFields,
    },
    /// Change a registered service provider (only the options given).
    Update {
        issuer: String,
        #[command(flatten)]
        fields: SpFields,
    },
    /// List registered service providers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print one service provider (TOML that `sp import` reads back, or JSON).
    Show {
        issuer: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a service provider.
    Remove { issuer: String },
    /// Add or update every [[service_provider]] of a TOML file, all or none.
    Import { file: PathBuf },
    /// Add or update a service provider from its SAML metadata document.
    ImportMetadata {
        file: PathBuf,
        #[command(flatten)]
        fields: SpFields,
    },
}

pub fn run(config: &Config, command: SpCommand) -> Result<(), CliError> {
    let db = open_database(config)?;
    let registry = DieselSpRegistry::new(db.clone(), Arc::new(SystemClock));
    match command {
        SpCommand::List { json } => return list(&registry, json),
        SpCommand::Show { issuer, json } => return show(&registry, &issuer, json),
        _ => {}
    }
    // Changes go through the console's use cases, as the console's and the API's do.
    let console = Console::open(config, db, &registry)?;
    let ports = console.ports();
    match command {
        SpCommand::Add { issuer, fields } => add(&ports, issuer, fields),
        SpCommand::Update { issuer, fields } => update(&ports, &issuer, fields),
        SpCommand::Remove { issuer } => {
            console::remove(&ports, &Actor::Operator, &public_id(&issuer))
                .map_err(|e| refused(&issuer, e))?;
            println!("removed service provider {issuer}");
            Ok(())
        }
        SpCommand::Import { file } => import(&ports, &file),
        SpCommand::ImportMetadata { file, fields } => import_metadata(&ports, &file, fields),
        SpCommand::List { .. } | SpCommand::Show { .. } => Ok(()),
    }
}

/// What the console's use cases need, opened for one command: the audit trail, the
/// accounts (whose agency administrators are told of a change) and the mail queue (the
/// server's workers deliver it).
struct Console<'a> {
    registry: &'a DieselSpRegistry,
    accounts: DieselAccountStore,
    audit: DieselSessionStore,
    crypto: Arc<AccountCrypto>,
    mailer: crate::mail::queue::QueueMailer,
    policy: Policy,
    base_url: String,
}

impl<'a> Console<'a> {
    fn open(
        config: &Config,
        db: crate::store::Database,
        registry: &'a DieselSpRegistry,
    ) -> Result<Self, CliError> {
        let crypto = Arc::new(account_crypto(config)?);
        let transport = Arc::new(crate::mail::Sender::new(
            &config.mailer,
            config.data_dir.join("outbox"),
            &config.mail_from,
            &config.organization.display_name,
        ));
        let (mailer, _worker) = crate::mail::queue::pair(
            Arc::new(crate::store::DieselMailQueue::new(db.clone())),
            crypto.clone(),
            transport,
            Arc::new(SystemClock),
            Arc::new(RandomIds),
            config.mail,
        );
        Ok(Console {
            registry,
            accounts: DieselAccountStore::new(db.clone()),
            audit: DieselSessionStore::new(db),
            crypto,
            mailer,
            policy: Policy {
                production: config.mode == Mode::Production,
            },
            base_url: config.base_url.clone(),
        })
    }

    fn ports(&self) -> ConsolePorts<'_> {
        ConsolePorts {
            registry: self.registry,
            audit: &self.audit,
            accounts: &self.accounts,
            roles: &self.accounts,
            crypto: &self.crypto,
            mailer: &self.mailer,
            policy: self.policy,
            base_url: &self.base_url,
            now: SystemClock.now(),
        }
    }
}

/// A refusal of the use case, for the operator.
fn refused(context: &str, e: ConsoleError) -> CliError {
    match e {
        ConsoleError::Invalid(source) | ConsoleError::Forbidden(source) => CliError::Invalid {
            context: context.to_string(),
            source,
        },
        ConsoleError::NotFound => RegistryError::NotFound(context.to_string()).into(),
        ConsoleError::Stale => CliError::Usage(format!(
            "{context}: changed by someone else meanwhile; run the command again"
        )),
        ConsoleError::NoSuchCertificate | ConsoleError::Storage(_) => {
            CliError::Usage(format!("{context}: {e}"))
        }
    }
}

/// `record` checked on its own, so that an error names its entry in the file.
fn checked(record: &SpRecord, base_dir: &Path, context: &str) -> Result<(), CliError> {
    validate(record, base_dir)
        .map(|_| ())
        .map_err(|source| CliError::Invalid {
            context: context.to_string(),
            source,
        })
}

/// `record` with its certificate files read (relative to `base_dir`).
fn with_inline_certs(
    mut record: SpRecord,
    base_dir: &Path,
    context: &str,
) -> Result<SpRecord, CliError> {
    inline_certificates(&mut record, base_dir).map_err(|source| CliError::Invalid {
        context: context.to_string(),
        source,
    })?;
    Ok(record)
}

fn add(ports: &ConsolePorts<'_>, issuer: String, fields: SpFields) -> Result<(), CliError> {
    let mut record = SpRecord {
        issuer,
        active: true,
        ..SpRecord::default()
    };
    fields.apply(&mut record);
    let context = "invalid service provider";
    // Checked with its certificate paths first, so that an error names the file.
    checked(&record, Path::new("."), context)?;
    let record = with_inline_certs(record, Path::new("."), context)?;
    let sp = console::create(ports, &Actor::Operator, record).map_err(|e| refused(context, e))?;
    println!("added service provider {}", sp.issuer);
    Ok(())
}

fn update(ports: &ConsolePorts<'_>, issuer: &str, fields: SpFields) -> Result<(), CliError> {
    let context = "invalid service provider";
    if let Some(existing) = ports.registry.find(issuer)? {
        let mut record = SpRecord::from(&existing);
        fields.clone().apply(&mut record);
        checked(&record, Path::new("."), context)?;
    }
    let mut given = SpRecord::default();
    fields.clone().apply(&mut given);
    let certs = with_inline_certs(given, Path::new("."), context)?.certs;
    let sp = console::update(
        ports,
        &Actor::Operator,
        &public_id(issuer),
        None,
        |record| {
            fields.apply(record);
            if !certs.is_empty() {
                record.certs = certs;
            }
            Ok(())
        },
    )
    .map_err(|e| match e {
        ConsoleError::NotFound => RegistryError::NotFound(issuer.to_string()).into(),
        other => refused(context, other),
    })?;
    println!("updated service provider {}", sp.issuer);
    Ok(())
}

fn list(registry: &dyn SpRegistry, json: bool) -> Result<(), CliError> {
    let sps = registry.list()?;
    if json {
        let records: Vec<SpRecord> = sps.iter().map(SpRecord::from).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&records).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{:<8} {:>4} {:>5}  {:<40} NAME",
        "ACTIVE", "ACS", "CERTS", "ISSUER"
    );
    for sp in &sps {
        let active = if sp.active { "yes" } else { "no" };
        println!(
            "{active:<8} {:>4} {:>5}  {:<40} {}",
            sp.acs_urls.len(),
            sp.certs.len(),
            sp.issuer,
            sp.friendly_name
        );
    }
    Ok(())
}

fn show(registry: &dyn SpRegistry, issuer: &str, json: bool) -> Result<(), CliError> {
    let sp = registry
        .find(issuer)?
        .ok_or_else(|| RegistryError::NotFound(issuer.to_string()))?;
    let record = SpRecord::from(&sp);
    let text = if json {
        serde_json::to_string_pretty(&record).map_err(|e| CliError::Usage(e.to_string()))?
    } else {
        let file = RecordFile {
            service_provider: vec![record],
        };
        toml::to_string(&file).map_err(|e| CliError::Usage(e.to_string()))?
    };
    println!("{}", text.trim_end());
    Ok(())
}

fn read_limited(path: &Path) -> Result<Vec<u8>, CliError> {
    let read_err = |detail: String| CliError::Read {
        path: path.to_path_buf(),
        detail,
    };
    let meta = std::fs::metadata(path).map_err(|e| read_err(e.to_string()))?;
    if meta.len() > MAX_IMPORT_FILE {
        return Err(read_err(format!("larger than {MAX_IMPORT_FILE} bytes")));
    }
    std::fs::read(path).map_err(|e| read_err(e.to_string()))
}

fn base_dir(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn import(ports: &ConsolePorts<'_>, path: &Path) -> Result<(), CliError> {
    let bad_file = |detail: String| CliError::RecordFile {
        path: path.to_path_buf(),
        detail,
    };
    let text = String::from_utf8(read_limited(path)?).map_err(|_| bad_file("not UTF-8".into()))?;
    let file: RecordFile = toml::from_str(&text).map_err(|e| bad_file(toml_error_line(&e)))?;
    if file.service_provider.is_empty() {
        return Err(bad_file("no [[service_provider]] entries".into()));
    }
    let dir = base_dir(path);
    let mut seen = HashSet::new();
    let mut records = Vec::with_capacity(file.service_provider.len());
    for (i, record) in file.service_provider.into_iter().enumerate() {
        let context = format!(
            "{}: service_provider #{} ({})",
            path.display(),
            i + 1,
            record.issuer
        );
        // Each is checked here first, so that an error names its entry.
        checked(&record, &dir, &context)?;
        if !seen.insert(record.issuer.clone()) {
            return Err(bad_file(format!(
                "issuer {:?} appears more than once",
                record.issuer
            )));
        }
        records.push(with_inline_certs(record, &dir, &context)?);
    }
    let counts = console::import_all(ports, &Actor::Operator, &records)
        .map_err(|e| refused(&path.display().to_string(), e))?;
    println!(
        "imported {} service provider(s): {} added, {} updated",
        records.len(),
        counts.created,
        counts.updated
    );
    Ok(())
}

fn import_metadata(
    ports: &ConsolePorts<'_>,
    path: &Path,
    fields: SpFields,
) -> Result<(), CliError> {
    let metadata =
        parse_sp_metadata(&read_limited(path)?).map_err(|source| CliError::SpMetadata {
            path: path.to_path_buf(),
            source,
        })?;
    let existing = ports.registry.find(&metadata.entity_id)?;
    let mut record = existing
        .as_ref()
        .map(SpRecord::from)
        .unwrap_or_else(|| SpRecord {
            issuer: metadata.entity_id.clone(),
            active: true,
            ..SpRecord::default()
        });
    record.apply_metadata(&metadata);
    fields.apply(&mut record);
    let context = path.display().to_string();
    let record = with_inline_certs(record, &base_dir(path), &context)?;
    let verb = if existing.is_some() {
        "updated"
    } else {
        "added"
    };
    console::import_all(ports, &Actor::Operator, std::slice::from_ref(&record))
        .map_err(|e| refused(&context, e))?;
    println!(
        "{verb} service provider {} from {}",
        record.issuer,
        path.display()
    );
    Ok(())
}
