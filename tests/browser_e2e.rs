//! A real browser (headless Chromium driven by Selenium) signs in through the real binary to
//! a python3-saml service provider: SP link, email and password, TOTP, consent, and the
//! auto-submitted Response, which the SP decrypts and verifies in strict mode. The Python
//! side is `tests/browser/` (run with the venv of `scripts/python-sp-env`); Chromium and
//! chromedriver come from `scripts/install-deps`. Missing tools fail the test, never skip it.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_saml-idp");
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SP_ISSUER: &str = "urn:gov:gsa:SAML:2.0:profiles:sp:sso:test:browser";
const SP_NAME: &str = "Browser Test SP";
const EMAIL: &str = "grace@example.gov";
const PASSWORD: &str = "browser-test-password-1";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The IdP process, killed when the test ends however it ends.
struct Idp(Child);

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Two distinct free ports (both held while the second is picked).
fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("addr").port();
    (port(&a), port(&b))
}

/// The venv interpreter: `SAML_IDP_PYTHON`, else the default venv of `scripts/python-sp-env`.
fn python() -> PathBuf {
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

fn require_browser() {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: run scripts/install-deps (Debian packages chromium chromium-driver)"
        );
    }
}

/// A config whose base URL is where the browser reaches the IdP, with the test-only keys.
fn browser_config(dir: &Path, idp_port: u16) -> PathBuf {
    let key = |name: &str| common::key(name).display().to_string();
    let text = format!(
        "base_url = \"http://127.0.0.1:{idp_port}\"\n\n[[signing_keys]]\nyear = 2025\ncertificate = \"{}\"\nprivate_key = \"{}\"\n\n[[signing_keys]]\nyear = 2026\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        key("idp-2025-test-only.crt"),
        key("idp-2025-test-only.key"),
        key("idp-2026-test-only.crt"),
        key("idp-2026-test-only.key"),
    );
    common::write(dir, "saml-idp.toml", text.as_bytes())
}

/// `saml-idp` as the test runs it: in `dir`, with the data key and no `SAML_IDP_*` leaking in.
fn idp_command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("SAML_IDP_CONFIG")
        .env_remove("SAML_IDP_DATABASE_URL")
        .env_remove("SAML_IDP_DATA_DIR")
        .env_remove("SAML_IDP_BASE_URL")
        .env_remove("SAML_IDP_LISTEN")
        .env_remove("SAML_IDP_MODE")
        .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY);
    cmd
}

fn start_idp(dir: &Path, config: &str, port: u16) -> Idp {
    let child = idp_command(dir)
        .args(["--config", config, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the IdP starts");
    let idp = Idp(child);
    let deadline = Instant::now() + Duration::from_secs(30);
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
            .arg(format!("http://127.0.0.1:{port}/healthz"))
            .output()
            .expect("curl runs");
        if out.stdout == b"200" {
            return idp;
        }
        assert!(Instant::now() < deadline, "the IdP did not become healthy");
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_real_browser_signs_in_to_a_python3_saml_sp() {
    let python = python();
    require_browser();
    let dir = tempfile::tempdir().expect("dir");
    let (idp_port, sp_port) = free_ports();
    let idp_url = format!("http://127.0.0.1:{idp_port}");
    let sp_url = format!("http://127.0.0.1:{sp_port}");
    let config = browser_config(dir.path(), idp_port).display().to_string();
    let sp_cert = common::key("sp1-test-only.crt").display().to_string();
    let cli = |args: &[&str]| {
        let (ok, _, stderr) = common::run(
            idp_command(dir.path())
                .arg("--config")
                .arg(&config)
                .args(args),
        );
        assert!(ok, "{args:?}: {stderr}");
    };
    cli(&[
        "sp",
        "add",
        "--issuer",
        SP_ISSUER,
        "--acs-url",
        &format!("{sp_url}/acs"),
        "--cert",
        &sp_cert,
        "--attributes",
        "email,all_emails,locale",
        "--friendly-name",
        SP_NAME,
        "--return-to-sp-url",
        &format!("{sp_url}/"),
    ]);
    cli(&[
        "user",
        "add",
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--totp-secret",
        TOTP_SECRET,
    ]);
    let _idp = start_idp(dir.path(), &config, idp_port);

    let screenshot = dir.path().join("sign-in.png");
    let started = Instant::now();
    let (ok, stdout, stderr) = common::run(
        Command::new(&python)
            .arg(common::root().join("tests/browser/e2e.py"))
            .args(["--idp", &idp_url, "--sp-port", &sp_port.to_string()])
            .args(["--sp-entity-id", SP_ISSUER, "--sp-cert", &sp_cert])
            .arg("--sp-key")
            .arg(common::key("sp1-test-only.key"))
            .arg("--idp-cert")
            .arg(common::key("idp-2026-test-only.crt"))
            .args([
                "--sp-name",
                SP_NAME,
                "--email",
                EMAIL,
                "--password",
                PASSWORD,
            ])
            .args(["--totp-secret", TOTP_SECRET])
            .arg("--screenshot")
            .arg(&screenshot)
            .stdin(Stdio::null()),
    );
    eprintln!(
        "e2e.py ({:.1} s): {stdout}",
        started.elapsed().as_secs_f64()
    );
    assert!(ok, "the browser flow failed:\n{stdout}\n{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.contains("\"ok\": true"), "{stdout}\n{stderr}");
    assert!(summary.contains(EMAIL), "{summary}");
    let png = std::fs::read(&screenshot).expect("the screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );
}
