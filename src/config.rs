//! Configuration: built-in defaults, then a TOML file, then environment variables and flags
//! (`SAML_IDP_<NAME>` / `--<name>`). Holds paths and names only; key material is loaded by
//! `crypto::keyring`, and nothing here is ever logged whole (a passphrase is read from the
//! environment variable the file names, at the moment the key is loaded).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::mail::queue::QueueSettings;
use crate::mail::MailerSetting;
use crate::saml::codec::Limits;
use crate::saml::SamlYear;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./data";
pub const DEFAULT_REGISTRY_REFRESH_SECONDS: u64 = 2;
pub const SQLITE_FILE_NAME: &str = "saml-idp.sqlite3";
pub const DEFAULT_PURGE_INTERVAL_SECONDS: u64 = 300;
/// Audit events older than this are purged (0 keeps them for ever).
pub const DEFAULT_AUDIT_RETENTION_DAYS: u32 = 365;
/// How long the n-th successive lock of an account lasts (SPEC 7): the last repeats.
pub const DEFAULT_LOCK_SECONDS: [u64; 3] = [600, 3600, 86_400];

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path} is invalid: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error("configuration value `{field}` is invalid: {detail}")]
    Invalid { field: &'static str, detail: String },
    #[error("signing key year {0} is listed more than once")]
    DuplicateYear(u16),
    #[error("production mode needs explicitly configured signing keys ([[signing_keys]] in the configuration file)")]
    ProductionWithoutKeys,
}

/// `development` creates keys on first start; `production` refuses to start without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Development,
    Production,
}

/// How log lines are written: human-readable text, or one JSON object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!(
                "unknown log format {other:?} (expected text or json)"
            )),
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "development" => Ok(Mode::Development),
            "production" => Ok(Mode::Production),
            other => Err(format!(
                "unknown mode {other:?} (expected development or production)"
            )),
        }
    }
}

/// Where one live year's certificate and private key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyConfig {
    pub year: SamlYear,
    pub certificate: PathBuf,
    pub private_key: PathBuf,
    /// Name of the environment variable holding the passphrase of an encrypted PEM key.
    pub passphrase_env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    pub name: String,
    pub display_name: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub company: Option<String>,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub email: String,
}

/// The resolved configuration every subcommand works from.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub base_url: String,
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub signing_keys: Vec<SigningKeyConfig>,
    pub organization: Organization,
    pub technical_contact: Contact,
    pub registry_refresh_seconds: u64,
    /// Server-wide switch for the facial-match service levels (SPEC 6).
    pub facial_match_enabled: bool,
    /// File holding the base64 AES-256 key that seals PII at rest; `SAML_IDP_DATA_KEY`
    /// (the key itself) wins. Development mode creates one in the data directory.
    pub data_key_file: Option<PathBuf>,
    pub limits: Limits,
    /// `[limits] saml_per_minute` / `posts_per_minute`: the in-process per-client limiter.
    pub client_limits: ClientLimits,
    /// Reverse proxies whose `X-Forwarded-For` is believed (SPEC 7, 13): addresses or
    /// CIDR networks. Empty: the TCP peer is the client.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How often `serve` deletes expired rows (pending requests, sessions, ...); 0 = never
    /// (then run `saml-idp purge` from cron).
    pub purge_interval_seconds: u64,
    /// Where email goes (SPEC 17): `outbox` (files under `{data_dir}/outbox/`) or an SMTP
    /// server. `Debug` hides its credentials.
    pub mailer: MailerSetting,
    /// The From address of every email; default `no-reply@{host of base_url}`.
    pub mail_from: String,
    /// `[mail]`: per-address caps and the queue worker's timing (SPEC 17).
    pub mail: QueueSettings,
    /// Days audit events are kept before the purge deletes them; 0 = for ever.
    pub audit_retention_days: u32,
    /// `[sign_in] lock_seconds`: the n-th successive lock of an account lasts the n-th
    /// entry, the last one repeating (SPEC 7).
    pub lock_seconds: Vec<u64>,
    pub log_format: LogFormat,
    /// `[webauthn] aal3_attestation_roots`: PEM certificates of the authenticator vendors
    /// whose attested, non-synced keys may sign in at AAL3 (SPEC 18); empty = no AAL3.
    pub aal3_attestation_roots: Vec<PathBuf>,
    /// `[console] require_phishing_resistant`: the SP console only for sessions whose second
    /// factor was a security key (SPEC 19); default false (any second factor).
    pub console_requires_security_key: bool,
    /// `demo_sp`: serve the demo SP under `/demo-sp/` (SPEC 20). Development mode only;
    /// default true there.
    pub demo_sp: bool,
}

