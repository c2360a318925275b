//! The real `saml-idp` binary as a child process (started on a free port, waited for until
//! `/healthz` answers, killed on drop), HTTP to it through curl, and a whole browser sign-in
//! at an SP driven by curl with a cookie jar, spread over one or more nodes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_saml-idp");

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// `saml-idp serve` in `dir` with only `--listen` and the given extra arguments.
pub fn start(dir: &Path, extra: &[&str]) -> Server {
    start_with(dir, extra, &[], None)
}

/// As `start`, with extra environment variables and standard error written to `log`.
pub fn start_with(dir: &Path, extra: &[&str], env: &[(&str, &str)], log: Option<&Path>) -> Server {
    spawn(dir, free_port(), extra, env, log)
}

/// As `start`, on a given port (a node restarted behind a proxy keeps its address).
pub fn start_on(dir: &Path, port: u16, extra: &[&str]) -> Server {
    spawn(dir, port, extra, &[], None)
}

fn spawn(
    dir: &Path,
    port: u16,
    extra: &[&str],
    env: &[(&str, &str)],
    log: Option<&Path>,
) -> Server {
    let stderr = match log {
        Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
        None => Stdio::null(),
    };
    let child = Command::new(BIN)
        .current_dir(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(extra)
        .env_remove("SAML_IDP_CONFIG")
        .env_remove("SAML_IDP_DATABASE_URL")
        .env_remove("SAML_IDP_DATA_DIR")
        .env_remove("SAML_IDP_LOG_FORMAT")
        .env("SAML_IDP_DATA_KEY", super::TEST_DATA_KEY)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(stderr)
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
pub fn curl(server: &Server, path: &str) -> (u16, Vec<u8>) {
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

/// curl with a shared cookie jar: (status, Location, body).
pub fn browse(port: u16, jar: &Path, path: &str, form: Option<&str>) -> (u16, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "--max-time", "30", "-b"])
        .arg(jar)
        .arg("-c")
        .arg(jar);
    cmd.args(["-w", "\n%{http_code} %{redirect_url}"]);
    if let Some(body) = form {
        cmd.args(["--data-binary", body]);
    }
    let out = cmd
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, last) = text.rsplit_once('\n').unwrap_or(("", &text));
    let (status, location) = last.split_once(' ').unwrap_or((last, ""));
    let location = location
        .split_once(&format!(":{port}"))
        .map_or(location, |(_, p)| p)
        .to_string();
    (
        status.trim().parse().unwrap_or(0),
        location,
        body.replace("&#x2F;", "/"),
    )
}

pub fn csrf_of(body: &str) -> String {
    let start = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    body[start..].split('"').next().expect("value").to_string()
}

/// A user of `user add` and an SP of `fixtures/service_providers.toml`.
pub struct SignIn<'a> {
    pub issuer: &'a str,
    pub year: u16,
    pub email: &'a str,
    pub password: &'a str,
    pub totp_secret: &'a str,
}

/// A browser that starts at the SP (an unsigned AuthnRequest), signs in with password and
/// TOTP code, consents, and ends on the page that posts the Response; each request goes to
/// the next of `ports` in turn, so with two nodes no two consecutive steps share one.
pub fn sign_in_at_sp(ports: &[u16], jar: &Path, who: &SignIn<'_>) -> SignedIn {
    let mut turn = 0;
    let mut go = |path: &str, form: Option<&str>| {
        let port = ports[turn % ports.len()];
        turn += 1;
        browse(port, jar, path, form)
    };
    let (request_id, auth) = auth_request_path(who.issuer, who.year);
    assert_eq!(go(&auth, None).0, 303, "the request is taken");
    let csrf = csrf_of(&go("/sign-in", None).2);
    let email: String = url::form_urlencoded::byte_serialize(who.email.as_bytes()).collect();
    let password: String = url::form_urlencoded::byte_serialize(who.password.as_bytes()).collect();
    let (status, location, _) = go(
        "/sign-in",
        Some(&format!("csrf={csrf}&email={email}&password={password}")),
    );
    assert_eq!(
        (status, location.starts_with("/api/saml/complete")),
        (303, true),
        "{location}"
    );
    // The stored request decides the next step, wherever it is asked.
    assert!(go(&location, None).1.starts_with("/sign-in/mfa"));
    let csrf = csrf_of(&go("/sign-in/mfa", None).2);
    let totp = saml_idp::accounts::totp::TotpSecret::from_base32(who.totp_secret).expect("secret");
    let code = saml_idp::accounts::totp::code_at(
        &totp,
        saml_idp::accounts::totp::step_of(super::wall_clock().timestamp()),
    )
    .expect("TOTP code");
    assert_eq!(
        go("/sign-in/mfa", Some(&format!("csrf={csrf}&code={code}"))).0,
        303
    );
    assert!(go("/api/saml/complete", None).1.starts_with("/consent"));
    let csrf = csrf_of(&go("/consent", None).2);
    assert_eq!(go("/consent", Some(&format!("csrf={csrf}"))).0, 303);
    let (status, _, page) = go("/api/saml/complete", None);
    assert_eq!(status, 200);
    assert!(page.contains("name=\"SAMLResponse\""), "{page}");
    SignedIn { page, request_id }
}

/// Where a sign-in ended: the page that posts the Response, and the request's ID.
pub struct SignedIn {
    pub page: String,
    pub request_id: String,
}

/// A fresh unsigned AuthnRequest from `issuer` as a Redirect-binding path: (ID, path).
pub fn auth_request_path(issuer: &str, year: u16) -> (String, String) {
    let id = format!("_{}", super::random_uuid().replace('-', ""));
    let xml = format!(
        "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" \
         xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" \
         IssueInstant=\"{}\"><saml:Issuer>{issuer}</saml:Issuer></samlp:AuthnRequest>",
        super::wall_clock().format("%Y-%m-%dT%H:%M:%SZ"),
    );
    let value: String = url::form_urlencoded::byte_serialize(
        saml_idp::saml::codec::encode_redirect(xml.as_bytes()).as_bytes(),
    )
    .collect();
    (id, format!("/api/saml/auth{year}?SAMLRequest={value}"))
}

/// A configuration file in `dir` with the test-only 2025 and 2026 keys of `fixtures/keys`
/// and the test base URL.
pub fn fixture_config(dir: &Path) -> PathBuf {
    let key = |name: &str| super::key(name).display().to_string();
    let text = format!(
        "base_url = \"{}\"\n\n[[signing_keys]]\nyear = 2025\ncertificate = \"{}\"\nprivate_key = \"{}\"\n\n[[signing_keys]]\nyear = 2026\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        super::BASE_URL,
        key("idp-2025-test-only.crt"),
        key("idp-2025-test-only.key"),
        key("idp-2026-test-only.crt"),
        key("idp-2026-test-only.key"),
    );
    super::write(dir, "saml-idp.toml", text.as_bytes())
}
