//! A real browser (headless Chromium driven by Selenium) signs in through the real binary to
//! a python3-saml service provider: SP link, email and password, TOTP, consent, and the
//! auto-submitted Response, which the SP decrypts and verifies in strict mode. The Python
//! side is `tests/browser/` (run with the venv of `scripts/python-sp-env`); Chromium and
//! chromedriver come from `scripts/install-deps`. Missing tools fail the test, never skip it.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Instant;

use common::browser::{self, BrowserIdp};

const SP_ISSUER: &str = "urn:gov:gsa:SAML:2.0:profiles:sp:sso:test:browser";
const SP_NAME: &str = "Browser Test SP";
const EMAIL: &str = "grace@example.gov";
const PASSWORD: &str = "browser-test-password-1";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

#[test]
fn a_real_browser_signs_in_to_a_python3_saml_sp() {
    let python = browser::python();
    browser::require_browser();
    let (idp_port, sp_port) = browser::free_ports();
    let idp = BrowserIdp::new(idp_port);
    let idp_url = idp.url.clone();
    let sp_url = format!("http://127.0.0.1:{sp_port}");
    let sp_cert = common::key("sp1-test-only.crt").display().to_string();
    idp.add_sp(SP_ISSUER, SP_NAME, &sp_url, &sp_cert);
    idp.add_user(EMAIL, PASSWORD, TOTP_SECRET);
    let _server = idp.start();

    let screenshot = idp.dir.path().join("sign-in.png");
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
    // `SAML_IDP_SAVE_SCREENSHOTS=1` refreshes the README's copy, as browser_console does.
    if std::env::var_os("SAML_IDP_SAVE_SCREENSHOTS").is_some() {
        std::fs::copy(&screenshot, common::root().join("docs/sign-in.png")).expect("copy");
    }
}