impl Config {
    /// The entity ID and `Issuer` of everything the IdP emits (SPEC 1): no year.
    pub fn entity_id(&self) -> String {
        format!("{}/api/saml", self.base_url)
    }
}

/// Values given on the command line or in `SAML_IDP_*` variables; they win over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub mode: Option<Mode>,
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub base_url: Option<String>,
    pub database_url: Option<String>,
    pub mailer: Option<String>,
    pub mail_from: Option<String>,
    pub log_format: Option<LogFormat>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    mode: Option<Mode>,
    base_url: Option<String>,
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    registry_refresh_seconds: Option<u64>,
    #[serde(default)]
    facial_match_enabled: bool,
    data_key_file: Option<PathBuf>,
    #[serde(default)]
    limits: FileLimits,
    #[serde(default)]
    trusted_proxies: Vec<String>,
    purge_interval_seconds: Option<u64>,
    mailer: Option<String>,
    mail_from: Option<String>,
    #[serde(default)]
    mail: FileMail,
    audit_retention_days: Option<u32>,
    log_format: Option<LogFormat>,
    #[serde(default)]
    sign_in: FileSignIn,
    #[serde(default)]
    signing_keys: Vec<FileSigningKey>,
    organization: Option<Organization>,
    technical_contact: Option<Contact>,
    #[serde(default)]
    webauthn: FileWebauthn,
    #[serde(default)]
    console: FileConsole,
    demo_sp: Option<bool>,
}

/// `[console]` (SPEC 19).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConsole {
    #[serde(default)]
    require_phishing_resistant: bool,
}

/// `[webauthn]` (SPEC 18).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileWebauthn {
    /// Relative paths are read from the configuration file's directory.
    #[serde(default)]
    aal3_attestation_roots: Vec<PathBuf>,
}

/// `[sign_in]` (SPEC 7).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSignIn {
    lock_seconds: Option<Vec<u64>>,
}

impl FileSignIn {
    /// One to ten lock lengths, each from one second to a year.
    fn lock_seconds(&self) -> Result<Vec<u64>, ConfigError> {
        let Some(given) = &self.lock_seconds else {
            return Ok(DEFAULT_LOCK_SECONDS.to_vec());
        };
        if given.is_empty() || given.len() > 10 {
            return Err(invalid("sign_in.lock_seconds", "give 1 to 10 lengths"));
        }
        match given.iter().find(|s| !(1..=31_536_000).contains(*s)) {
            Some(s) => Err(invalid(
                "sign_in.lock_seconds",
                format!("{s} is outside 1..=31536000 (a year)"),
            )),
            None => Ok(given.clone()),
        }
    }
}

/// `[limits]`: each optional, in bytes (SPEC 3).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    body: Option<usize>,
    saml_request: Option<usize>,
    inflated: Option<usize>,
    depth: Option<usize>,
    attributes: Option<usize>,
    relay_state: Option<usize>,
    saml_per_minute: Option<u32>,
    posts_per_minute: Option<u32>,
}

/// Requests one client (an address, an IPv6 /64) may send per minute before the in-process
/// limiter answers 429 with nothing written (SPEC 7): to the SAML endpoints and
/// `/tools/saml-request`, and as form POSTs. The whole allowance may come at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    pub saml_per_minute: u32,
    pub posts_per_minute: u32,
}

impl Default for ClientLimits {
    fn default() -> Self {
        ClientLimits {
            saml_per_minute: 600,
            posts_per_minute: 120,
        }
    }
}

