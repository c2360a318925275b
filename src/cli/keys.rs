//! `saml-idp keys generate | list`: the yearly signing keys (SPEC 2, 12).
//!
//! `generate` makes next year's key pair ahead of time, so that its metadata can be published
//! to partners months before the year starts, and prints the `[[signing_keys]]` entry to add.
//! `list` shows what each live year signs with and when its certificate expires.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use clap::Subcommand;

use super::startup::live_years;
use super::CliError;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, SigningKeyConfig};
use crate::crypto::cert_status::{colon_fingerprint, CertificateStatus};
use crate::crypto::dev_keys::{self, Validity};
use crate::crypto::Certificate;
use crate::saml::SamlYear;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Write a new RSA-2048 key and self-signed certificate for a year, and print the
    /// `[[signing_keys]]` entry to add to the configuration. Never replaces existing files.
    Generate {
        #[arg(long)]
        year: u16,
        /// Directory for the files (default DATA_DIR/keys).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The certificate's common name (default "saml-idp signing YEAR, HOST").
        #[arg(long, value_name = "NAME")]
        common_name: Option<String>,
    },
    /// Each live year's certificate: subject, SHA-256 fingerprint, expiry, days left.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(config: &Config, command: KeysCommand) -> Result<(), CliError> {
    match command {
        KeysCommand::Generate {
            year,
            out,
            common_name,
        } => generate(config, year, out, common_name),
        KeysCommand::List { json } => list(config, json, SystemClock.now()),
    }
}

fn generate(
    config: &Config,
    year: u16,
    out: Option<PathBuf>,
    common_name: Option<String>,
) -> Result<(), CliError> {
    let this_year = SystemClock.now().year();
    let year = SamlYear::new(year)
        .filter(|y| i32::from(y.value()) >= this_year - 1)
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--year {year} is not a year to make a key for (from {} on)",
                this_year - 1
            ))
        })?;
    let dir = out.unwrap_or_else(|| config.data_dir.join("keys"));
    std::fs::create_dir_all(&dir).map_err(|e| CliError::Write {
        path: dir.clone(),
        detail: e.to_string(),
    })?;
    let dir = std::fs::canonicalize(&dir).map_err(|e| CliError::Write {
        path: dir.clone(),
        detail: e.to_string(),
    })?;
    let key = SigningKeyConfig {
        year,
        certificate: dir.join(format!("saml-idp-{year}.crt")),
        private_key: dir.join(format!("saml-idp-{year}.key")),
        passphrase_env: None,
    };
    for path in [&key.private_key, &key.certificate] {
        if path.exists() {
            return Err(CliError::Usage(format!(
                "{} already exists; keys are never replaced (remove it or give --out)",
                path.display()
            )));
        }
    }
    let host = url::Url::parse(&config.base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "saml-idp".into());
    let common_name = common_name.unwrap_or_else(|| format!("saml-idp signing {year}, {host}"));
    // From 1 January of the year before (the key is made and published ahead of its year)
    // to the end of March after it (a quarter of overlap with the next year's key).
    let validity = Validity {
        not_before: format!("{}0101000000Z", year.value() - 1),
        not_after: format!("{}0331235959Z", year.value() + 1),
    };
    dev_keys::write_pair(&key, &common_name, &validity, true)?;
    let certificate = read_certificate(&key.certificate)?;
    println!(
        "# {year}: SHA-256 fingerprint {}, valid until {}",
        colon_fingerprint(&certificate),
        certificate
            .not_after()
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| "unknown".into())
    );
    println!("[[signing_keys]]");
    println!("year = {year}");
    println!("certificate = {}", toml_path(&key.certificate));
    println!("private_key = {}", toml_path(&key.private_key));
    Ok(())
}

fn list(config: &Config, json: bool, now: DateTime<Utc>) -> Result<(), CliError> {
    let keys: Vec<SigningKeyConfig> = if config.signing_keys.is_empty() {
        live_years(config, &SystemClock)
            .into_iter()
            .map(|year| dev_keys::config_for(&config.data_dir, year))
            .collect()
    } else {
        config.signing_keys.clone()
    };
    let mut statuses = Vec::with_capacity(keys.len());
    for key in &keys {
        let certificate = read_certificate(&key.certificate)?;
        statuses.push(CertificateStatus::of(key.year, &certificate, now));
    }
    if json {
        for (status, key) in statuses.iter().zip(&keys) {
            let mut line = serde_json::json!(status);
            line["certificate"] = key.certificate.display().to_string().into();
            line["state"] = status.state().into();
            println!("{line}");
        }
        return Ok(());
    }
    println!("YEAR  NOT AFTER             DAYS LEFT  STATE          SHA-256 FINGERPRINT  SUBJECT");
    for s in &statuses {
        println!(
            "{:<5} {:<21} {:<10} {:<14} {}  {}",
            s.year,
            s.not_after
                .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                .unwrap_or_else(|| "-".into()),
            s.days_left
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into()),
            s.state(),
            s.sha256_fingerprint,
            s.subject,
        );
    }
    Ok(())
}

fn read_certificate(path: &Path) -> Result<Certificate, CliError> {
    let pem = std::fs::read(path).map_err(|e| CliError::Read {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    Certificate::from_pem(&pem).map_err(|e| CliError::Read {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

/// A path as a TOML string (quoted and escaped).
fn toml_path(path: &Path) -> String {
    toml::Value::String(path.display().to_string()).to_string()
}
