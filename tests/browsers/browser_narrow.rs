//! Every page at 320 px (SPEC 15): headless Chromium, its viewport emulated at 320 CSS px,
//! visits each page of the real binary in English, Spanish and French, from the landing
//! page through a whole sign-in for a python3-saml SP (with its banner, the wrong-password
//! and wrong-code pages, consent and the hand-off page) to the account page (and its
//! re-authentication), sign-up, forgot-password, the sign-up pages (the confirmation link
//! read from the IdP's outbox), the tools and error
//! pages, the sign-up security-key page included, and fails on sideways scrolling, an element past the right edge, an input without a label, or
//! a form whose submit button Tab does not reach (`tests/browser/narrow.py`). It also saves
//! screenshots of two pages, which must be PNGs 320 px wide. Missing tools fail the test.

use crate::common;

use std::process::{Command, Stdio};
use std::time::Instant;

use common::browser::{self, BrowserIdp};

const SP_ISSUER: &str = "urn:gov:gsa:SAML:2.0:profiles:sp:sso:test:narrow";
const SP_NAME: &str = "Narrow Screen Test Service of the Department of Examples";
const PASSWORD: &str = "narrow-test-password-1";
/// One user per locale: consent is asked once per user and SP, a TOTP code works once.
const USERS: &[(&str, &str, &str)] = &[
    (
        "en",
        "narrow-en@example.gov",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    ),
    (
        "es",
        "narrow-es@example.gov",
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
    ),
    (
        "fr",
        "narrow-fr@example.gov",
        "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
    ),
];
const SHOTS: &[&str] = &["sign-in-sp", "tools-decoded"];

/// The width of a PNG, from its IHDR chunk.
fn png_width(png: &[u8]) -> Option<u32> {
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") || png.get(12..16) != Some(b"IHDR") {
        return None;
    }
    let bytes: [u8; 4] = png.get(16..20)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

#[test]
fn every_page_fits_320_px_is_labelled_and_keyboard_usable_in_every_language() {
    let python = browser::python();
    browser::require_browser();
    let (idp_port, sp_port) = browser::free_ports();
    let idp = BrowserIdp::new(idp_port);
    let sp_url = format!("http://127.0.0.1:{sp_port}");
    let sp_cert = common::key("sp1-test-only.crt").display().to_string();
    idp.add_sp(SP_ISSUER, SP_NAME, &sp_url, &sp_cert);
    for (_, email, secret) in USERS {
        idp.add_user(email, PASSWORD, secret);
    }
    let _server = idp.start();

    let shots_dir = idp.dir.path().join("screenshots");
    let mut cmd = Command::new(&python);
    cmd.arg(common::root().join("tests/browser/narrow.py"))
        .args(["--idp", &idp.url, "--sp-port", &sp_port.to_string()])
        .args(["--sp-entity-id", SP_ISSUER, "--sp-cert", &sp_cert])
        .arg("--sp-key")
        .arg(common::key("sp1-test-only.key"))
        .arg("--idp-cert")
        .arg(common::key("idp-2026-test-only.crt"))
        .args(["--sp-name", SP_NAME])
        .arg("--outbox")
        .arg(idp.outbox())
        .arg("--screenshots")
        .arg(&shots_dir)
        .args(["--shots", &SHOTS.join(",")])
        .stdin(Stdio::null());
    for (locale, email, secret) in USERS {
        cmd.arg("--user")
            .arg(format!("{locale},{email},{PASSWORD},{secret}"));
    }
    let started = Instant::now();
    let (ok, stdout, stderr) = common::run(&mut cmd);
    eprintln!(
        "narrow.py ({:.1} s): {stdout}",
        started.elapsed().as_secs_f64()
    );
    assert!(ok, "a page failed at 320 px:\n{stdout}\n{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("JSON summary");
    assert_eq!(summary["ok"], true, "{summary}");
    let pages = summary["pages"].as_array().expect("pages");
    // 24 pages in each of 3 languages, each in its own language (the 404 page is English).
    assert_eq!(
        Some(pages.len() as u64),
        summary["expected"].as_u64(),
        "{summary}"
    );
    assert!(
        pages.len() >= 24 * USERS.len(),
        "every page of the tour: {summary}"
    );
    // The account page itself was shown (the sign-in was recent: no re-authentication).
    for page in pages.iter().filter(|p| p["page"] == "account") {
        assert_eq!(page["path"], "/account", "{page}");
    }
    // Each page speaks its locale, the skip link included: one text per language.
    let mut skip_links = std::collections::BTreeMap::new();
    for page in pages.iter().filter(|p| p["page"] != "not-found") {
        assert_eq!(page["lang"], page["locale"], "{page}");
        let locale = page["locale"].as_str().expect("locale");
        let text = page["skip_link"].as_str().expect("a skip link");
        assert_eq!(
            skip_links.entry(locale).or_insert(text),
            &text,
            "the skip link of {page}"
        );
    }
    let texts: std::collections::BTreeSet<_> = skip_links.values().collect();
    assert_eq!(texts.len(), USERS.len(), "{skip_links:?}");
    for name in [
        "sign-in-sp",
        "sign-in-error",
        "mfa",
        "mfa-error",
        "consent",
        "tools",
        "sign-up",
        "forgot-password",
    ] {
        assert!(
            pages
                .iter()
                .filter(|p| p["page"] == name)
                .all(|p| p["submits"].as_u64() == Some(1)),
            "{name} has one form whose submit button Tab reaches: {summary}"
        );
    }
    for name in SHOTS {
        for (locale, _, _) in USERS {
            let path = shots_dir.join(format!("{name}-{locale}.png"));
            let png = std::fs::read(&path).expect("the screenshot was saved");
            assert_eq!(png_width(&png), Some(320), "{}", path.display());
        }
    }
}