impl FileLimits {
    fn client_limits(&self) -> Result<ClientLimits, ConfigError> {
        let d = ClientLimits::default();
        let pick = |field: &'static str, v: Option<u32>, default: u32| match v {
            None => Ok(default),
            Some(n) if (1..=1_000_000).contains(&n) => Ok(n),
            Some(n) => Err(invalid(field, format!("{n} is outside 1..=1000000"))),
        };
        Ok(ClientLimits {
            saml_per_minute: pick(
                "limits.saml_per_minute",
                self.saml_per_minute,
                d.saml_per_minute,
            )?,
            posts_per_minute: pick(
                "limits.posts_per_minute",
                self.posts_per_minute,
                d.posts_per_minute,
            )?,
        })
    }

    fn resolve(&self) -> Result<Limits, ConfigError> {
        let d = Limits::default();
        let pick = |field: &'static str, v: Option<usize>, default: usize, max: usize| match v {
            None => Ok(default),
            Some(n) if (1..=max).contains(&n) => Ok(n),
            Some(n) => Err(invalid(field, format!("{n} is outside 1..={max}"))),
        };
        const MIB: usize = 1024 * 1024;
        Ok(Limits {
            body: pick("limits.body", self.body, d.body, 16 * MIB)?,
            saml_param: pick(
                "limits.saml_request",
                self.saml_request,
                d.saml_param,
                16 * MIB,
            )?,
            inflated: pick("limits.inflated", self.inflated, d.inflated, 16 * MIB)?,
            depth: pick("limits.depth", self.depth, d.depth, 256)?,
            attributes: pick("limits.attributes", self.attributes, d.attributes, 256)?,
            relay_state: pick(
                "limits.relay_state",
                self.relay_state,
                d.relay_state,
                64 * 1024,
            )?,
        })
    }
}

/// `[mail]`: each optional (SPEC 17; defaults in `mail::queue::QueueSettings`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMail {
    max_per_address_per_hour: Option<u32>,
    max_per_address_per_day: Option<u32>,
    poll_interval_seconds: Option<u64>,
    retry_seconds: Option<u64>,
    max_retry_seconds: Option<u64>,
    batch_size: Option<usize>,
    lease_seconds: Option<u64>,
}

