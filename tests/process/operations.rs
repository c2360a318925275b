//! What an operator runs, from the outside: `keys generate | list`, `/readyz` naming a
//! certificate about to expire, `/metrics` families after real traffic, JSON log lines with
//! no secret or PII in a whole run's output, and `events` reading the audit trail.

use crate::common;

use std::path::Path;
use std::process::Command;

use chrono::Datelike;

use common::flow::form_field;
use common::process::{curl, fixture_config, sign_in_at_sp, start, start_with, SignIn, BIN};

const SP1: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1";
const EMAIL: &str = "grace.hopper@example.gov";
const PASSWORD: &str = "cobol-compiler-1952";
const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// `saml-idp ARGS` in `dir`: (success, stdout, stderr).
fn cli(dir: &Path, args: &[&str]) -> (bool, String, String) {
    common::run(
        Command::new(BIN)
            .current_dir(dir)
            .env_remove("SAML_IDP_CONFIG")
            .env_remove("SAML_IDP_DATABASE_URL")
            .env_remove("SAML_IDP_DATA_DIR")
            .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY)
            .args(args),
    )
}

fn openssl(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn this_year() -> u16 {
    u16::try_from(common::wall_clock().year()).expect("year")
}

#[test]
fn keys_generate_makes_a_key_the_server_signs_with_and_list_shows_it() {
    let dir = tempfile::tempdir().expect("dir");
    let (year, next) = (this_year(), this_year() + 1);
    let mut entries = String::from("mode = \"production\"\n");
    for y in [year, next] {
        let (ok, out, err) = cli(
            dir.path(),
            &[
                "keys",
                "generate",
                "--year",
                &y.to_string(),
                "--out",
                "keys",
            ],
        );
        assert!(ok, "{err}");
        let crt = dir.path().join(format!("keys/saml-idp-{y}.crt"));
        let key = dir.path().join(format!("keys/saml-idp-{y}.key"));
        // The printed entry is TOML naming the files, after a comment with the fingerprint
        // that openssl computes too.
        let entry: toml::Value = out.parse().expect("the entry is TOML");
        let first = &entry["signing_keys"][0];
        assert_eq!(first["year"].as_integer(), Some(i64::from(y)));
        assert_eq!(
            Path::new(first["certificate"].as_str().expect("certificate")),
            crt.canonicalize().expect("crt")
        );
        let fingerprint = openssl(&[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha256",
            "-in",
            crt.to_str().expect("path"),
        ]);
        let fingerprint = fingerprint.rsplit('=').next().expect("value");
        assert!(
            out.starts_with(&format!("# {y}: SHA-256 fingerprint {fingerprint}")),
            "{out}"
        );
        assert_eq!(
            openssl(&[
                "x509",
                "-noout",
                "-enddate",
                "-in",
                crt.to_str().expect("path")
            ]),
            format!("notAfter=Mar 31 23:59:59 {} GMT", y + 1)
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).expect("key").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the private key is the owner's only");
        }
        entries.push_str(&out);
    }
    // Never replaced: a second run for the same year fails and leaves the files as they were.
    let before = std::fs::read(dir.path().join(format!("keys/saml-idp-{next}.key"))).expect("key");
    let (ok, _, err) = cli(
        dir.path(),
        &[
            "keys",
            "generate",
            "--year",
            &next.to_string(),
            "--out",
            "keys",
        ],
    );
    assert!(!ok && err.contains("already exists"), "{err}");
    let after = std::fs::read(dir.path().join(format!("keys/saml-idp-{next}.key"))).expect("key");
    assert_eq!(before, after);
    let (ok, _, err) = cli(dir.path(), &["keys", "generate", "--year", "1850"]);
    assert!(!ok && err.contains("not a year to make a key for"), "{err}");

    let config = common::write(dir.path(), "production.toml", entries.as_bytes());
    let config = config.to_str().expect("path");
    let (ok, out, err) = cli(dir.path(), &["--config", config, "keys", "list", "--json"]);
    assert!(ok, "{err}");
    let listed: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(listed.len(), 2, "{out}");
    for (entry, y) in listed.iter().zip([year, next]) {
        assert_eq!(entry["year"], u64::from(y));
        assert!(entry["days_left"].as_i64().expect("days") > 30, "{entry}");
        assert!(
            entry["subject"]
                .as_str()
                .expect("subject")
                .contains(&format!("saml-idp signing {y}")),
            "{entry}"
        );
    }
    let (ok, text, _) = cli(dir.path(), &["--config", config, "keys", "list"]);
    assert!(
        ok && text.lines().count() == 3 && !text.contains("expires soon"),
        "{text}"
    );

    // The server signs next year's metadata with the generated key, and is ready.
    let server = start(dir.path(), &["--config", config]);
    let (status, metadata) = curl(&server, &format!("/api/saml/metadata{next}"));
    assert_eq!(status, 200);
    let cert = dir.path().join(format!("keys/saml-idp-{next}.crt"));
    assert!(
        common::oracles::metadata_verifies(&metadata, &cert),
        "xmlsec1 verifies the metadata"
    );
    assert_eq!(curl(&server, "/readyz"), (200, b"ready\n".to_vec()));
}

