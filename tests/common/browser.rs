//! Setup shared by the real-browser tests (`browser_e2e.rs`, `browser_narrow.rs`,
//! `browser_webauthn.rs`): the real
//! binary with the test-only keys in a temporary directory, its CLI, its process (killed when
//! the test ends however it ends), free ports, the Python venv and the browser binaries.
//! Missing tools fail the test, never skip it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_saml-idp");
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The IdP process, killed when the test ends however it ends.
pub struct Idp(Child);

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two distinct free ports (both held while the second is picked).
pub fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("addr").port();
    (port(&a), port(&b))
}

/// The venv interpreter: `SAML_IDP_PYTHON`, else the default venv of `scripts/python-sp-env`.
pub fn python() -> PathBuf {
    let path = std::env::var_os("SAML_IDP_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/saml-idp/py-sp-env/bin/python")
        });
    assert!(
        path.exists(),
        "no Python venv at {} (with python3-saml and selenium): run scripts/test, or \
         `scripts/python-sp-env` and set SAML_IDP_PYTHON to <venv>/bin/python",
        path.display()
    );
    path
}

pub fn require_browser() {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: run scripts/install-deps (Debian packages chromium chromium-driver)"
        );
    }
}

/// A config whose base URL is where the browser reaches the IdP, with the test-only keys.
pub fn browser_config(dir: &Path, base_url: &str) -> PathBuf {
    let key = |name: &str| super::key(name).display().to_string();
    let text = format!(
        "base_url = \"{base_url}\"\n\n[[signing_keys]]\nyear = 2025\ncertificate = \"{}\"\nprivate_key = \"{}\"\n\n[[signing_keys]]\nyear = 2026\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        key("idp-2025-test-only.crt"),
        key("idp-2025-test-only.key"),
        key("idp-2026-test-only.crt"),
        key("idp-2026-test-only.key"),
    );
    super::write(dir, "saml-idp.toml", text.as_bytes())
}

/// `saml-idp` as the test runs it: in `dir`, with the data key and no `SAML_IDP_*` leaking in.
pub fn idp_command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("SAML_IDP_CONFIG")
        .env_remove("SAML_IDP_DATABASE_URL")
        .env_remove("SAML_IDP_DATA_DIR")
        .env_remove("SAML_IDP_BASE_URL")
        .env_remove("SAML_IDP_LISTEN")
        .env_remove("SAML_IDP_MODE")
        .env("SAML_IDP_DATA_KEY", super::TEST_DATA_KEY);
    cmd
}

/// An IdP in a temporary directory, configured for a browser on `idp_port` and not yet
/// serving: register SPs and users with `cli`, then `start`.
pub struct BrowserIdp {
    pub dir: tempfile::TempDir,
    pub config: String,
    pub port: u16,
    pub url: String,
}

impl BrowserIdp {
    /// Reached at `http://127.0.0.1:{idp_port}`.
    pub fn new(idp_port: u16) -> BrowserIdp {
        BrowserIdp::on("127.0.0.1", idp_port)
    }

    /// Reached at `http://{host}:{idp_port}` (WebAuthn needs a domain name: `localhost`),
    /// listening on 127.0.0.1.
    pub fn on(host: &str, idp_port: u16) -> BrowserIdp {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("http://{host}:{idp_port}");
        let config = browser_config(dir.path(), &url).display().to_string();
        BrowserIdp {
            dir,
            config,
            port: idp_port,
            url,
        }
    }

    /// The directory where the IdP's `outbox` mailer writes (`{data_dir}/outbox`).
    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("data/outbox")
    }

    /// Runs one CLI command against this IdP's config; it must succeed.
    pub fn cli(&self, args: &[&str]) {
        let (ok, _, stderr) = super::run(
            idp_command(self.dir.path())
                .arg("--config")
                .arg(&self.config)
                .args(args),
        );
        assert!(ok, "{args:?}: {stderr}");
    }

    /// Registers an SP whose ACS and return URL are on `sp_url`, signing with `sp_cert`.
    pub fn add_sp(&self, issuer: &str, name: &str, sp_url: &str, sp_cert: &str) {
        self.cli(&[
            "sp",
            "add",
            "--issuer",
            issuer,
            "--acs-url",
            &format!("{sp_url}/acs"),
            "--cert",
            sp_cert,
            "--attributes",
            "email,all_emails,locale",
            "--friendly-name",
            name,
            "--return-to-sp-url",
            &format!("{sp_url}/"),
        ]);
    }

    /// Adds a user with a password and a TOTP secret.
    pub fn add_user(&self, email: &str, password: &str, totp_secret: &str) {
        self.cli(&[
            "user",
            "add",
            "--email",
            email,
            "--password",
            password,
            "--totp-secret",
            totp_secret,
        ]);
    }

    /// Serves on the port until the returned guard drops; returns once `/healthz` says 200.
    pub fn start(&self) -> Idp {
        let child = idp_command(self.dir.path())
            .args(["--config", &self.config, "serve", "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the IdP starts");
        let idp = Idp(child);
        wait_healthy(self.port);
        idp
    }
}

/// Returns once `http://127.0.0.1:{port}/healthz` answers 200 (at most 60 s: a first start
/// creates its development keys).
pub fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = Command::new("curl")
            .args([
                "-s",
                "--max-time",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
            ])
            .arg(format!("http://127.0.0.1:{}/healthz", port))
            .output()
            .expect("curl runs");
        if out.stdout == b"200" {
            return;
        }
        assert!(Instant::now() < deadline, "the IdP did not become healthy");
        thread::sleep(Duration::from_millis(100));
    }
}

/// The binary on its embedded defaults (development mode, no configuration file) with a
/// fresh data directory `data_dir`, listening on 127.0.0.1:`port`: what `scripts/run` does.
pub fn start_on_defaults(data_dir: &Path, port: u16) -> Idp {
    let mut cmd = Command::new(BIN);
    for name in [
        "SAML_IDP_CONFIG",
        "SAML_IDP_DATABASE_URL",
        "SAML_IDP_DATA_DIR",
        "SAML_IDP_BASE_URL",
        "SAML_IDP_LISTEN",
        "SAML_IDP_MODE",
        "SAML_IDP_DATA_KEY",
    ] {
        cmd.env_remove(name);
    }
    let child = cmd
        .current_dir(data_dir)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the IdP starts");
    let idp = Idp(child);
    wait_healthy(port);
    idp
}

/// axe.min.js: `SAML_IDP_AXE` (scripts/test sets it from scripts/axe-core), else where
/// scripts/axe-core puts it.
pub fn axe() -> PathBuf {
    let path = std::env::var_os("SAML_IDP_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache/saml-idp/axe-core/node_modules/axe-core/axe.min.js")
        });
    assert!(
        path.is_file(),
        "axe-core is missing at {}: run scripts/axe-core (scripts/test does)",
        path.display()
    );
    path
}