impl FileMail {
    fn resolve(&self) -> Result<QueueSettings, ConfigError> {
        let d = QueueSettings::default();
        fn pick<T: Copy + PartialOrd + std::fmt::Display>(
            field: &'static str,
            v: Option<T>,
            default: T,
            (min, max): (T, T),
        ) -> Result<T, ConfigError> {
            match v {
                None => Ok(default),
                Some(n) if min <= n && n <= max => Ok(n),
                Some(n) => Err(invalid(field, format!("{n} is outside {min}..={max}"))),
            }
        }
        let seconds = |field, v, default: std::time::Duration, range| {
            pick(field, v, default.as_secs(), range).map(std::time::Duration::from_secs)
        };
        let per_hour = pick(
            "mail.max_per_address_per_hour",
            self.max_per_address_per_hour,
            d.max_per_address_per_hour,
            (1, 1000),
        )?;
        let per_day = pick(
            "mail.max_per_address_per_day",
            self.max_per_address_per_day,
            d.max_per_address_per_day.max(per_hour),
            (per_hour, 10_000),
        )?;
        let retry_after = seconds(
            "mail.retry_seconds",
            self.retry_seconds,
            d.retry_after,
            (1, 86_400),
        )?;
        Ok(QueueSettings {
            max_per_address_per_hour: per_hour,
            max_per_address_per_day: per_day,
            poll_interval: seconds(
                "mail.poll_interval_seconds",
                self.poll_interval_seconds,
                d.poll_interval,
                (1, 3600),
            )?,
            retry_after,
            max_retry_after: seconds(
                "mail.max_retry_seconds",
                self.max_retry_seconds,
                d.max_retry_after.max(retry_after),
                (retry_after.as_secs(), 7 * 86_400),
            )?,
            batch_size: pick("mail.batch_size", self.batch_size, d.batch_size, (1, 1000))?,
            lease: seconds(
                "mail.lease_seconds",
                self.lease_seconds,
                d.lease,
                (60, 86_400),
            )?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSigningKey {
    year: u16,
    /// Defaults to `certs/saml{YEAR}.crt` next to the configuration file.
    certificate: Option<PathBuf>,
    private_key: PathBuf,
    passphrase_env: Option<String>,
}

impl Config {
    /// Resolves defaults ← file ← overrides and checks every value.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let (file, base_dir) = match &overrides.config_file {
            Some(path) => (read_file(path)?, parent_dir(path)),
            None => (FileConfig::default(), PathBuf::from(".")),
        };
        let mode = overrides.mode.or(file.mode).unwrap_or_default();
        let listen = pick(&overrides.listen, &file.listen, DEFAULT_LISTEN);
        let data_dir = match (&overrides.data_dir, &file.data_dir) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => base_dir.join(dir),
            (None, None) => PathBuf::from(DEFAULT_DATA_DIR),
        };
        let default_base = default_base_url(&listen);
        let base_url =
            normalize_base_url(&pick(&overrides.base_url, &file.base_url, &default_base))?;
        check_scheme(mode, &base_url)?;
        let demo_sp = match (mode, file.demo_sp) {
            (Mode::Production, Some(true)) => {
                return Err(invalid(
                    "demo_sp",
                    "the demo SP runs in development mode only",
                ))
            }
            (Mode::Production, _) => false,
            (Mode::Development, setting) => setting.unwrap_or(true),
        };
        let default_db = data_dir.join(SQLITE_FILE_NAME).display().to_string();
        let database_url = pick(&overrides.database_url, &file.database_url, &default_db);
        let signing_keys = resolve_keys(file.signing_keys, &base_dir)?;
        if mode == Mode::Production && signing_keys.is_empty() {
            return Err(ConfigError::ProductionWithoutKeys);
        }
        let refresh = file
            .registry_refresh_seconds
            .unwrap_or(DEFAULT_REGISTRY_REFRESH_SECONDS);
        if !(1..=3600).contains(&refresh) {
            return Err(invalid(
                "registry_refresh_seconds",
                "must be between 1 and 3600",
            ));
        }
        let limits = file.limits.resolve()?;
        let client_limits = file.limits.client_limits()?;
        let trusted_proxies = parse_proxies(&file.trusted_proxies)?;
        let purge_interval_seconds = file
            .purge_interval_seconds
            .unwrap_or(DEFAULT_PURGE_INTERVAL_SECONDS);
        if purge_interval_seconds > 86_400 {
            return Err(invalid(
                "purge_interval_seconds",
                "must be between 0 (never) and 86400",
            ));
        }
        let mailer = pick(&overrides.mailer, &file.mailer, "outbox")
            .parse::<MailerSetting>()
            .map_err(|detail| invalid("mailer", detail))?;
        let mail_from = resolve_mail_from(&overrides.mail_from, &file.mail_from, &base_url)?;
        let mail = file.mail.resolve()?;
        let audit_retention_days = file
            .audit_retention_days
            .unwrap_or(DEFAULT_AUDIT_RETENTION_DAYS);
        if audit_retention_days > 36_500 {
            return Err(invalid(
                "audit_retention_days",
                "must be between 0 (keep for ever) and 36500",
            ));
        }
        let lock_seconds = file.sign_in.lock_seconds()?;
        let aal3_attestation_roots: Vec<PathBuf> = file
            .webauthn
            .aal3_attestation_roots
            .iter()
            .map(|p| base_dir.join(p))
            .collect();
        crate::idp::relying_party::load_aal3_roots(&aal3_attestation_roots)
            .map_err(|e| invalid("webauthn.aal3_attestation_roots", e.to_string()))?;
        Ok(Config {
            demo_sp,
            console_requires_security_key: file.console.require_phishing_resistant,
            lock_seconds,
            aal3_attestation_roots,
            audit_retention_days,
            log_format: overrides.log_format.or(file.log_format).unwrap_or_default(),
            mailer,
            mail_from,
            mail,
            trusted_proxies,
            purge_interval_seconds,
            mode,
            facial_match_enabled: file.facial_match_enabled,
            data_key_file: file.data_key_file.map(|p| base_dir.join(p)),
            limits,
            client_limits,
            organization: file
                .organization
                .unwrap_or_else(|| default_organization(&base_url)),
            technical_contact: file.technical_contact.unwrap_or_else(default_contact),
            base_url,
            listen,
            data_dir,
            database_url,
            signing_keys,
            registry_refresh_seconds: refresh,
        })
    }
}

/// `mail_from` as given, else `no-reply@{host of base_url}`; either must be an address.
fn resolve_mail_from(
    over: &Option<String>,
    file: &Option<String>,
    base_url: &str,
) -> Result<String, ConfigError> {
    let from = match over.as_ref().or(file.as_ref()) {
        Some(given) => given.trim().to_string(),
        None => {
            let host = url::Url::parse(base_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            format!("no-reply@{host}")
        }
    };
    if crate::mail::setting::is_valid_address(&from) {
        Ok(from)
    } else {
        Err(invalid(
            "mail_from",
            format!("{from:?} is not an email address"),
        ))
    }
}

/// `10.0.0.7` or `10.0.0.0/8` (IPv4 or IPv6); a bare address is a one-address network.
fn parse_proxies(values: &[String]) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    values
        .iter()
        .map(|v| {
            v.parse::<ipnet::IpNet>()
                .or_else(|_| v.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    invalid(
                        "trusted_proxies",
                        format!("{v:?} is not an IP address or CIDR network"),
                    )
                })
        })
        .collect()
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        detail: toml_error_line(&e),
    })
}