#[test]
fn readyz_names_a_certificate_that_expires_within_thirty_days() {
    let dir = tempfile::tempdir().expect("dir");
    let year = this_year();
    // A test-only key made here, whose certificate ends in ten days.
    let (key, crt) = (dir.path().join("soon.key"), dir.path().join("soon.crt"));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=expiring test-only key",
        "-days",
        "10",
        "-keyout",
        key.to_str().expect("path"),
        "-out",
        crt.to_str().expect("path"),
    ]);
    let config = format!(
        "[[signing_keys]]\nyear = {year}\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        crt.display(),
        key.display()
    );
    let config = common::write(dir.path(), "soon.toml", config.as_bytes());
    let config = config.to_str().expect("path");
    let server = start(dir.path(), &["--config", config]);
    let (status, body) = curl(&server, "/readyz");
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "an expiring certificate still signs: {body}");
    assert!(body.starts_with("ready\n"), "{body}");
    assert!(
        body.contains(&format!("the signing certificate of {year} expires on"))
            && body.contains("(9 days)")
            && body.contains(&format!("saml-idp keys generate --year {}", year + 1)),
        "{body}"
    );
    let (_, metrics) = curl(&server, "/metrics");
    let metrics = String::from_utf8_lossy(&metrics);
    let not_after: i64 = metrics
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!(
                "saml_idp_signing_certificate_not_after_seconds{{year=\"{year}\"}} "
            ))
        })
        .and_then(|v| v.trim().parse().ok())
        .expect("expiry gauge");
    let in_ten_days = common::wall_clock().timestamp() + 10 * 86_400;
    assert!((not_after - in_ten_days).abs() < 120, "{not_after}");
    let (ok, listed, err) = cli(dir.path(), &["--config", config, "keys", "list"]);
    assert!(ok && listed.contains("expires soon"), "{listed}{err}");
}

