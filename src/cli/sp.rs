//! `saml-idp sp add | update | list | show | remove | import | import-metadata`.
//! Everything is validated before anything is written; imports are all-or-nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;

use super::sp_fields::SpFields;
use super::startup::open_database;
use super::CliError;
use crate::clock::SystemClock;
use crate::config::{toml_error_line, Config};
use crate::registry::{validate, RecordFile, RegistryError, ServiceProvider, SpRecord, SpRegistry};
use crate::saml::sp_metadata::parse_sp_metadata;
use crate::store::DieselSpRegistry;

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
    let registry = DieselSpRegistry::new(open_database(config)?, Arc::new(SystemClock));
    match command {
        SpCommand::Add { issuer, fields } => add(&registry, issuer, fields),
        SpCommand::Update { issuer, fields } => update(&registry, &issuer, fields),
        SpCommand::List { json } => list(&registry, json),
        SpCommand::Show { issuer, json } => show(&registry, &issuer, json),
        SpCommand::Remove { issuer } => {
            registry.remove(&issuer)?;
            println!("removed service provider {issuer}");
            Ok(())
        }
        SpCommand::Import { file } => import(&registry, &file),
        SpCommand::ImportMetadata { file, fields } => import_metadata(&registry, &file, fields),
    }
}

fn checked(
    record: &SpRecord,
    base_dir: &Path,
    context: impl Into<String>,
) -> Result<ServiceProvider, CliError> {
    validate(record, base_dir).map_err(|source| CliError::Invalid {
        context: context.into(),
        source,
    })
}

fn add(registry: &dyn SpRegistry, issuer: String, fields: SpFields) -> Result<(), CliError> {
    let mut record = SpRecord {
        issuer,
        active: true,
        ..SpRecord::default()
    };
    fields.apply(&mut record);
    let sp = checked(&record, Path::new("."), "invalid service provider")?;
    registry.add(&sp)?;
    println!("added service provider {}", sp.issuer);
    Ok(())
}

fn update(registry: &dyn SpRegistry, issuer: &str, fields: SpFields) -> Result<(), CliError> {
    let existing = registry
        .find(issuer)?
        .ok_or_else(|| RegistryError::NotFound(issuer.to_string()))?;
    let mut record = SpRecord::from(&existing);
    fields.apply(&mut record);
    let sp = checked(&record, Path::new("."), "invalid service provider")?;
    registry.update(&sp)?;
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

fn import(registry: &dyn SpRegistry, path: &Path) -> Result<(), CliError> {
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
    let mut sps = Vec::with_capacity(file.service_provider.len());
    for (i, record) in file.service_provider.iter().enumerate() {
        let context = format!(
            "{}: service_provider #{} ({})",
            path.display(),
            i + 1,
            record.issuer
        );
        let sp = checked(record, &dir, context)?;
        if !seen.insert(sp.issuer.clone()) {
            return Err(bad_file(format!(
                "issuer {:?} appears more than once",
                sp.issuer
            )));
        }
        sps.push(sp);
    }
    let counts = registry.upsert_all(&sps)?;
    println!(
        "imported {} service provider(s): {} added, {} updated",
        sps.len(),
        counts.created,
        counts.updated
    );
    Ok(())
}

fn import_metadata(
    registry: &dyn SpRegistry,
    path: &Path,
    fields: SpFields,
) -> Result<(), CliError> {
    let metadata =
        parse_sp_metadata(&read_limited(path)?).map_err(|source| CliError::SpMetadata {
            path: path.to_path_buf(),
            source,
        })?;
    let existing = registry.find(&metadata.entity_id)?;
    let mut record = existing
        .as_ref()
        .map(SpRecord::from)
        .unwrap_or_else(|| SpRecord {
            issuer: metadata.entity_id.clone(),
            active: true,
            ..SpRecord::default()
        });
    record.acs_urls = metadata.acs_urls;
    record.certs = metadata.certificates_pem;
    if metadata.logout_url.is_some() {
        record.logout_url = metadata.logout_url;
    }
    if metadata.friendly_name.is_some() {
        record.friendly_name = metadata.friendly_name;
    }
    // An SP that says it signs its requests gets them required; re-importing never relaxes it.
    record.require_signed_requests |= metadata.authn_requests_signed;
    fields.apply(&mut record);
    let sp = checked(&record, &base_dir(path), format!("{}", path.display()))?;
    let verb = if existing.is_some() {
        "updated"
    } else {
        "added"
    };
    registry.upsert_all(std::slice::from_ref(&sp))?;
    println!(
        "{verb} service provider {} from {}",
        sp.issuer,
        path.display()
    );
    Ok(())
}