/// toml's messages can span lines; errors here are one line (`a; b`), with the position.
pub fn toml_error_line(e: &toml::de::Error) -> String {
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    match e.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message,
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn pick(over: &Option<String>, file: &Option<String>, default: &str) -> String {
    over.clone()
        .or_else(|| file.clone())
        .unwrap_or_else(|| default.to_string())
}

fn invalid(field: &'static str, detail: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        detail: detail.into(),
    }
}

/// `http://localhost:{port}` of the listen address: `localhost` (not `127.0.0.1`) is a
/// valid WebAuthn relying-party ID, so security keys work on the defaults (SPEC 20).
fn default_base_url(listen: &str) -> String {
    let port = listen
        .parse::<std::net::SocketAddr>()
        .map(|a| a.port().to_string())
        .ok()
        .or_else(|| listen.rsplit_once(':').map(|(_, p)| p.to_string()));
    match port {
        Some(port) => format!("http://localhost:{port}"),
        None => format!("http://{listen}"),
    }
}

/// `base_url` must be an absolute http(s) URL without query or fragment; a trailing slash is
/// dropped so that `{base_url}/api/saml` has exactly one slash.
fn normalize_base_url(raw: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(raw).map_err(|e| invalid("base_url", format!("{raw:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid(
            "base_url",
            format!("{raw:?} is not an http(s) URL"),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid(
            "base_url",
            format!("{raw:?} must not have a query or fragment"),
        ));
    }
    // As parsed (scheme and host in lower case, a default port dropped), so that every
    // later use (`Secure` cookies, the WebAuthn origin, the Origin check) sees one form.
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

/// Production serves over https; plain http only on the loopback interface (a node behind a
/// proxy on the same machine, a test).
fn check_scheme(mode: Mode, base_url: &str) -> Result<(), ConfigError> {
    let Ok(url) = url::Url::parse(base_url) else {
        return Err(invalid("base_url", "not a URL"));
    };
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if mode == Mode::Production && url.scheme() == "http" && !loopback {
        return Err(invalid(
            "base_url",
            format!(
                "{base_url:?}: production mode needs an https base_url (http only on localhost)"
            ),
        ));
    }
    Ok(())
}

fn resolve_keys(
    keys: Vec<FileSigningKey>,
    base: &Path,
) -> Result<Vec<SigningKeyConfig>, ConfigError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let year = SamlYear::new(key.year).ok_or_else(|| {
            invalid(
                "signing_keys.year",
                format!("{} is not a four-digit year", key.year),
            )
        })?;
        if !seen.insert(year) {
            return Err(ConfigError::DuplicateYear(key.year));
        }
        let certificate = key
            .certificate
            .unwrap_or_else(|| PathBuf::from(format!("certs/saml{year}.crt")));
        if let Some(var) = &key.passphrase_env {
            if var.is_empty() || !var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(invalid(
                    "signing_keys.passphrase_env",
                    format!("{var:?} is not an environment variable name"),
                ));
            }
        }
        out.push(SigningKeyConfig {
            year,
            certificate: base.join(certificate),
            private_key: base.join(key.private_key),
            passphrase_env: key.passphrase_env,
        });
    }
    Ok(out)
}

