//! The SP console in a real browser (SPEC 19): an agency administrator signs in to the real
//! binary, adds a python3-saml SP by pasting its metadata, reviews and saves it, adds a second
//! certificate, and then that SP signs the user in (python3-saml, strict). axe-core finds no
//! WCAG 2.1 A/AA violation on any console page, and every console page fits 320 px, labels
//! its inputs and is keyboard-usable in English, Spanish and French
//! (`tests/browser/console.py`). Screenshots of two pages are saved (the README shows them).
//! Missing tools (Chromium, the venv, axe-core) fail the test, never skip it.

use crate::common;

use std::process::{Command, Stdio};

use common::browser::{self, BrowserIdp};

const SP_ISSUER: &str = "urn:gov:gsa:SAML:2.0:profiles:sp:sso:test:console";
const SP_NAME: &str = "Console Test Benefits";
const EMAIL: &str = "agency.admin@example.gov";
const PASSWORD: &str = "console-test-password-1";
const TOTP_SECRET: &str = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU";

#[test]
fn an_agency_admin_adds_an_sp_from_its_metadata_and_it_signs_a_user_in() {
    let python = browser::python();
    browser::require_browser();
    let axe = browser::axe();
    let (idp_port, sp_port) = browser::free_ports();
    let idp = BrowserIdp::new(idp_port);
    idp.add_user(EMAIL, PASSWORD, TOTP_SECRET);
    idp.cli(&[
        "user",
        "grant",
        EMAIL,
        "--role",
        "agency-admin",
        "--agency",
        "GSA",
    ]);
    let _server = idp.start();
    let shots = idp.dir.path().join("shots");
    std::fs::create_dir_all(&shots).expect("screenshot directory");

    let (ok, stdout, stderr) = common::run(
        Command::new(&python)
            .arg(common::root().join("tests/browser/console.py"))
            .args(["--idp", &idp.url, "--sp-port", &sp_port.to_string()])
            .args(["--sp-entity-id", SP_ISSUER, "--sp-name", SP_NAME])
            .arg("--sp-cert")
            .arg(common::key("sp1-test-only.crt"))
            .arg("--sp-key")
            .arg(common::key("sp1-test-only.key"))
            .arg("--idp-cert")
            .arg(common::key("idp-2026-test-only.crt"))
            .arg("--second-cert")
            .arg(common::key("sp1-second-test-only.crt"))
            .args(["--email", EMAIL, "--password", PASSWORD])
            .args(["--totp-secret", TOTP_SECRET])
            .arg("--axe")
            .arg(&axe)
            .arg("--screenshots")
            .arg(&shots)
            .stdin(Stdio::null()),
    );
    eprintln!("console.py: {stdout}");
    assert!(ok, "the console flow failed:\n{stdout}\n{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(summary.contains("\"ok\": true"), "{stdout}\n{stderr}");
    for page in [
        "list",
        "new",
        "sp",
        "remove certificate",
        "events",
        "idp metadata",
    ] {
        assert!(
            summary.contains(&format!("\"{page}\"")),
            "axe-core did not check {page}: {summary}"
        );
    }
    for name in ["console-list.png", "console-sp.png"] {
        let png = std::fs::read(shots.join(name)).expect("the screenshot was saved");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is a PNG");
        if std::env::var_os("SAML_IDP_SAVE_SCREENSHOTS").is_some() {
            std::fs::copy(shots.join(name), common::root().join("docs").join(name)).expect("copy");
        }
    }
}
