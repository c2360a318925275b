//! The real binary, started as the README starts it: embedded defaults, development keys
//! created on first start, metadata fetched over HTTP and verified with `xmlsec1`; an SP
//! added by another process is seen within seconds; `/readyz` follows the database; expired
//! rows are purged every `purge_interval_seconds`.

use crate::common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::Datelike;

use common::process::{curl, fixture_config, sign_in_at_sp, start, Server, SignIn, BIN};

#[test]
fn defaults_start_a_working_idp_with_development_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path(), &[]);
    let year = common::wall_clock().year();
    let keys = server.dir.join("data/dev-keys");
    for (y, other) in [(year, year - 1), (year - 1, year)] {
        let (status, body) = curl(&server, &format!("/api/saml/metadata{y}"));
        assert_eq!(status, 200, "metadata{y}");
        assert!(
            common::oracles::metadata_verifies(&body, &keys.join(format!("saml{y}.crt"))),
            "{y} verifies"
        );
        assert!(
            !common::oracles::metadata_verifies(&body, &keys.join(format!("saml{other}.crt"))),
            "{y} is not {other}'s"
        );
    }
    assert_eq!(curl(&server, "/api/saml/metadata1999").0, 404);
    assert_eq!(curl(&server, "/readyz").0, 200);
    // The demo SP is served, with its own development key beside the signing keys.
    assert_eq!(curl(&server, "/demo-sp/").0, 200);
    assert!(keys.join("demo-sp.crt").exists() && keys.join("demo-sp.key").exists());
}

fn active_sps(server: &Server) -> Option<u32> {
    let (_, body) = curl(server, "/metrics");
    String::from_utf8_lossy(&body)
        .lines()
        .find_map(|l| l.strip_prefix("saml_idp_service_providers{state=\"active\"} "))
        .and_then(|n| n.trim().parse().ok())
}

#[test]
fn an_sp_added_by_another_process_is_seen_within_seconds() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path(), &[]);
    // Development mode registers its demo SP at start.
    assert_eq!(active_sps(&server), Some(1));
    let (ok, _, stderr) = common::run(Command::new(BIN).current_dir(dir.path()).args([
        "sp",
        "add",
        "--issuer",
        "urn:test:live",
        "--acs-url",
        "https://sp.example.gov/acs",
        "--block-encryption",
        "none",
    ]));
    assert!(ok, "{stderr}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while active_sps(&server) != Some(2) {
        assert!(Instant::now() < deadline, "the server never saw the new SP");
        thread::sleep(Duration::from_millis(200));
    }
}

/// `serve` purges on its own every `purge_interval_seconds` (SPEC 7): an expired pending
/// request is gone within seconds, a live one stays.
#[test]
fn serve_purges_expired_rows_every_interval() {
    use saml_idp::idp::sso::pending::PendingStore;
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("purge.sqlite3").display());
    let db = saml_idp::store::Database::connect(&url).expect("database");
    db.migrate().expect("migrate");
    let pending = saml_idp::store::DieselPendingStore::new(db);
    let now = common::wall_clock();
    for (token, expires_at) in [
        ("expired", now - chrono::Duration::minutes(1)),
        ("live", now + chrono::Duration::minutes(10)),
    ] {
        let request = common::pending_request("urn:test:purge", expires_at);
        pending.put(token, &request).expect("put");
    }
    let config = common::write(dir.path(), "purge.toml", b"purge_interval_seconds = 1\n");
    let config = config.display().to_string();
    let _server = start(dir.path(), &["--config", &config, "--database-url", &url]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while pending.count().expect("count") != 1 {
        assert!(Instant::now() < deadline, "the server never purged");
        thread::sleep(Duration::from_millis(200));
    }
    let live = pending.get("live", common::wall_clock()).expect("get");
    assert!(live.is_some(), "the live request is kept");
}

/// Forwards TCP connections to `target` until told to cut every connection.
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
}

impl Proxy {
    fn start(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy bind");
        let port = listener.local_addr().expect("addr").port();
        let up = Arc::new(AtomicBool::new(true));
        let flag = up.clone();
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = if flag.load(Ordering::SeqCst) {
                    TcpStream::connect(&target).ok()
                } else {
                    None
                };
                match server {
                    Some(server) => pipe(client, server, flag.clone()),
                    None => drop(client.shutdown(Shutdown::Both)),
                }
            }
        });
        Proxy { port, up }
    }
}

