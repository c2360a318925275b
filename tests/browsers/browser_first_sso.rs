//! A newcomer's first single sign-on (SPEC 20), in headless Chromium against the real binary
//! on its embedded defaults: no configuration file, a fresh data directory, development
//! mode, so `base_url` is `http://localhost:PORT` and security keys work. From `/` to the
//! demo SP, a sign-up (the confirmation link read from the outbox the "check your email"
//! page names) with a security key from the virtual authenticator, the demo SP's result
//! page with a verified, phishing-resistant Response, SP-initiated logout; the same again
//! for two more newcomers in French at 320 px and Spanish at 1280 px (every page of the
//! flow audited); then axe-core (WCAG 2.1 A and AA) and the 320 px checks on every page
//! reachable by GET (the account pages, the help and tool pages, the SAML error page, the
//! console's refusal), in English, Spanish and French, at 1280 and 320 px. The Python side is `tests/browser/first_sso.py`. Screenshots go to
//! `SAML_IDP_SCREENSHOT_DIR` when it is set (`docs/` holds two of them).

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::browser;

#[test]
fn a_newcomer_signs_up_with_a_security_key_at_the_demo_sp_and_logs_out() {
    let python = browser::python();
    browser::require_browser();
    let axe = browser::axe();
    let (port, _) = browser::free_ports();
    let data = tempfile::tempdir().expect("data directory");
    let _server = browser::start_on_defaults(data.path(), port);
    let shots = std::env::var_os("SAML_IDP_SCREENSHOT_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| data.path().join("screenshots"));

    let (ok, stdout, stderr) = common::run(
        Command::new(&python)
            .arg(common::root().join("tests/browser/first_sso.py"))
            .args(["--idp", &format!("http://localhost:{port}")])
            .args(["--email", "newcomer@example.gov"])
            .arg("--axe")
            .arg(&axe)
            .arg("--screenshots")
            .arg(&shots)
            .stdin(Stdio::null()),
    );
    eprintln!("first_sso.py: {stdout}");
    assert!(ok, "the first sign-on failed:\n{stdout}\n{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.contains("\"ok\": true"), "{stdout}\n{stderr}");
    for page in [
        "/account (fr, 320 px)",
        "/demo-sp/ (es, 1280 px)",
        "/sign-up (fr, 320 px)",
    ] {
        assert!(summary.contains(page), "not checked: {page}: {summary}");
    }
}