/// One whole run with JSON logs: a sign-in at an SP, a wrong password, a refused request;
/// then every line is JSON, each request has its line with route, status, latency and error
/// code, and nothing in the output names the user or carries a secret. `/metrics` counts
/// what happened, and `events` reads it back.
#[test]
fn a_json_logged_run_keeps_secrets_out_and_metrics_and_events_tell_what_happened() {
    let dir = tempfile::tempdir().expect("dir");
    let config = fixture_config(dir.path());
    let config = config.to_str().expect("path");
    let base = ["--config", config, "--base-url", "http://idp.localtest"];
    let setup = |args: &[&str]| {
        let all: Vec<&str> = base.iter().chain(args).copied().collect();
        let (ok, out, err) = cli(dir.path(), &all);
        assert!(ok, "{args:?}: {err}");
        out
    };
    let sps = common::fixture("service_providers.toml");
    setup(&["sp", "import", sps.to_str().expect("path")]);
    let added = setup(&[
        "user",
        "add",
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--totp-secret",
        TOTP,
    ]);
    let public_id = added
        .lines()
        .find_map(|l| l.strip_prefix("user "))
        .expect("the new user's public ID")
        .to_string();
    let log = dir.path().join("server.log");
    let mut server = start_with(
        dir.path(),
        &base,
        &[("SAML_IDP_LOG_FORMAT", "json")],
        Some(&log),
    );
    let jar = dir.path().join("cookies.txt");

    // A wrong password first, from another browser.
    let other = dir.path().join("other.txt");
    let csrf =
        common::process::csrf_of(&common::process::browse(server.port, &other, "/sign-in", None).2);
    let wrong = format!("csrf={csrf}&email=grace.hopper%40example.gov&password=not-the-password");
    assert_eq!(
        common::process::browse(server.port, &other, "/sign-in", Some(&wrong)).0,
        401
    );
    let page = sign_in_at_sp(
        &[server.port],
        &jar,
        &SignIn {
            issuer: SP1,
            year: 2026,
            email: EMAIL,
            password: PASSWORD,
            totp_secret: TOTP,
        },
    );
    let saml_response = form_field(&page.page, "SAMLResponse").expect("SAMLResponse");
    let (status, refused_page) = curl(
        &server,
        "/api/saml/auth2026?SAMLRequest=bm90IGEgcmVxdWVzdA%3D%3D",
    );
    assert_eq!(status, 400);
    // The page's reference finds its event (`events --id`, below).
    let refused_page = String::from_utf8_lossy(&refused_page).into_owned();
    let reference = refused_page
        .split("<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("a reference on the error page")
        .to_string();
    let (status, metrics) = curl(&server, "/metrics");
    assert_eq!(status, 200);
    let metrics = String::from_utf8_lossy(&metrics).into_owned();
    let cookie = std::fs::read_to_string(&jar)
        .expect("jar")
        .lines()
        .find(|l| l.contains("saml_idp_session"))
        .and_then(|l| l.split('\t').next_back())
        .expect("session cookie")
        .to_string();

    // SIGTERM: the audit buffer is stored before the process exits.
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    let _ = server.child.wait();

    let output = std::fs::read_to_string(&log).expect("log");
    for secret in [
        EMAIL,
        "grace.hopper",
        PASSWORD,
        "not-the-password",
        TOTP,
        cookie.as_str(),
        &saml_response[..60],
        "SAMLRequest",
        "bm90IGEgcmVxdWVzdA",
    ] {
        assert!(
            !output.contains(secret),
            "the log holds {secret:?}:\n{output}"
        );
    }
    let lines: Vec<serde_json::Value> = output
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["target"] == "saml_idp::request")
        .collect();
    for line in &requests {
        for field in [
            "method",
            "route",
            "status",
            "latency_ms",
            "timestamp",
            "level",
        ] {
            assert!(!line[field].is_null(), "{field} missing in {line}");
        }
    }
    let find = |route: &str, status: u64| {
        requests
            .iter()
            .find(|l| l["route"] == route && l["status"] == status)
            .unwrap_or_else(|| panic!("no {status} line for {route}:\n{output}"))
    };
    assert_eq!(find("/api/saml/auth{year}", 303)["year"], "2026");
    let refused = find("/api/saml/auth{year}", 400);
    assert!(
        !refused["error"].as_str().expect("error").is_empty(),
        "{refused}"
    );
    find("/api/saml/complete", 200);
    find("/sign-in/mfa", 303);

    // Metrics: requests by endpoint and year, the Response to SP1, sign-ins by step.
    for needle in [
        "saml_idp_http_requests_total{endpoint=\"/api/saml/auth{year}\",error=\"\",status=\"303\",year=\"2026\"} 1",
        &format!("saml_idp_saml_responses_total{{sp=\"{SP1}\"}} 1"),
        "saml_idp_sign_ins_total{reason=\"password\",result=\"success\",step=\"password\"} 1",
        "saml_idp_sign_ins_total{reason=\"totp\",result=\"success\",step=\"second_factor\"} 1",
        "saml_idp_sign_ins_total{reason=\"wrong_password\",result=\"failure\",step=\"password\"} 1",
        // Both years' metadata, signed at start, and the one Response.
        "saml_idp_xml_signing_seconds_count 3",
        "saml_idp_db_pool_connections{state=\"max\"} 4",
        "saml_idp_service_providers{state=\"active\"}",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("saml_idp_saml_errors_total{")
                && l.contains("event=\"SAML Auth Request\"")),
        "{metrics}"
    );
    assert!(!metrics.contains(EMAIL) && !metrics.contains(&cookie));

    // The audit trail, read back without SQL.
    let events = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["--config", config, "events", "--json"];
        all.extend_from_slice(args);
        let (ok, out, err) = cli(dir.path(), &all);
        assert!(ok, "{args:?}: {err}");
        assert!(!out.contains(EMAIL), "{out}");
        out.lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    };
    let all = events(&[]);
    assert!(
        all.iter()
            .any(|e| e["event"] == "SAML Auth" && e["success"] == true && e["issuer"] == SP1),
        "{all:?}"
    );
    let failures = events(&["--type", "Sign In Failure"]);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["detail"], "wrong_password");
    let for_user = events(&["--user", &public_id]);
    assert!(
        for_user.iter().any(|e| e["event"] == "Sign In Success")
            && for_user.iter().all(|e| e["user"] == public_id.as_str()),
        "{for_user:?}"
    );
    let for_sp1 = events(&["--sp", SP1]);
    assert!(!for_sp1.is_empty() && for_sp1.iter().all(|e| e["issuer"] == SP1));
    assert_eq!(events(&["--since", "1h"]).len(), all.len());
    assert!(events(&["--since", "2999-01-01T00:00:00Z"]).is_empty());
    let last = events(&["--limit", "1"]);
    assert_eq!(last.len(), 1);
    assert_eq!(last[0], all[all.len() - 1], "the most recent one");
    let (ok, text, _) = cli(dir.path(), &["--config", config, "events"]);
    assert!(ok && text.contains("Sign In Failure") && text.contains("wrong_password"));
    let by_reference = events(&["--id", &reference.to_ascii_lowercase()]);
    assert_eq!(by_reference.len(), 1, "{reference}: {by_reference:?}");
    assert_eq!(by_reference[0]["event"], "SAML Auth Request");
    assert_eq!(by_reference[0]["reference"], reference.as_str());
    assert!(events(&["--id", "0000000000"]).is_empty());
    let (ok, _, err) = cli(
        dir.path(),
        &["--config", config, "events", "--since", "last week"],
    );
    assert!(!ok && err.contains("--since"), "{err}");
}
