//! The real binary, started as the README starts it: embedded defaults, development keys
//! created on first start, metadata fetched over HTTP and verified with `xmlsec1`; an SP
//! added by another process is seen within seconds; `/readyz` follows the database.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::Datelike;

const BIN: &str = env!("CARGO_BIN_EXE_saml-idp");

struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `saml-idp serve` in `dir` with only `--listen` and the given extra arguments.
fn start(dir: &Path, extra: &[&str]) -> Server {
    let port = free_port();
    let child = Command::new(BIN)
        .current_dir(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env_remove("SAML_IDP_CONFIG")
        .env_remove("SAML_IDP_DATABASE_URL")
        .env_remove("SAML_IDP_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let server = Server {
        child,
        port,
        dir: dir.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while curl(&server, "/healthz").0 != 200 {
        assert!(Instant::now() < deadline, "server did not become healthy");
        thread::sleep(Duration::from_millis(100));
    }
    server
}

/// (status, body) of a GET.
fn curl(server: &Server, path: &str) -> (u16, Vec<u8>) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "15", "-o", "-", "-w", "\n%{http_code}"])
        .arg(format!("http://127.0.0.1:{}{path}", server.port))
        .output()
        .expect("curl runs");
    let mut body = out.stdout;
    let split = body.iter().rposition(|b| *b == b'\n').unwrap_or(0);
    let status = String::from_utf8_lossy(&body[split..])
        .trim()
        .parse()
        .unwrap_or(0);
    body.truncate(split);
    (status, body)
}

fn xmlsec_verifies(xml: &[u8], cert: &Path) -> bool {
    let file = common::write(cert.parent().expect("dir"), "fetched.xml", xml);
    Command::new("xmlsec1")
        .arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(cert)
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
        ])
        .arg(&file)
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

#[test]
fn defaults_start_a_working_idp_with_development_keys() {
    let dir = tempfile::tempdir().expect("dir");
    let server = start(dir.path(), &[]);
    let year = chrono::Utc::now().year();
    let keys = server.dir.join("data/dev-keys");
    for (y, other) in [(year, year - 1), (year - 1, year)] {
        let (status, body) = curl(&server, &format!("/api/saml/metadata{y}"));
        assert_eq!(status, 200, "metadata{y}");
        assert!(
            xmlsec_verifies(&body, &keys.join(format!("saml{y}.crt"))),
            "{y} verifies"
        );
        assert!(
            !xmlsec_verifies(&body, &keys.join(format!("saml{other}.crt"))),
            "{y} is not {other}'s"
        );
    }
    assert_eq!(curl(&server, "/api/saml/metadata1999").0, 404);
    assert_eq!(curl(&server, "/readyz").0, 200);
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
    assert_eq!(active_sps(&server), Some(0));
    let (ok, _, stderr) = common::run(Command::new(BIN).current_dir(dir.path()).args([
        "sp",
        "add",
        "--issuer",
        "urn:test:live",
        "--acs-url",
        "https://sp.example.gov/acs",
    ]));
    assert!(ok, "{stderr}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while active_sps(&server) != Some(1) {
        assert!(Instant::now() < deadline, "the server never saw the new SP");
        thread::sleep(Duration::from_millis(200));
    }
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