fn pipe(a: TcpStream, b: TcpStream, up: Arc<AtomicBool>) {
    for (mut from, mut to) in [
        (a.try_clone(), b.try_clone()),
        (b.try_clone(), a.try_clone()),
    ]
    .into_iter()
    .filter_map(|(x, y)| Some((x.ok()?, y.ok()?)))
    {
        let up = up.clone();
        thread::spawn(move || {
            let _ = from.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 16384];
            while up.load(Ordering::SeqCst) {
                match from.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) if to.write_all(&buf[..n]).is_ok() => {}
                    Ok(_) => break,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}

#[test]
fn readiness_fails_while_the_database_is_unreachable() {
    let Some(base) = common::postgres_url() else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let db = common::postgres_db(&base);
    let parsed = url::Url::parse(&db.url).expect("url");
    let target = format!(
        "{}:{}",
        parsed.host_str().unwrap_or("127.0.0.1"),
        parsed.port().unwrap_or(5432)
    );
    let proxy = Proxy::start(target);
    let mut through_proxy = parsed.clone();
    through_proxy.set_port(Some(proxy.port)).expect("port");
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path(), &["--database-url", through_proxy.as_str()]);
    assert_eq!(curl(&server, "/readyz").0, 200);
    proxy.up.store(false, Ordering::SeqCst);
    thread::sleep(Duration::from_millis(500));
    assert_eq!(curl(&server, "/readyz").0, 503);
    assert_eq!(
        curl(&server, "/healthz").0,
        200,
        "liveness does not depend on the database"
    );
    proxy.up.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(20);
    while curl(&server, "/readyz").0 != 200 {
        assert!(
            Instant::now() < deadline,
            "never recovered after the database came back"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// A config file using the test-only fixture keys for 2025 and 2026.
/// One request of the concurrency test: a form body to POST, or a path and query to GET.
#[derive(Debug)]
enum Case {
    Post(PathBuf),
    Get(String),
}

/// (status) of a form POST.
fn curl_post(server: &Server, path: &str, body_file: &Path) -> u16 {
    let out = Command::new("curl")
        .args([
            "-s",
            "--max-time",
            "30",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--data-binary",
        ])
        .arg(format!("@{}", body_file.display()))
        .arg(format!("http://127.0.0.1:{}{path}", server.port))
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn concurrent_signed_and_hostile_requests_get_their_answers() {
    let dir = tempfile::tempdir().expect("dir");
    let config = fixture_config(dir.path());
    let config_arg = config.display().to_string();
    let (ok, _, stderr) = common::run(
        Command::new(BIN)
            .current_dir(dir.path())
            .args(["--config", &config_arg, "sp", "import"])
            .arg(common::fixture("service_providers.toml")),
    );
    assert!(ok, "{stderr}");
    let server = Arc::new(start(dir.path(), &["--config", &config_arg]));
    let body = |name: &str| {
        let b64 = std::fs::read_to_string(common::fixture(&format!("requests/{name}.b64")))
            .expect("fixture");
        let form: String = url::form_urlencoded::byte_serialize(b64.trim().as_bytes()).collect();
        Case::Post(common::write(
            dir.path(),
            &format!("{name}.form"),
            format!("SAMLRequest={form}").as_bytes(),
        ))
    };
    // The server runs at the real time: the accepted requests are signed now (the signed
    // fixtures carry the fixed test time and would be refused as `request_expired`).
    let now = common::wall_clock();
    let openssl_signed = common::flow::signed_redirect(
        &common::flow::stamped(
            &common::flow::authn_request(common::flow::SP1, "", &["urn:acr.login.gov:auth-only"]),
            now,
        ),
        "sp1-test-only.key",
    );
    let python3_saml = common::oracles::python3_saml(
        "python3_saml_login.py",
        &serde_json::json!({
            "sp_entity_id": common::flow::SP1, "acs_url": "http://localhost:9001/acs",
            "sp_cert": common::pem("sp1-test-only.crt"), "sp_key": common::pem("sp1-test-only.key"),
            "idp_entity_id": format!("{}/api/saml", common::BASE_URL),
            "idp_sso_url": format!("{}/api/saml/auth2026", common::BASE_URL),
            "idp_cert": common::pem("idp-2026-test-only.crt"), "relay_state": "https://sp.example/after",
            "authn_contexts": ["urn:acr.login.gov:auth-only", "http://idmanagement.gov/ns/assurance/aal/2"],
        }),
    );
    let python3_saml = python3_saml["url"]
        .as_str()
        .and_then(|u| u.split_once('?'))
        .map(|(_, q)| q.to_string())
        .expect("python3-saml URL");
    let cases = Arc::new(vec![
        (
            Case::Get(format!("/api/saml/auth2026?{openssl_signed}")),
            303,
        ),
        (Case::Get(format!("/api/saml/auth2026?{python3_saml}")), 303),
        (body("hostile-wrapped-extensions"), 400),
        (body("hostile-digest-changed"), 400),
        (body("hostile-doctype-entity"), 400),
    ]);
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (server, cases) = (server.clone(), cases.clone());
            thread::spawn(move || {
                for round in 0..10 {
                    let (case, expected) = &cases[(w + round) % cases.len()];
                    let status = match case {
                        Case::Post(file) => curl_post(&server, "/api/saml/authpost2026", file),
                        Case::Get(path) => curl(&server, path).0,
                    };
                    assert_eq!(status, *expected, "{case:?}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker passed");
    }
    assert_eq!(curl(&server, "/healthz").0, 200, "the server survived");
}

#[test]
fn sign_in_on_one_node_and_complete_on_another() {
    let Some(base) = common::postgres_url() else {
        eprintln!("TEST_DATABASE_URL not set: skipped");
        return;
    };
    let db = common::postgres_db(&base);
    let dir = tempfile::tempdir().expect("dir");
    let config = fixture_config(dir.path()).display().to_string();
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let cli = |args: &[&str]| {
        let (ok, _, stderr) = common::run(
            Command::new(BIN)
                .current_dir(dir.path())
                .env("SAML_IDP_DATA_KEY", common::TEST_DATA_KEY)
                .args([
                    "--config",
                    &config,
                    "--database-url",
                    &db.url,
                    "--base-url",
                    "http://idp.localtest",
                ])
                .args(args),
        );
        assert!(ok, "{args:?}: {stderr}");
    };
    cli(&[
        "sp",
        "import",
        &common::fixture("service_providers.toml")
            .display()
            .to_string(),
    ]);
    cli(&[
        "user",
        "add",
        "--email",
        "ada@example.gov",
        "--password",
        "pw-for-two-nodes",
        "--totp-secret",
        secret,
    ]);
    let extra = [
        "--config",
        config.as_str(),
        "--database-url",
        db.url.as_str(),
        "--base-url",
        "http://idp.localtest",
    ];
    let (a, b) = (start(dir.path(), &extra), start(dir.path(), &extra));
    // Every step goes to the other node than the step before: node B never saw this browser
    // before it was asked for the next step; everything it needs is in the database.
    let page = sign_in_at_sp(
        &[a.port, b.port],
        &dir.path().join("cookies.txt"),
        &SignIn {
            issuer: "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1",
            year: 2026,
            email: "ada@example.gov",
            password: "pw-for-two-nodes",
            totp_secret: secret,
        },
    );
    assert!(page.page.contains("Test SP One"), "{}", page.page);
}

/// SIGTERM: the server stops taking requests, finishes those in flight, and stores the
/// audit events still buffered (they are written off the request path) before it exits.
#[test]
fn sigterm_stores_every_buffered_audit_event() {
    let dir = tempfile::tempdir().expect("dir");
    let mut server = start(dir.path(), &[]);
    const REQUESTS: usize = 25;
    for n in 0..REQUESTS {
        // Not a SAML message: refused with 400, and audited as a refused auth request.
        let (status, _) = curl(&server, &format!("/api/saml/auth2026?SAMLRequest=bad{n}"));
        assert_eq!(status, 400);
    }
    stop_cleanly(&mut server);
    let url = dir
        .path()
        .join("data")
        .join(saml_idp::config::SQLITE_FILE_NAME)
        .display()
        .to_string();
    let db = saml_idp::store::Database::connect(&url).expect("the database");
    let audit = saml_idp::store::DieselSessionStore::new(db);
    let events = saml_idp::sessions::AuditLog::recent(&audit, 1000).expect("events");
    // One client, one code: one aggregated event (SPEC 7) whose count says how many.
    let refused: Vec<u32> = events
        .iter()
        .filter(|e| e.event == saml_idp::sessions::AuditKind::SamlAuthRequest && !e.success)
        .map(|e| e.count)
        .collect();
    assert_eq!(
        refused,
        [REQUESTS as u32],
        "every refused request is on record"
    );
}

/// SPEC 17: `serve` runs the mail queue's worker. A forgot-password request is answered at
/// once and its message (here the "no account uses this address" notice) reaches the outbox
/// shortly after, in a private file; SIGTERM stops the worker with the server.
#[test]
fn serve_delivers_queued_mail_and_stops_with_the_server() {
    use common::process::{browse, csrf_of};
    let dir = tempfile::tempdir().expect("dir");
    let mut server = start(dir.path(), &[]);
    let jar = dir.path().join("jar");
    let (_, _, page) = browse(server.port, &jar, "/forgot-password", None);
    let form = format!("csrf={}&email=nobody%40example.gov", csrf_of(&page));
    let (status, _, _) = browse(server.port, &jar, "/forgot-password", Some(&form));
    assert_eq!(status, 200);
    let outbox = dir.path().join("data").join("outbox");
    let deadline = Instant::now() + Duration::from_secs(15);
    let files = loop {
        let files = common::mail::eml_files(&outbox);
        if !files.is_empty() {
            break files;
        }
        assert!(Instant::now() < deadline, "the worker delivered nothing");
        thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).expect("message");
    assert!(text.contains("To: nobody@example.gov"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&files[0])
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    stop_cleanly(&mut server);
}

/// SIGTERM, then a clean exit within 20 seconds.
fn stop_cleanly(server: &mut Server) {
    let terminated = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "a clean exit: {exit:?}");
}
