//! The `saml-idp` binary as an operator runs it: `sp add | update | show | list | remove |
//! import | import-metadata` on SQLite (and PostgreSQL when `TEST_DATABASE_URL` is set), each
//! failure one line on stderr with nothing written; start-up errors of `metadata --year`.
use crate::common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const ISSUER: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:cli";
const ACS: &str = "https://cli.example.gov/saml/acs";

/// What one run of the binary did.
#[derive(Debug)]
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

fn exec(cmd: &mut Command) -> Out {
    let out = cmd.output().expect("saml-idp runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The binary in `dir`, with `dir` as its data directory and no configuration inherited
/// from the environment.
fn bin(dir: &Path) -> Command {
    common::saml_idp(dir)
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn key(name: &str) -> String {
    path(&common::key(name))
}

/// Fails with exactly one non-empty stderr line that mentions every `needle`, and prints
/// nothing on stdout.
fn assert_one_line_failure(out: &Out, needles: &[&str], context: &str) {
    assert!(
        out.code.is_some_and(|c| c != 0),
        "{context}: should fail: {out:?}"
    );
    assert_eq!(out.stdout, "", "{context}: stdout must be empty");
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert!(
        lines.len() == 1 && !lines[0].trim().is_empty(),
        "{context}: exactly one stderr line expected, got {:?}",
        out.stderr
    );
    for needle in needles {
        assert!(
            lines[0].contains(needle),
            "{context}: {:?} should mention {needle:?}",
            lines[0]
        );
    }
}

fn assert_success(out: &Out, context: &str) {
    assert!(out.ok(), "{context}: should succeed: {out:?}");
    assert_eq!(out.stderr, "", "{context}: stderr");
}

/// Where one run of a registry scenario keeps its service providers: an SQLite file in a
/// fresh data directory, or a fresh PostgreSQL schema.
struct Target {
    name: &'static str,
    dir: tempfile::TempDir,
    db: Option<common::TestDb>,
}

impl Target {
    fn sqlite() -> Target {
        Target {
            name: "sqlite",
            dir: tempfile::tempdir().expect("temp dir"),
            db: None,
        }
    }

    fn postgres(base: &str) -> Target {
        Target {
            name: "postgres",
            dir: tempfile::tempdir().expect("temp dir"),
            db: Some(common::postgres_db(base)),
        }
    }

    /// An empty registry on the same backend.
    fn fresh(&self) -> Target {
        match (&self.db, common::postgres_url()) {
            (Some(_), Some(base)) => Target::postgres(&base),
            _ => Target::sqlite(),
        }
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn run<I, S>(&self, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = bin(self.dir());
        if let Some(db) = &self.db {
            cmd.arg("--database-url").arg(&db.url);
        }
        let out = exec(cmd.args(args));
        if self.db.is_some() {
            // The PostgreSQL run must really use PostgreSQL, not the data directory's SQLite.
            assert!(
                !self.dir().join("saml-idp.sqlite3").exists(),
                "{}: an SQLite database was created",
                self.name
            );
        }
        out
    }

    fn sp<I, S>(&self, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<std::ffi::OsString> = vec!["sp".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self.run(all)
    }

    fn list_json(&self) -> Vec<Value> {
        let out = self.sp(["list", "--json"]);
        assert_success(&out, &format!("{}: sp list --json", self.name));
        match serde_json::from_str(&out.stdout).expect("sp list --json prints JSON") {
            Value::Array(items) => items,
            other => panic!("{}: sp list --json printed {other}", self.name),
        }
    }

    fn assert_empty(&self, context: &str) {
        assert_eq!(
            self.list_json(),
            Vec::<Value>::new(),
            "{}: {context}: nothing may be written",
            self.name
        );
    }

    fn show_json(&self, issuer: &str) -> Value {
        let out = self.sp(["show", issuer, "--json"]);
        assert_success(&out, &format!("{}: sp show {issuer} --json", self.name));
        serde_json::from_str(&out.stdout).expect("sp show --json prints JSON")
    }

    /// `sp add` of a valid SP with the given extra options.
    fn add(&self, issuer: &str, extra: &[&str]) {
        let mut args = vec!["add", "--issuer", issuer, "--acs-url", ACS];
        let cert = key("sp1-test-only.crt");
        args.extend(["--cert", &cert]);
        args.extend(extra);
        let out = self.sp(&args);
        assert_success(&out, &format!("{}: sp add {issuer}", self.name));
    }

    fn copy_key(&self, name: &str) {
        std::fs::copy(common::key(name), self.dir().join(name)).expect("copy fixture");
    }
}

/// SQLite always, PostgreSQL as well when `TEST_DATABASE_URL` is set.
fn targets() -> Vec<Target> {
    let mut out = vec![Target::sqlite()];
    if let Some(base) = common::postgres_url() {
        out.push(Target::postgres(&base));
    } else {
        eprintln!("TEST_DATABASE_URL not set: PostgreSQL backend skipped");
    }
    out
}

fn without(mut value: Value, keys: &[&str]) -> Value {
    if let Value::Object(map) = &mut value {
        for key in keys {
            map.remove(*key);
        }
    }
    value
}

fn der_of_pem(pem: &str) -> Vec<u8> {
    openssl::x509::X509::from_pem(pem.as_bytes())
        .and_then(|c| c.to_der())
        .expect("PEM certificate")
}

/// The text of every `<ds:X509Certificate>` in `xml`, whitespace removed.
fn x509_certificates(xml: &str) -> Vec<String> {
    xml.split("<ds:X509Certificate>")
        .skip(1)
        .map(|rest| {
            let text = rest.split("</ds:X509Certificate>").next().unwrap_or("");
            text.chars().filter(|c| !c.is_whitespace()).collect()
        })
        .collect()
}

fn json_certs_der(sp: &Value) -> Vec<Vec<u8>> {
    sp["certs"]
        .as_array()
        .expect("certs array")
        .iter()
        .map(|c| der_of_pem(c.as_str().expect("PEM string")))
        .collect()
}

// ---------------------------------------------------------------------------------------
// sp add: every failure is one line, nothing on stdout, nothing written.

fn assert_add_fails(args: &[&str], needles: &[&str]) {
    for t in targets() {
        let mut all = vec!["add"];
        all.extend(args);
        let out = t.sp(&all);
        assert_one_line_failure(&out, needles, &format!("{}: sp {}", t.name, all.join(" ")));
        t.assert_empty("failed sp add");
    }
}

/// An SP that could never sign anyone in is refused, with the fix (SPEC 20).
#[test]
fn add_of_an_sp_that_could_never_succeed_fails_with_the_fix() {
    assert_add_fails(
        &["--issuer", ISSUER, "--acs-url", ACS],
        &["certs", "no certificate", "block_encryption = none"],
    );
    assert_add_fails(
        &[
            "--issuer",
            ISSUER,
            "--acs-url",
            ACS,
            "--block-encryption",
            "none",
            "--require-signed-requests",
        ],
        &["certs", "signed requests", "--cert FILE"],
    );
}

/// `sp update` and `sp import` refuse the same traps, with the fix, and change nothing.
#[test]
fn update_and_import_of_an_sp_that_could_never_succeed_fail_with_the_fix() {
    for t in targets() {
        // Registered without encryption and without a certificate: valid. Turning
        // encryption on (or requiring signed requests) then leaves nothing to use.
        let out = t.sp([
            "add",
            "--issuer",
            ISSUER,
            "--acs-url",
            ACS,
            "--block-encryption",
            "none",
        ]);
        assert_success(&out, &format!("{}: plain add", t.name));
        let before = t.show_json(ISSUER);
        for (option, needles) in [
            (
                "--block-encryption=aes256-gcm",
                ["certs", "no certificate", "block_encryption = none"],
            ),
            (
                "--require-signed-requests",
                ["certs", "signed requests", "--cert FILE"],
            ),
        ] {
            let out = t.sp(["update", ISSUER, option]);
            assert_one_line_failure(&out, &needles, &format!("{}: sp update {option}", t.name));
            assert_eq!(t.show_json(ISSUER), before, "{}: nothing written", t.name);
        }
        // An import with one such SP among good ones: refused, all or none.
        let fresh = t.fresh();
        let file = fresh.dir().join("sps.toml");
        let cert = key("sp1-test-only.crt");
        std::fs::write(
            &file,
            format!(
                "[[service_provider]]\nissuer = \"urn:ok\"\nacs_urls = [\"{ACS}\"]\ncerts = [\"{cert}\"]\n\n\
                 [[service_provider]]\nissuer = \"urn:trap\"\nacs_urls = [\"{ACS}\"]\n"
            ),
        )
        .expect("write");
        let out = fresh.sp(["import".as_ref(), file.as_os_str()]);
        assert_one_line_failure(
            &out,
            &["urn:trap", "no certificate", "block_encryption = none"],
            &format!("{}: sp import", t.name),
        );
        fresh.assert_empty("failed sp import");
    }
}

#[test]
fn add_with_a_relative_acs_url_fails() {
    let cert = key("sp1-test-only.crt");
    assert_add_fails(
        &["--issuer", ISSUER, "--acs-url", "/acs", "--cert", &cert],
        &["acs_urls"],
    );
}

#[test]
fn add_with_an_unparseable_certificate_fails() {
    let not_a_cert = key("sp1-test-only.key");
    assert_add_fails(
        &["--issuer", ISSUER, "--acs-url", ACS, "--cert", &not_a_cert],
        &["certs", "sp1-test-only.key"],
    );
}

#[test]
fn add_with_a_1024_bit_certificate_fails() {
    let weak = key("weak-1024-test-only.crt");
    assert_add_fails(
        &["--issuer", ISSUER, "--acs-url", ACS, "--cert", &weak],
        &["certs", "weak-1024-test-only.crt", "1024"],
    );
}

#[test]
fn add_with_a_non_rsa_certificate_fails() {
    let ec = key("ec-test-only.crt");
    assert_add_fails(
        &["--issuer", ISSUER, "--acs-url", ACS, "--cert", &ec],
        &["certs", "ec-test-only.crt", "RSA"],
    );
}

#[test]
fn add_with_ial_3_fails() {
    assert_add_fails(
        &["--issuer", ISSUER, "--acs-url", ACS, "--ial", "3"],
        &["ial"],
    );
}

#[test]
fn add_with_an_unknown_attribute_fails() {
    assert_add_fails(
        &[
            "--issuer",
            ISSUER,
            "--acs-url",
            ACS,
            "--attributes",
            "email,shoe_size",
        ],
        &["attribute_bundle", "shoe_size"],
    );
}

#[test]
fn add_with_an_unknown_block_encryption_fails() {
    assert_add_fails(
        &[
            "--issuer",
            ISSUER,
            "--acs-url",
            ACS,
            "--block-encryption",
            "des",
        ],
        &["block_encryption", "des"],
    );
}

#[test]
fn add_with_whitespace_in_the_issuer_fails() {
    assert_add_fails(
        &["--issuer", "urn:test:has space", "--acs-url", ACS],
        &["issuer"],
    );
}

#[test]
fn add_with_an_unknown_option_fails_with_status_2() {
    assert_add_fails(
        &["--issuer", ISSUER, "--acs-url", ACS, "--bogus"],
        &["--bogus"],
    );
    for t in targets() {
        let out = t.sp(["add", "--issuer", ISSUER, "--acs-url", ACS, "--bogus"]);
        assert_eq!(out.code, Some(2), "{}: {out:?}", t.name);
    }
}

#[test]
fn add_of_a_duplicate_issuer_fails_and_keeps_the_first() {
    for t in targets() {
        t.add(ISSUER, &["--friendly-name", "First"]);
        let cert = key("sp2-test-only.crt");
        let out = t.sp([
            "add",
            "--issuer",
            ISSUER,
            "--acs-url",
            "https://other.example.gov/acs",
            "--cert",
            &cert,
        ]);
        assert_one_line_failure(
            &out,
            &[ISSUER, "already exists"],
            &format!("{}: duplicate sp add", t.name),
        );
        let listed = t.list_json();
        assert_eq!(listed.len(), 1, "{}: {listed:?}", t.name);
        assert_eq!(listed[0]["friendly_name"], "First", "{}", t.name);
        assert_eq!(
            listed[0]["acs_urls"],
            serde_json::json!([ACS]),
            "{}",
            t.name
        );
    }
}

// ---------------------------------------------------------------------------------------
// sp add with everything, show, and show → import round trip.

/// `sp add` with every option of the interface.
fn add_everything(t: &Target) {
    let (cert1, cert2) = (key("sp1-test-only.crt"), key("sp1-second-test-only.crt"));
    let out = t.sp([
        "add",
        "--issuer",
        ISSUER,
        "--acs-url",
        "https://full.example.gov/acs",
        "--acs-url",
        "https://full.example.gov/acs/2",
        "--logout-url",
        "https://full.example.gov/logout",
        "--cert",
        &cert1,
        "--cert",
        &cert2,
        "--ial",
        "2",
        "--default-aal",
        "2",
        "--attributes",
        "email,all_emails",
        "--block-encryption",
        "aes128-gcm",
        "--sign-response",
        "--require-signed-requests",
        "--email-nameid",
        "--ialmax-allowed",
        "--agency",
        "Test Agency",
        "--return-to-sp-url",
        "https://full.example.gov/return",
        "--failure-to-proof-url",
        "https://full.example.gov/failed",
        "--friendly-name",
        "Full Test App",
        "--inactive",
    ]);
    assert_success(&out, &format!("{}: sp add with every option", t.name));
    assert!(out.stdout.contains(ISSUER), "{}: {out:?}", t.name);
}

#[test]
fn add_with_every_option_stores_each_value() {
    for t in targets() {
        add_everything(&t);
        let sp = t.show_json(ISSUER);
        let n = t.name;
        assert_eq!(sp["issuer"], ISSUER, "{n}");
        assert_eq!(sp["friendly_name"], "Full Test App", "{n}");
        assert_eq!(sp["agency"], "Test Agency", "{n}");
        assert_eq!(sp["active"], false, "{n}");
        assert_eq!(
            sp["acs_urls"],
            serde_json::json!([
                "https://full.example.gov/acs",
                "https://full.example.gov/acs/2"
            ]),
            "{n}"
        );
        assert_eq!(sp["logout_url"], "https://full.example.gov/logout", "{n}");
        assert_eq!(
            json_certs_der(&sp),
            vec![
                common::fixture_der("sp1-test-only.crt"),
                common::fixture_der("sp1-second-test-only.crt")
            ],
            "{n}"
        );
        assert_eq!(sp["ial"], 2, "{n}");
        assert_eq!(sp["default_aal"], 2, "{n}");
        assert_eq!(
            sp["attribute_bundle"],
            serde_json::json!(["email", "all_emails"]),
            "{n}"
        );
        assert_eq!(sp["block_encryption"], "aes128-gcm", "{n}");
        assert_eq!(sp["signed_response_message_requested"], true, "{n}");
        assert_eq!(sp["require_signed_requests"], true, "{n}");
        assert_eq!(sp["email_nameid_format_allowed"], true, "{n}");
        assert_eq!(sp["ialmax_allowed"], true, "{n}");
        assert_eq!(
            sp["return_to_sp_url"], "https://full.example.gov/return",
            "{n}"
        );
        assert_eq!(
            sp["failure_to_proof_url"], "https://full.example.gov/failed",
            "{n}"
        );
        assert!(sp["created_at"].is_string(), "{n}: {sp}");
        assert!(sp["updated_at"].is_string(), "{n}: {sp}");
    }
}

#[test]
fn shown_toml_imports_into_a_fresh_registry_unchanged() {
    for t in targets() {
        add_everything(&t);
        let shown = t.sp(["show", ISSUER]);
        assert_success(&shown, &format!("{}: sp show", t.name));

        let other = t.fresh();
        let file = common::write(other.dir(), "exported.toml", shown.stdout.as_bytes());
        let out = other.sp([OsStr::new("import"), file.as_os_str()]);
        assert_success(&out, &format!("{}: sp import of sp show output", t.name));

        let stamps = ["created_at", "updated_at"];
        assert_eq!(
            without(other.show_json(ISSUER), &stamps),
            without(t.show_json(ISSUER), &stamps),
            "{}",
            t.name
        );
    }
}

// ---------------------------------------------------------------------------------------
// sp update and sp remove.

#[test]
fn update_changes_only_the_given_options() {
    for t in targets() {
        t.add(
            ISSUER,
            &[
                "--sign-response",
                "--friendly-name",
                "Before",
                "--agency",
                "Agency",
                "--ial",
                "2",
            ],
        );
        let before = t.show_json(ISSUER);
        assert_eq!(before["signed_response_message_requested"], true);

        let out = t.sp([
            "update",
            ISSUER,
            "--friendly-name",
            "After",
            "--sign-response=false",
        ]);
        assert_success(&out, &format!("{}: sp update", t.name));

        let mut expected = before.clone();
        expected["friendly_name"] = "After".into();
        expected["signed_response_message_requested"] = false.into();
        assert_eq!(
            without(t.show_json(ISSUER), &["updated_at"]),
            without(expected, &["updated_at"]),
            "{}",
            t.name
        );
    }
}

#[test]
fn update_with_a_bad_value_changes_nothing() {
    for t in targets() {
        t.add(ISSUER, &["--friendly-name", "Unchanged"]);
        let before = t.show_json(ISSUER);
        let cases: [(&[&str], &str); 3] = [
            (
                &["--friendly-name", "New", "--acs-url", "/relative"],
                "acs_urls",
            ),
            (
                &["--friendly-name", "New", "--block-encryption", "des"],
                "block_encryption",
            ),
            (
                &["--friendly-name", "New", "--default-aal", "1"],
                "default_aal",
            ),
        ];
        for (options, field) in cases {
            let mut args = vec!["update", ISSUER];
            args.extend(options);
            let out = t.sp(&args);
            assert_one_line_failure(
                &out,
                &[field],
                &format!("{}: sp {}", t.name, args.join(" ")),
            );
            assert_eq!(t.show_json(ISSUER), before, "{}: {field}", t.name);
        }
    }
}

#[test]
fn removed_sp_is_gone() {
    for t in targets() {
        t.add(ISSUER, &[]);
        t.add("urn:test:cli:other", &[]);
        let out = t.sp(["remove", ISSUER]);
        assert_success(&out, &format!("{}: sp remove", t.name));

        let shown = t.sp(["show", ISSUER]);
        assert_one_line_failure(
            &shown,
            &[ISSUER],
            &format!("{}: sp show of removed", t.name),
        );
        let listed = t.list_json();
        assert_eq!(listed.len(), 1, "{}: {listed:?}", t.name);
        assert_eq!(listed[0]["issuer"], "urn:test:cli:other", "{}", t.name);
    }
}

// ---------------------------------------------------------------------------------------
// sp import FILE.toml: all or nothing.

fn import_toml(third_cert: &str) -> String {
    format!(
        r#"
[[service_provider]]
issuer = "urn:test:import:one"
acs_urls = ["https://one.example.gov/acs"]
certs = ["sp1-test-only.crt"]

[[service_provider]]
issuer = "urn:test:import:two"
friendly_name = "Two"
acs_urls = ["https://two.example.gov/acs"]
certs = ["sp2-test-only.crt"]
ial = 2

[[service_provider]]
issuer = "urn:test:import:three"
acs_urls = ["https://three.example.gov/acs"]
certs = ["{third_cert}"]
"#
    )
}

/// `sp import` of `text`, written as `name` in the target's directory next to copies of the
/// fixture certificates it names.
fn import(t: &Target, name: &str, text: &str) -> (Out, PathBuf) {
    for cert in [
        "sp1-test-only.crt",
        "sp2-test-only.crt",
        "sp1-second-test-only.crt",
        "weak-1024-test-only.crt",
    ] {
        t.copy_key(cert);
    }
    let file = common::write(t.dir(), name, text.as_bytes());
    (t.sp([OsStr::new("import"), file.as_os_str()]), file)
}

#[test]
fn import_with_an_invalid_third_sp_imports_nothing() {
    for t in targets() {
        let (out, file) = import(&t, "three.toml", &import_toml("weak-1024-test-only.crt"));
        assert_one_line_failure(
            &out,
            &[&path(&file), "#3", "urn:test:import:three", "certs"],
            &format!("{}: import with a 1024-bit certificate", t.name),
        );
        t.assert_empty("failed import");
    }
}

#[test]
fn import_adds_then_updates() {
    for t in targets() {
        let text = import_toml("sp1-second-test-only.crt");
        let (out, _) = import(&t, "three.toml", &text);
        assert_success(&out, &format!("{}: first import", t.name));
        assert!(out.stdout.contains("3 added"), "{}: {out:?}", t.name);
        let issuers: Vec<Value> = t
            .list_json()
            .iter()
            .map(|sp| sp["issuer"].clone())
            .collect();
        assert_eq!(
            issuers,
            vec![
                "urn:test:import:one",
                "urn:test:import:three",
                "urn:test:import:two"
            ],
            "{}",
            t.name
        );
        assert_eq!(t.show_json("urn:test:import:two")["ial"], 2, "{}", t.name);

        let (again, _) = import(&t, "three.toml", &text);
        assert_success(&again, &format!("{}: second import", t.name));
        assert!(again.stdout.contains("0 added"), "{}: {again:?}", t.name);
        assert!(again.stdout.contains("3 updated"), "{}: {again:?}", t.name);
        assert_eq!(t.list_json().len(), 3, "{}", t.name);
    }
}

#[test]
fn import_with_a_repeated_issuer_imports_nothing() {
    for t in targets() {
        let text = import_toml("sp1-second-test-only.crt")
            .replace("urn:test:import:three", "urn:test:import:one");
        let (out, file) = import(&t, "repeated.toml", &text);
        assert_one_line_failure(
            &out,
            &[&path(&file), "urn:test:import:one", "more than once"],
            &format!("{}: import with a repeated issuer", t.name),
        );
        t.assert_empty("import with a repeated issuer");
    }
}

#[test]
fn import_of_a_toml_syntax_error_names_the_file() {
    for t in targets() {
        let text = "[[service_provider]]\nissuer = \"urn:test:import:broken\"\nacs_urls = [\n";
        let (out, file) = import(&t, "broken.toml", text);
        assert!(!out.ok(), "{}: {out:?}", t.name);
        assert_eq!(out.stdout, "", "{}", t.name);
        assert!(
            out.stderr.contains(&path(&file)),
            "{}: {:?} should name the file",
            t.name,
            out.stderr
        );
        t.assert_empty("import of a TOML syntax error");
    }
}

#[test]
fn import_of_a_toml_syntax_error_is_one_line() {
    for t in targets() {
        let text = "[[service_provider]]\nissuer = \"urn:test:import:broken\"\nacs_urls = [\n";
        let (out, file) = import(&t, "broken.toml", text);
        assert_one_line_failure(
            &out,
            &[&path(&file)],
            &format!("{}: import of a TOML syntax error", t.name),
        );
    }
}

// ---------------------------------------------------------------------------------------
// sp import-metadata.

#[test]
fn import_metadata_creates_the_sp_of_example_sp_xml() {
    let file = common::root().join("metadata/example-sp.xml");
    let xml = std::fs::read_to_string(&file).expect("example-sp.xml");
    let expected_certs = x509_certificates(&xml);
    assert_eq!(
        expected_certs.len(),
        2,
        "example-sp.xml has two certificates"
    );
    for t in targets() {
        let out = t.sp([OsStr::new("import-metadata"), file.as_os_str()]);
        assert_success(&out, &format!("{}: sp import-metadata", t.name));

        let issuer = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:example:app";
        let sp = t.show_json(issuer);
        let n = t.name;
        assert_eq!(sp["issuer"], issuer, "{n}");
        assert_eq!(
            sp["acs_urls"],
            serde_json::json!([
                "https://app.example.com/saml/acs",
                "https://app.example.com/saml/acs/secondary"
            ]),
            "{n}"
        );
        assert_eq!(
            sp["logout_url"], "https://app.example.com/saml/logout",
            "{n}"
        );
        let certs: Vec<String> = json_certs_der(&sp).iter().map(|d| common::b64(d)).collect();
        assert_eq!(certs, expected_certs, "{n}");
        assert_eq!(t.list_json().len(), 1, "{n}");
    }
}

#[test]
fn import_metadata_with_a_doctype_writes_nothing() {
    let minimal = std::fs::read_to_string(common::root().join("metadata/minimal-sp.xml"))
        .expect("minimal-sp.xml");
    let body = minimal
        .split_once("?>")
        .map(|(_, rest)| rest)
        .expect("XML declaration");
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE md:EntityDescriptor [<!ENTITY name \"minimal\">]>{body}"
    );
    for t in targets() {
        let file = common::write(t.dir(), "doctype-sp.xml", xml.as_bytes());
        let out = t.sp([OsStr::new("import-metadata"), file.as_os_str()]);
        assert_one_line_failure(
            &out,
            &["doctype-sp.xml", "DOCTYPE"],
            &format!("{}: import-metadata with a DOCTYPE", t.name),
        );
        t.assert_empty("import-metadata with a DOCTYPE");
    }
}

// ---------------------------------------------------------------------------------------
// Configuration and start-up errors, through `saml-idp --config FILE metadata --year Y`.

const PASSPHRASE_VAR: &str = "SAML_IDP_CLI_TEST_KEY_PASSPHRASE";

fn signing_key(year: u16, certificate: &str, private_key: &str) -> String {
    format!(
        "[[signing_keys]]\nyear = {year}\ncertificate = '{certificate}'\nprivate_key = '{private_key}'\n"
    )
}

fn idp_key(year: u16) -> String {
    signing_key(
        year,
        &key(&format!("idp-{year}-test-only.crt")),
        &key(&format!("idp-{year}-test-only.key")),
    )
}

/// `saml-idp --config FILE metadata --year YEAR` in a fresh directory.
fn metadata_with(config: &str, year: &str, env: &[(&str, &str)]) -> Out {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::write(dir.path(), "saml-idp.toml", config.as_bytes());
    let mut cmd = bin(dir.path());
    cmd.env_remove(PASSPHRASE_VAR);
    for (name, value) in env {
        cmd.env(name, value);
    }
    exec(
        cmd.arg("--config")
            .arg(&file)
            .args(["metadata", "--year", year]),
    )
}

#[test]
fn a_missing_key_file_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = path(&dir.path().join("no-such-key.pem"));
    let config = signing_key(2026, &key("idp-2026-test-only.crt"), &missing);
    let out = metadata_with(&config, "2026", &[]);
    assert_one_line_failure(&out, &[&missing], "missing key file");
}

#[test]
fn a_year_listed_twice_is_refused() {
    let config = format!("{}{}", idp_key(2026), idp_key(2026));
    let out = metadata_with(&config, "2026", &[]);
    assert_one_line_failure(&out, &["2026", "more than once"], "year listed twice");
}

#[test]
fn a_key_of_another_year_does_not_match() {
    let config = signing_key(
        2026,
        &key("idp-2025-test-only.crt"),
        &key("idp-2026-test-only.key"),
    );
    let out = metadata_with(&config, "2026", &[]);
    assert_one_line_failure(
        &out,
        &["does not match"],
        "key and certificate of different years",
    );
}

#[test]
fn a_1024_bit_signing_certificate_is_refused() {
    let config = signing_key(
        2026,
        &key("weak-1024-test-only.crt"),
        &key("weak-1024-test-only.key"),
    );
    let out = metadata_with(&config, "2026", &[]);
    assert_one_line_failure(&out, &["2048"], "1024-bit signing certificate");
}

#[test]
fn production_without_keys_is_refused() {
    let out = metadata_with("mode = \"production\"\n", "2026", &[]);
    assert_one_line_failure(&out, &["production"], "production without keys");
}

fn encrypted_key_config() -> String {
    format!(
        "{}passphrase_env = '{PASSPHRASE_VAR}'\n",
        signing_key(
            2026,
            &key("idp-2026-test-only.crt"),
            &key("idp-2026-encrypted-test-only.key"),
        )
    )
}

#[test]
fn an_unset_passphrase_variable_is_named() {
    let out = metadata_with(&encrypted_key_config(), "2026", &[]);
    assert_one_line_failure(&out, &[PASSPHRASE_VAR], "passphrase variable unset");
}

#[test]
fn an_encrypted_key_with_its_passphrase_signs_metadata() {
    let out = metadata_with(
        &encrypted_key_config(),
        "2026",
        &[(PASSPHRASE_VAR, "test-only-passphrase")],
    );
    assert_success(&out, "encrypted key with its passphrase");
    let certificate = common::b64(&common::fixture_der("idp-2026-test-only.crt"));
    let found = x509_certificates(&out.stdout);
    assert!(!found.is_empty(), "no ds:X509Certificate in {}", out.stdout);
    for text in found {
        assert_eq!(text, certificate);
    }
}

#[test]
fn metadata_of_a_year_that_is_not_live_fails() {
    let config = format!("{}{}", idp_key(2025), idp_key(2026));
    let out = metadata_with(&config, "1999", &[]);
    assert_one_line_failure(&out, &["1999", "not live"], "metadata --year 1999");
}

#[test]
fn a_configuration_syntax_error_is_one_line() {
    let out = metadata_with("mode = \"production\"\nbase_url = \n", "2026", &[]);
    assert_one_line_failure(&out, &["saml-idp.toml"], "configuration syntax error");
}

#[test]
fn user_add_reads_the_password_from_stdin_and_prints_id_uri_and_codes() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("dir");
    let mut child = bin(dir.path())
        .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY)
        .args([
            "user",
            "add",
            "--email",
            "Ada@Example.gov",
            "--password",
            "-",
            "--totp-secret",
            "JBSWY3DPEHPK3PXP",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"from standard input\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("user "))
        .expect("id line");
    assert!(
        stdout.contains("otpauth://totp/saml-idp:ada%40example.gov?secret=JBSWY3DPEHPK3PXP"),
        "{stdout}"
    );
    assert_eq!(
        stdout
            .lines()
            .find_map(|l| l.strip_prefix("backup codes "))
            .map(|c| c.split(' ').count()),
        Some(10)
    );
    let again = exec(
        bin(dir.path())
            .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY)
            .args([
                "user",
                "add",
                "--email",
                "ada@example.gov",
                "--password",
                "x",
            ]),
    );
    assert!(
        !again.ok() && again.stderr.trim().lines().count() == 1,
        "{}",
        again.stderr
    );
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let suspended = exec(
        bin(dir.path())
            .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY)
            .args(["user", "suspend", id]),
    );
    assert!(suspended.ok(), "{}", suspended.stderr);
    let shown = exec(
        bin(dir.path())
            .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY)
            .args(["user", "show", id]),
    );
    assert!(
        shown.stdout.contains("status = \"suspended\"") && shown.stdout.contains("ada@example.gov"),
        "{}",
        shown.stdout
    );
    let wrong_key = exec(
        bin(dir.path())
            .env("SAML_IDP_DATA_KEY", "bm90IGEga2V5")
            .args(["user", "list"]),
    );
    assert!(
        !wrong_key.ok() && wrong_key.stderr.contains("data-encryption key"),
        "{}",
        wrong_key.stderr
    );
}

/// `user add` of ada@example.gov on `t`; her public id.
fn add_ada(t: &Target) -> String {
    let added = t.run([
        "user",
        "add",
        "--email",
        "ada@example.gov",
        "--password",
        "correct horse battery staple",
    ]);
    assert_success(&added, t.name);
    added
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("user "))
        .expect("id line")
        .to_string()
}