fn default_organization(base_url: &str) -> Organization {
    Organization {
        name: "saml-idp".into(),
        display_name: "saml-idp development identity provider".into(),
        url: base_url.to_string(),
    }
}

fn default_contact() -> Contact {
    Contact {
        company: None,
        given_name: Some("Technical support".into()),
        surname: None,
        email: "mailto:support@example.invalid".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write_config(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(text.as_bytes()).expect("write");
        f
    }

    fn load_file(text: &str) -> Result<Config, ConfigError> {
        let f = write_config(text);
        Config::load(&Overrides {
            config_file: Some(f.path().to_path_buf()),
            ..Overrides::default()
        })
    }

    #[test]
    fn defaults_give_a_development_server_on_sqlite() {
        let c = Config::load(&Overrides::default()).expect("defaults");
        assert_eq!(c.mode, Mode::Development);
        assert_eq!(c.listen, DEFAULT_LISTEN);
        assert_eq!(c.base_url, "http://localhost:8080");
        assert_eq!(c.entity_id(), "http://localhost:8080/api/saml");
        assert!(c.demo_sp, "development serves the demo SP");
        assert!(c.database_url.ends_with(SQLITE_FILE_NAME));
        assert!(c.signing_keys.is_empty());
    }

    #[test]
    fn overrides_win_over_the_file() {
        let f =
            write_config("base_url = \"https://file.example.gov/\"\nlisten = \"0.0.0.0:9000\"\n");
        let c = Config::load(&Overrides {
            config_file: Some(f.path().to_path_buf()),
            base_url: Some("https://flag.example.gov".into()),
            ..Overrides::default()
        })
        .expect("config");
        assert_eq!(c.base_url, "https://flag.example.gov");
        assert_eq!(c.listen, "0.0.0.0:9000");
    }

    #[test]
    fn duplicate_years_are_refused() {
        let err = load_file(
            "[[signing_keys]]\nyear = 2026\nprivate_key = \"a.key\"\n[[signing_keys]]\nyear = 2026\nprivate_key = \"b.key\"\n",
        )
        .expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "signing key year 2026 is listed more than once"
        );
    }

    #[test]
    fn production_without_keys_is_refused() {
        let err = load_file("mode = \"production\"\n").expect_err("no keys");
        assert!(matches!(err, ConfigError::ProductionWithoutKeys));
    }

    #[test]
    fn unknown_keys_and_bad_urls_are_named() {
        let err = load_file("base_ulr = \"x\"\n").expect_err("typo");
        assert!(err.to_string().contains("base_ulr"), "{err}");
        let err = load_file("base_url = \"/relative\"\n").expect_err("relative");
        assert!(err.to_string().contains("base_url"), "{err}");
    }

    #[test]
    fn base_url_is_parsed_once_and_production_needs_https() {
        let c = load_file("base_url = \"HTTPS://IDP.Example.GOV:443/\"\n").expect("config");
        assert_eq!(c.base_url, "https://idp.example.gov");
        let production = |url: &str| {
            let f = write_config(&format!(
                "mode = \"production\"\nbase_url = \"{url}\"\n[[signing_keys]]\nyear = 2026\nprivate_key = \"k.key\"\n"
            ));
            Config::load(&Overrides {
                config_file: Some(f.path().to_path_buf()),
                ..Overrides::default()
            })
        };
        let err = production("http://idp.example.gov").expect_err("http in production");
        assert!(err.to_string().contains("https"), "{err}");
        for ok in [
            "https://idp.example.gov",
            "http://127.0.0.1:8080",
            "http://localhost:8080",
            "http://[::1]:8080",
        ] {
            assert!(production(ok).is_ok(), "{ok}: {:?}", production(ok).err());
        }
    }

    #[test]
    fn client_limits_default_and_are_checked() {
        let c = Config::load(&Overrides::default()).expect("defaults");
        assert_eq!(c.client_limits, ClientLimits::default());
        let c = load_file("[limits]\nsaml_per_minute = 5\nposts_per_minute = 3\n").expect("config");
        assert_eq!(
            (
                c.client_limits.saml_per_minute,
                c.client_limits.posts_per_minute
            ),
            (5, 3)
        );
        let err = load_file("[limits]\nposts_per_minute = 0\n").expect_err("zero");
        assert!(err.to_string().contains("limits.posts_per_minute"), "{err}");
    }

    #[test]
    fn lock_lengths_default_and_are_checked() {
        let c = Config::load(&Overrides::default()).expect("defaults");
        assert_eq!(c.lock_seconds, [600, 3600, 86_400]);
        let c = load_file("[sign_in]\nlock_seconds = [1, 2]\n").expect("config");
        assert_eq!(c.lock_seconds, [1, 2]);
        for bad in ["[]", "[0]", "[600, 31536001]", "[1,1,1,1,1,1,1,1,1,1,1]"] {
            let err =
                load_file(&format!("[sign_in]\nlock_seconds = {bad}\n")).expect_err("refused");
            assert!(
                err.to_string().contains("sign_in.lock_seconds"),
                "{bad}: {err}"
            );
        }
        let err = load_file("[sign_in]\nlock_second = [1]\n").expect_err("typo");
        assert!(err.to_string().contains("lock_second"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c = load_file("trusted_proxies = [\"10.0.0.7\", \"10.1.0.0/16\", \"fd00::/8\"]\n")
            .expect("config");
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.7/32", "10.1.0.0/16", "fd00::/8"]);
        let err = load_file("trusted_proxies = [\"proxy.internal\"]\n").expect_err("name");
        assert!(err.to_string().contains("trusted_proxies"), "{err}");
        let err = load_file("purge_interval_seconds = 999999\n").expect_err("too long");
        assert!(err.to_string().contains("purge_interval_seconds"), "{err}");
    }

    #[test]
    fn the_mail_section_sets_caps_and_timing_within_bounds() {
        let c = load_file("").expect("defaults");
        assert_eq!(c.mail, QueueSettings::default());
        let c = load_file(
            "[mail]\nmax_per_address_per_hour = 3\nmax_per_address_per_day = 5\nretry_seconds = 2\nmax_retry_seconds = 8\npoll_interval_seconds = 1\n",
        )
        .expect("valid");
        assert_eq!(
            (
                c.mail.max_per_address_per_hour,
                c.mail.max_per_address_per_day
            ),
            (3, 5)
        );
        assert_eq!(c.mail.backoff(3).as_secs(), 8);
        assert_eq!(c.mail.poll_interval.as_secs(), 1);
        for bad in [
            "[mail]\nmax_per_address_per_hour = 0\n",
            "[mail]\nmax_per_address_per_hour = 20\nmax_per_address_per_day = 10\n",
            "[mail]\nretry_seconds = 60\nmax_retry_seconds = 30\n",
            "[mail]\nlease_seconds = 5\n",
            "[mail]\nunknown = 1\n",
        ] {
            assert!(load_file(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn mailer_is_outbox_or_an_smtp_url() {
        let c = Config::load(&Overrides::default()).expect("defaults");
        assert_eq!(c.mailer, MailerSetting::Outbox);
        assert_eq!(c.mail_from, "no-reply@localhost");
        let c = load_file(
            "base_url = \"https://idp.example.gov\"\nmailer = \"smtps://u:p%40ss@mail.example.gov:2465\"\n",
        )
        .expect("smtps");
        let MailerSetting::Smtp(server) = &c.mailer else {
            panic!("{:?}", c.mailer)
        };
        assert_eq!(
            (server.host.as_str(), server.port),
            ("mail.example.gov", 2465)
        );
        assert!(server.implicit_tls);
        assert_eq!(server.credentials, Some(("u".into(), "p@ss".into())));
        assert!(
            !format!("{c:?}").contains("p@ss"),
            "Debug hides the password"
        );
        assert_eq!(c.mail_from, "no-reply@idp.example.gov");
        let f = write_config("mailer = \"smtp://file.example.gov\"\n");
        let c = Config::load(&Overrides {
            config_file: Some(f.path().to_path_buf()),
            mailer: Some("outbox".into()),
            ..Overrides::default()
        })
        .expect("override");
        assert_eq!(c.mailer, MailerSetting::Outbox, "the environment wins");
        for bad in [
            "mailer = \"sendmail\"\n",
            "mailer = \"smtp://u:hunter22@\"\n",
            "mailer = \"smtp://mail.example.gov:25/x\"\n",
            "mailer = \"http://mail.example.gov\"\n",
        ] {
            let err = load_file(bad).expect_err(bad);
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        field: "mailer",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
            assert!(!err.to_string().contains("hunter22"), "{err}");
        }
    }

    #[test]
    fn mail_from_must_be_an_address() {
        let c = load_file("mail_from = \"accounts@example.gov\"\n").expect("from");
        assert_eq!(c.mail_from, "accounts@example.gov");
        let c = Config::load(&Overrides {
            mail_from: Some("env@example.gov".into()),
            ..Overrides::default()
        })
        .expect("override");
        assert_eq!(c.mail_from, "env@example.gov");
        for bad in [
            "mail_from = \"no-reply\"\n",
            "mail_from = \"Name <a@b.gov>\"\n",
        ] {
            let err = load_file(bad).expect_err(bad);
            assert!(err.to_string().contains("mail_from"), "{err}");
        }
    }

    #[test]
    fn key_paths_are_relative_to_the_file() {
        let f = write_config("[[signing_keys]]\nyear = 2026\nprivate_key = \"keys/k.pem\"\n");
        let c = Config::load(&Overrides {
            config_file: Some(f.path().to_path_buf()),
            ..Overrides::default()
        })
        .expect("config");
        let dir = f.path().parent().expect("dir");
        assert_eq!(c.signing_keys[0].private_key, dir.join("keys/k.pem"));
        assert_eq!(
            c.signing_keys[0].certificate,
            dir.join("certs/saml2026.crt")
        );
    }

    #[test]
    fn aal3_attestation_roots_are_read_at_load_and_named_when_bad() {
        let dir = tempfile::tempdir().expect("dir");
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/keys/idp-2026-test-only.crt");
        std::fs::copy(&fixture, dir.path().join("root.pem")).expect("copy");
        std::fs::write(dir.path().join("bad.pem"), "not a certificate").expect("write");
        let load = |roots: &str| {
            let path = dir.path().join("saml-idp.toml");
            let text = format!("[webauthn]\naal3_attestation_roots = [{roots}]\n");
            std::fs::write(&path, text).expect("write");
            Config::load(&Overrides {
                config_file: Some(path),
                ..Overrides::default()
            })
        };
        let c = load("\"root.pem\"").expect("a PEM certificate");
        assert_eq!(c.aal3_attestation_roots, [dir.path().join("root.pem")]);
        assert!(load("").expect("none").aal3_attestation_roots.is_empty());
        for bad in ["\"missing.pem\"", "\"root.pem\", \"bad.pem\""] {
            let err = load(bad).expect_err(bad);
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        field: "webauthn.aal3_attestation_roots",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
            let file = bad.rsplit('"').nth(1).expect("file name");
            assert!(err.to_string().contains(file), "{err}");
        }
    }
}
