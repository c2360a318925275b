//! Shared test harness: fixture paths, a fixed clock, the test key ring, databases on
//! SQLite (always) and PostgreSQL (when `TEST_DATABASE_URL` is set, one fresh schema per
//! test), every store implementation (`stores`: memory, SQLite, PostgreSQL), and an
//! application with all of them wired in.
#![allow(dead_code)]

pub mod browser;
pub mod cluster;
pub mod flow;
pub mod mail;
pub mod oracles;
pub mod process;
pub mod soft_key;
pub mod stores;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::Connection;

use saml_idp::clock::{Clock, FixedClock, SystemClock};
use saml_idp::config::{Config, Overrides, SigningKeyConfig};
use saml_idp::crypto::KeyRing;
use saml_idp::idp::{MetadataDocuments, SpCache};
use saml_idp::ids::{IdSource, RandomIds, SequentialIds};
use saml_idp::registry::SpRegistry;
use saml_idp::saml::SamlYear;
use saml_idp::store::{Database, DieselSpRegistry};
use saml_idp::web::AppState;

pub const BASE_URL: &str = "https://idp.test.example.gov";

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(relative: &str) -> PathBuf {
    root().join("fixtures").join(relative)
}

pub fn key(name: &str) -> PathBuf {
    fixture(&format!("keys/{name}"))
}

/// The text of `fixtures/requests/NAME`.
pub fn request_fixture(name: &str) -> String {
    std::fs::read_to_string(fixture(&format!("requests/{name}"))).expect("request fixture")
}

/// The DER bytes of the fixture certificate `fixtures/keys/NAME` (PEM).
pub fn fixture_der(name: &str) -> Vec<u8> {
    let pem = std::fs::read(key(name)).expect("fixture certificate");
    openssl::x509::X509::from_pem(&pem)
        .and_then(|c| c.to_der())
        .expect("fixture certificate parses")
}

/// Standard base64 with padding (a POST-binding value, a certificate in XML).
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

pub fn year(y: u16) -> SamlYear {
    SamlYear::new(y).expect("year")
}

/// The fixed "now" of the tests, 2026-03-15T12:00:00Z: inside the spring overlap of the 2025
/// and 2026 certificates.
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
        .single()
        .expect("time")
}

/// A clock frozen at [`now`].
pub fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(now()))
}

/// The real time, through the one clock allowed to read it (clippy.toml): for tests whose
/// other party reads the wall clock too (the server binary, python3-saml, `xmlsec1`-signed
/// requests).
pub fn wall_clock() -> chrono::DateTime<Utc> {
    SystemClock.now()
}

/// A random UUID v4, hyphenated (schema names, one-off ids), from the production id source.
pub fn random_uuid() -> String {
    RandomIds.uuid()
}

pub fn signing_key_config(y: u16) -> SigningKeyConfig {
    SigningKeyConfig {
        year: year(y),
        certificate: key(&format!("idp-{y}-test-only.crt")),
        private_key: key(&format!("idp-{y}-test-only.key")),
        passphrase_env: None,
    }
}

/// 2025 and 2026, from the test-only fixture keys.
pub fn key_ring() -> KeyRing {
    KeyRing::load(&[signing_key_config(2025), signing_key_config(2026)]).expect("test key ring")
}

pub fn config(database_url: &str) -> Config {
    let mut config = Config::load(&Overrides {
        base_url: Some(BASE_URL.into()),
        database_url: Some(database_url.into()),
        ..Overrides::default()
    })
    .expect("config");
    config.signing_keys = vec![signing_key_config(2025), signing_key_config(2026)];
    // Every in-process test is one client ("unknown": no peer address); the limiter has its
    // own tests, with low limits.
    config.client_limits = saml_idp::config::ClientLimits {
        saml_per_minute: 1_000_000,
        posts_per_minute: 1_000_000,
    };
    config
}