/// `user grant | revoke` and the roles in `user show` (SPEC 19), on SQLite and PostgreSQL:
/// one line per change, a role held once, every refusal one line naming the problem, and
/// each change in the audit trail.
#[test]
fn user_grant_and_revoke_manage_console_roles() {
    for t in targets() {
        let id = add_ada(&t);
        let grant = |args: &[&str]| {
            let mut all = vec!["user", "grant", "ada@example.gov"];
            all.extend_from_slice(args);
            t.run(all)
        };
        let out = grant(&["--role", "admin"]);
        assert_success(&out, t.name);
        assert_eq!(
            out.stdout,
            format!("granted admin to user {id}\n"),
            "{}",
            t.name
        );
        let out = grant(&["--role", "agency-admin", "--agency", "GSA"]);
        assert_success(&out, t.name);
        let again = grant(&["--role", "admin"]);
        assert_success(&again, t.name);
        assert_eq!(again.stdout, format!("user {id} already holds admin\n"));
        let shown = t.run(["user", "show", &id]);
        assert!(
            shown
                .stdout
                .contains("roles = [\"admin\", \"agency-admin:GSA\"]"),
            "{}: {}",
            t.name,
            shown.stdout
        );
        for (args, needle) in [
            (vec!["--role", "agency-admin"], "--agency"),
            (vec!["--role", "admin", "--agency", "GSA"], "no --agency"),
            (vec!["--role", "root"], "unknown role"),
            (
                vec!["--role", "agency-admin", "--agency", " "],
                "1 to 100 characters",
            ),
        ] {
            assert_one_line_failure(&grant(&args), &[needle], t.name);
        }
        let nobody = t.run(["user", "grant", "nobody@example.gov", "--role", "admin"]);
        assert_one_line_failure(&nobody, &["no account uses this email address"], t.name);
        let revoked = t.run([
            "user",
            "revoke",
            "ada@example.gov",
            "--role",
            "agency-admin",
            "--agency",
            "GSA",
        ]);
        assert_success(&revoked, t.name);
        assert_eq!(
            revoked.stdout,
            format!("revoked agency-admin of \"GSA\" from user {id}\n")
        );
        let shown = t.run(["user", "show", &id]);
        assert!(
            shown.stdout.contains("roles = [\"admin\"]"),
            "{}",
            shown.stdout
        );
        let events = t.run(["events", "--type", "Role Changed"]);
        assert!(events.ok(), "{}: {events:?}", t.name);
        let details: Vec<&str> = events
            .stdout
            .lines()
            .filter(|l| l.contains("Role Changed"))
            .collect();
        assert_eq!(details.len(), 3, "{}: {}", t.name, events.stdout);
        assert!(
            !events.stdout.contains("ada@example.gov"),
            "no email in the trail"
        );
    }
}

