//! A real browser registers a security key and signs in with it (SPEC 18): headless
//! Chromium's WebAuthn virtual authenticator (CTAP2, USB, user verification) through
//! Selenium, against the real binary at `http://localhost:PORT` (an IP address is not a
//! valid relying-party ID; localhost is a secure context). A user made with `saml-idp user
//! add` signs in with a TOTP code, adds a key on `/account/security-keys`, signs out, and a
//! phishing-resistant AuthnRequest from the python3-saml test SP then goes password →
//! security key → consent, and the SP accepts the Response with that AuthnContextClassRef.
//! The Python side is `tests/browser/webauthn.py`. Screenshots of the security-key pages go
//! to a temporary directory, or to `SAML_IDP_SCREENSHOT_DIR` when it is set.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_saml-idp");
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SP_ISSUER: &str = "urn:gov:gsa:SAML:2.0:profiles:sp:sso:test:webauthn";
const EMAIL: &str = "ada.key@example.gov";
const PASSWORD: &str = "browser-test-password-2";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const PHISHING_RESISTANT: &str =
    "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true";

/// The IdP process, killed when the test ends however it ends.
struct Idp(Child);

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_ports() -> (u16, u16) {
    let bind = || TcpListener::bind("127.0.0.1:0").expect("free port");
    let (a, b) = (bind(), bind());
    let port = |l: &TcpListener| l.local_addr().expect("addr").port();
    (port(&a), port(&b))
}

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
        "no Python venv at {} (with python3-saml and selenium): run scripts/python-sp-env",
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

/// The IdP's config: reached as `http://localhost:{port}`, the test-only keys.
fn config(dir: &Path, idp_port: u16) -> PathBuf {
    let key = |name: &str| common::key(name).display().to_string();
    let text = format!(
        "base_url = \"http://localhost:{idp_port}\"\n\n[[signing_keys]]\nyear = 2025\ncertificate = \"{}\"\nprivate_key = \"{}\"\n\n[[signing_keys]]\nyear = 2026\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        key("idp-2025-test-only.crt"),
        key("idp-2025-test-only.key"),
        key("idp-2026-test-only.crt"),
        key("idp-2026-test-only.key"),
    );
    common::write(dir, "saml-idp.toml", text.as_bytes())
}

fn idp_command(dir: &Path, config: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_remove("SAML_IDP_CONFIG")
        .env_remove("SAML_IDP_DATABASE_URL")
        .env_remove("SAML_IDP_DATA_DIR")
        .env_remove("SAML_IDP_BASE_URL")
        .env_remove("SAML_IDP_LISTEN")
        .env_remove("SAML_IDP_MODE")
        .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY)
        .arg("--config")
        .arg(config);
    cmd
}

fn start_idp(dir: &Path, config: &Path, port: u16) -> Idp {
    let child = idp_command(dir, config)
        .args(["serve", "--listen"])
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
fn a_real_browser_adds_a_security_key_and_signs_in_with_it_phishing_resistant() {
    let python = python();
    require_browser();
    let dir = tempfile::tempdir().expect("dir");
    let (idp_port, sp_port) = free_ports();
    let idp_url = format!("http://localhost:{idp_port}");
    let config = config(dir.path(), idp_port);
    let sp_cert = common::key("sp1-test-only.crt").display().to_string();
    let cli = |args: &[&str]| {
        let (ok, _, stderr) = common::run(idp_command(dir.path(), &config).args(args));
        assert!(ok, "{args:?}: {stderr}");
    };
    cli(&[
        "sp",
        "add",
        "--issuer",
        SP_ISSUER,
        "--acs-url",
        &format!("http://localhost:{sp_port}/acs"),
        "--cert",
        &sp_cert,
        "--attributes",
        "email",
        "--friendly-name",
        "Key Test SP",
        "--return-to-sp-url",
        &format!("http://localhost:{sp_port}/"),
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

    let shots = std::env::var_os("SAML_IDP_SCREENSHOT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("screenshots"));
    let started = Instant::now();
    let (ok, stdout, stderr) = common::run(
        Command::new(&python)
            .arg(common::root().join("tests/browser/webauthn.py"))
            .args(["--idp", &idp_url, "--sp-port", &sp_port.to_string()])
            .args(["--sp-entity-id", SP_ISSUER, "--sp-cert", &sp_cert])
            .arg("--sp-key")
            .arg(common::key("sp1-test-only.key"))
            .arg("--idp-cert")
            .arg(common::key("idp-2026-test-only.crt"))
            .args(["--email", EMAIL, "--password", PASSWORD])
            .args(["--totp-secret", TOTP_SECRET])
            .args(["--authn-context", PHISHING_RESISTANT])
            .args(["--key-name", "Virtual key"])
            .arg("--screenshots")
            .arg(&shots)
            .stdin(Stdio::null()),
    );
    eprintln!(
        "webauthn.py ({:.1} s): {stdout}",
        started.elapsed().as_secs_f64()
    );
    assert!(ok, "the browser flow failed:\n{stdout}\n{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("JSON summary");
    assert_eq!(summary["ok"], true, "{stdout}\n{stderr}");
    assert_eq!(summary["authn_context"], PHISHING_RESISTANT);
    assert!(
        summary["sign_count"].as_u64().unwrap_or(0) >= 1,
        "the key signed: {summary}"
    );
    for name in [
        "security-keys-empty.png",
        "security-keys-added.png",
        "sign-in-security-key.png",
    ] {
        let png = std::fs::read(shots.join(name)).expect("the screenshot was saved");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
    }
}