/// A migrated database that lives as long as the value.
pub struct TestDb {
    pub url: String,
    pub db: Database,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.pg_schema {
            if let Ok(mut conn) = diesel::PgConnection::establish(base) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
    let db = Database::connect(&url).expect("sqlite");
    db.migrate().expect("migrate sqlite");
    TestDb {
        url,
        db,
        _dir: Some(dir),
        pg_schema: None,
    }
}

/// The PostgreSQL under test, if `TEST_DATABASE_URL` names one.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A fresh schema in the PostgreSQL of `TEST_DATABASE_URL`, selected through `search_path`.
pub fn postgres_db(base: &str) -> TestDb {
    let schema = format!("t_{}", random_uuid().replace('-', ""));
    let mut admin = diesel::PgConnection::establish(base).expect("TEST_DATABASE_URL reachable");
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
    let db = Database::connect(&url).expect("postgres");
    db.migrate().expect("migrate postgres");
    TestDb {
        url,
        db,
        _dir: None,
        pg_schema: Some((base.to_string(), schema)),
    }
}

/// Tables that must not grow with traffic (SPEC 7); the audit trail is kept on purpose.
pub const BOUNDED_TABLES: &[&str] = &[
    "pending_requests",
    "browser_sessions",
    "remembered_browsers",
    "rate_limits",
    "seen_requests",
    "one_time_tokens",
    "agency_identities",
    "sp_consents",
];

/// (table, rows) of every bounded table, read through a connection of our own.
pub fn row_counts(db: &TestDb) -> Vec<(&'static str, i64)> {
    BOUNDED_TABLES
        .iter()
        .map(|t| (*t, stores::count_table(db, t)))
        .collect()
}

/// SQLite always, PostgreSQL too when configured: run a contract test against each.
pub fn every_backend() -> Vec<(&'static str, TestDb)> {
    let mut out = vec![("sqlite", sqlite_db())];
    if let Some(base) = postgres_url() {
        out.push(("postgres", postgres_db(&base)));
    } else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL backend skipped");
    }
    out
}

/// Every implementation of the store traits: in memory, then the Diesel stores on every
/// backend above.
pub fn every_store() -> Vec<(&'static str, stores::Stores)> {
    let mut out = vec![("memory", stores::memory())];
    out.extend(stores::every_sql_store());
    out
}

pub fn registry(db: &TestDb) -> Arc<dyn SpRegistry> {
    Arc::new(DieselSpRegistry::new(db.db.clone(), clock()))
}

/// The application state the server would build, over the test keys and `db`.
pub fn app_state(db: &TestDb) -> AppState {
    app_state_at(db, clock())
}

/// As `app_state`, with the given clock.
pub fn app_state_at(db: &TestDb, clock: Arc<dyn Clock>) -> AppState {
    app_state_with(db, clock, config(&db.url))
}

/// As `app_state_at`, with the test configuration changed by `configure` first.
pub fn app_state_configured(
    db: &TestDb,
    clock: Arc<dyn Clock>,
    configure: impl FnOnce(&mut Config),
) -> AppState {
    let mut config = config(&db.url);
    configure(&mut config);
    app_state_with(db, clock, config)
}

/// As `app_state_at`, with the given configuration (e.g. another `mailer` or `[mail]`).
pub fn app_state_with(db: &TestDb, clock: Arc<dyn Clock>, config: Config) -> AppState {
    let keys = key_ring();
    let metadata =
        MetadataDocuments::build(&config, &keys, &SequentialIds::default()).expect("metadata");
    let sp_cache = Arc::new(SpCache::new(registry(db)));
    sp_cache.refresh().expect("cache");
    saml_idp::crypto::xmlsec_ffi::init();
    AppState::build(
        Arc::new(config),
        Arc::new(keys),
        Arc::new(metadata),
        sp_cache,
        saml_idp::store::compose(&db.db, clock.clone()),
        clock,
        Arc::new(SequentialIds::default()),
        account_crypto(),
    )
}