/// `token create | list | revoke` (SPEC 19), on SQLite and PostgreSQL: the token is printed
/// once and never again (`list` shows ids, names and states only), revoking is reported,
/// and every refusal is one line.
#[test]
fn token_create_list_and_revoke() {
    for t in targets() {
        add_ada(&t);
        let created = t.run([
            "token",
            "create",
            "--email",
            "ada@example.gov",
            "--name",
            "CI deploy",
            "--expires-days",
            "7",
        ]);
        assert_success(&created, t.name);
        let token = created
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("token "))
            .expect("token line")
            .to_string();
        assert!(token.starts_with("sidp_"), "{token}");
        let id = created
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("id "))
            .and_then(|l| l.split(' ').next())
            .expect("id line")
            .to_string();
        let listed = t.run(["token", "list"]);
        assert_success(&listed, t.name);
        assert!(listed.stdout.contains(&id) && listed.stdout.contains("\"CI deploy\""));
        assert!(
            listed.stdout.trim_end().ends_with("live"),
            "{}",
            listed.stdout
        );
        assert!(
            !listed.stdout.contains(&token),
            "the token is shown once only"
        );
        let revoked = t.run(["token", "revoke", &id]);
        assert_success(&revoked, t.name);
        assert_eq!(revoked.stdout, format!("revoked token {id}\n"));
        let listed = t.run(["token", "list"]);
        assert!(
            listed.stdout.trim_end().ends_with("revoked"),
            "{}",
            listed.stdout
        );
        assert_one_line_failure(&t.run(["token", "revoke", &id]), &["no live token"], t.name);
        for (args, needle) in [
            (
                vec!["--email", "nobody@example.gov", "--name", "x"],
                "no account",
            ),
            (vec!["--email", "ada@example.gov", "--name", " "], "--name"),
            (
                vec![
                    "--email",
                    "ada@example.gov",
                    "--name",
                    "x",
                    "--expires-days",
                    "0",
                ],
                "--expires-days",
            ),
        ] {
            let mut all = vec!["token", "create"];
            all.extend(args);
            assert_one_line_failure(&t.run(all), &[needle], t.name);
        }
    }
}

