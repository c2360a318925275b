//! A real browser registers security keys and signs in with them (SPEC 17, 18): headless
//! Chromium's WebAuthn virtual authenticator (CTAP2, USB, user verification) through
//! Selenium, against the real binary at `http://localhost:PORT` (an IP address is not a
//! valid relying-party ID; localhost is a secure context). A user made with `saml-idp user
//! add` signs in with a TOTP code, adds a key on `/account/security-keys`, signs out, and a
//! phishing-resistant AuthnRequest from the python3-saml test SP then goes password →
//! security key → consent, and the SP accepts the Response with that AuthnContextClassRef.
//! Then a person creates an account from the SP's sign-in page with a security key as the
//! second factor (the confirmation link read from the IdP's outbox), lands at the SP
//! phishing resistant, and signs in again with password and key. The Python side is
//! `tests/browser/webauthn.py`. Screenshots go to a temporary directory, or to
//! `SAML_IDP_SCREENSHOT_DIR` when it is set (`docs/` holds four of them).

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::browser::{self, BrowserIdp};

const SP_ISSUER: &str = "urn:gov:gsa:SAML:2.0:profiles:sp:sso:test:webauthn";
const SP_NAME: &str = "Key Test SP";
const EMAIL: &str = "ada.key@example.gov";
const NEW_EMAIL: &str = "grace.key@example.gov";
const PASSWORD: &str = "browser-test-password-2";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const PHISHING_RESISTANT: &str =
    "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true";
const SCREENSHOTS: &[&str] = &[
    "security-keys-empty.png",
    "security-keys-added.png",
    "account.png",
    "sign-in-security-key.png",
    "sign-up.png",
    "sign-up-security-key.png",
];

#[test]
fn a_real_browser_signs_up_and_signs_in_with_security_keys_phishing_resistant() {
    let python = browser::python();
    browser::require_browser();
    let (idp_port, sp_port) = browser::free_ports();
    let idp = BrowserIdp::on("localhost", idp_port);
    let sp_cert = common::key("sp1-test-only.crt").display().to_string();
    idp.add_sp(
        SP_ISSUER,
        SP_NAME,
        &format!("http://localhost:{sp_port}"),
        &sp_cert,
    );
    idp.add_user(EMAIL, PASSWORD, TOTP_SECRET);
    let _server = idp.start();

    let shots = std::env::var_os("SAML_IDP_SCREENSHOT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| idp.dir.path().join("screenshots"));
    let started = Instant::now();
    let (ok, stdout, stderr) = common::run(
        Command::new(&python)
            .arg(common::root().join("tests/browser/webauthn.py"))
            .args(["--idp", &idp.url, "--sp-port", &sp_port.to_string()])
            .args(["--sp-entity-id", SP_ISSUER, "--sp-cert", &sp_cert])
            .arg("--sp-key")
            .arg(common::key("sp1-test-only.key"))
            .arg("--idp-cert")
            .arg(common::key("idp-2026-test-only.crt"))
            .args(["--email", EMAIL, "--password", PASSWORD])
            .args(["--totp-secret", TOTP_SECRET])
            .args(["--authn-context", PHISHING_RESISTANT])
            .args(["--key-name", "Virtual key", "--new-email", NEW_EMAIL])
            .arg("--outbox")
            .arg(idp.outbox())
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
    for field in [
        "authn_context",
        "sign_up_authn_context",
        "sign_up_again_authn_context",
    ] {
        assert_eq!(summary[field], PHISHING_RESISTANT, "{field}: {summary}");
    }
    assert!(
        summary["sign_count"].as_u64().unwrap_or(0) >= 1,
        "the key signed: {summary}"
    );
    for name in SCREENSHOTS {
        let png = std::fs::read(shots.join(name)).expect("the screenshot was saved");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
    }
}