/// A pending request of `issuer` for the default service level that expires at
/// `expires_at` (received its lifetime earlier).
pub fn pending_request(
    issuer: &str,
    expires_at: chrono::DateTime<Utc>,
) -> saml_idp::idp::sso::pending::PendingRequest {
    use saml_idp::saml::authn_context::{Aal, AuthnContext, Comparison, Ial};
    let lifetime = chrono::Duration::minutes(saml_idp::idp::sso::pending::PENDING_LIFETIME_MINUTES);
    saml_idp::idp::sso::pending::PendingRequest {
        issuer: issuer.into(),
        request_id: "_pending-request".into(),
        year: 2026,
        acs_url: "https://sp.example.gov/acs".into(),
        relay_state: None,
        authn_context: AuthnContext {
            ial: Ial::AuthOnly,
            aal: Aal::Default,
            comparison: Comparison::Exact,
            ial_value: None,
            aal_value: None,
            requested_attributes: Vec::new(),
            ignored_values: Vec::new(),
        },
        email_name_id: false,
        force_authn: false,
        is_passive: false,
        matching_certificate: None,
        received_at: expires_at - lifetime,
    }
}

/// Seals with a fixed TEST-ONLY data key.
pub const TEST_DATA_KEY: &str = "dGVzdC1vbmx5IGRhdGEga2V5IG5vdCBmb3IgdXNlISE=";

pub fn account_crypto() -> saml_idp::accounts::sealing::AccountCrypto {
    saml_idp::accounts::sealing::AccountCrypto::new(TEST_DATA_KEY).expect("test data key")
}

/// The `saml-idp` binary in `dir`, with `dir` as its data directory and no configuration
/// inherited from the environment.
pub fn saml_idp(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_saml-idp"));
    cmd.current_dir(dir).arg("--data-dir").arg(dir);
    for var in [
        "SAML_IDP_CONFIG",
        "SAML_IDP_DATA_DIR",
        "SAML_IDP_DATABASE_URL",
        "SAML_IDP_BASE_URL",
        "SAML_IDP_MODE",
        "SAML_IDP_LISTEN",
        "SAML_IDP_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs a command and returns (status ok, stdout, stderr).
pub fn run(cmd: &mut std::process::Command) -> (bool, String, String) {
    let out = cmd.output().expect("command runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes `bytes` to a file in `dir` and returns its path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write file");
    path
}

/// Registers the SPs of `fixtures/service_providers.toml` (sp1, sp2) in `db`.
pub fn seed_fixture_sps(db: &TestDb) {
    let text = std::fs::read_to_string(fixture("service_providers.toml")).expect("fixture SPs");
    let file: saml_idp::registry::RecordFile = toml::from_str(&text).expect("parses");
    let registry = registry(db);
    for record in &file.service_provider {
        let sp = saml_idp::registry::validate(record, &root().join("fixtures"))
            .expect("valid fixture SP");
        registry.add(&sp).expect("add");
    }
}

/// A registry over the database of a running test state.
pub fn registry_of(state: &AppState) -> Arc<dyn SpRegistry> {
    state.sp_cache.registry()
}

/// The python of the python3-saml environment (`SAML_IDP_PYTHON`, else the default cache).
pub fn python() -> String {
    let path = std::env::var("SAML_IDP_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/saml-idp/py-sp-env/bin/python",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    assert!(
        Path::new(&path).exists(),
        "python3-saml is missing: run scripts/python-sp-env (or scripts/test)"
    );
    path
}

/// The text of a fixture key or certificate (or of the key file at an absolute path).
pub fn pem(name: &str) -> String {
    let path = if Path::new(name).is_absolute() {
        PathBuf::from(name)
    } else {
        key(name)
    };
    std::fs::read_to_string(path).expect("fixture key")
}

pub fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .expect("base64")
}