/// The CLI changes SPs through the console's use case: each change is in the audit trail as
/// `SP Changed` (the operator, the SP, the field names; never a certificate), and a private
/// key given as a certificate is refused without being repeated.
#[test]
fn sp_changes_are_audited_and_a_private_key_is_refused() {
    for t in targets() {
        t.add(ISSUER, &["--friendly-name", "First"]);
        let updated = t.sp([
            "update",
            ISSUER,
            "--logout-url",
            "https://sp.example.gov/slo",
        ]);
        assert_success(&updated, t.name);
        let events = t.run(["events", "--type", "SP Changed"]);
        assert_success(&events, t.name);
        assert!(
            events.stdout.contains("created:"),
            "{}: {}",
            t.name,
            events.stdout
        );
        assert!(
            events.stdout.contains("updated:logout_url"),
            "{}: {}",
            t.name,
            events.stdout
        );
        assert!(!events.stdout.contains("BEGIN"), "{}", events.stdout);
        let private = key("sp1-test-only.key");
        let out = t.sp(["update", ISSUER, "--cert", &private]);
        assert_one_line_failure(&out, &["certs", "private key"], t.name);
        let text = std::fs::read_to_string(&private).expect("key");
        let body_line = text.lines().nth(1).expect("a base64 line");
        assert!(!out.stderr.contains(body_line) && !out.stdout.contains(body_line));
    }
}
