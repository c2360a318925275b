//! Several nodes on one PostgreSQL behind a real nginx (SPEC 13), and what happens when
//! PostgreSQL or a node restarts under load. Each test runs its own PostgreSQL (`initdb`,
//! `pg_ctl`) on a free port and its own nginx, so stopping them disturbs nothing else.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::cluster::{cli, node, Nginx, TempPostgres};
use common::flow::{form_field, python_verdict_of, python_verdicts, PYTHON_SP1};
use common::process::{
    auth_request_path, browse, curl, free_port, sign_in_at_sp, Server, SignIn, SignedIn,
};

const BASE_URL: &str = "http://idp.localtest";
const SP1: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1";
const TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The configuration every node shares: the test-only 2025/2026 keys, the proxy trusted,
/// the registry re-read every second, and the per-client limiter raised (the load comes
/// from one address).
fn config(dir: &Path) -> String {
    let key = |name: &str| common::key(name).display().to_string();
    let text = format!(
        "base_url = \"{BASE_URL}\"\nregistry_refresh_seconds = 1\ntrusted_proxies = [\"127.0.0.1/32\"]\n\n\
         [limits]\nsaml_per_minute = 1000000\nposts_per_minute = 1000000\n\n\
         [[signing_keys]]\nyear = 2025\ncertificate = \"{}\"\nprivate_key = \"{}\"\n\n\
         [[signing_keys]]\nyear = 2026\ncertificate = \"{}\"\nprivate_key = \"{}\"\n",
        key("idp-2025-test-only.crt"),
        key("idp-2025-test-only.key"),
        key("idp-2026-test-only.crt"),
        key("idp-2026-test-only.key"),
    );
    common::write(dir, "cluster.toml", text.as_bytes())
        .display()
        .to_string()
}

struct Cluster {
    dir: tempfile::TempDir,
    args: Vec<String>,
    ports: Vec<u16>,
    nodes: Vec<Option<Server>>,
    nginx: Nginx,
    pg: TempPostgres,
}

impl Cluster {
    /// PostgreSQL, the SPs of the fixtures, `users` users (`user{N}@example.gov`), three
    /// nodes and nginx in front of them.
    fn start(users: usize) -> Cluster {
        let pg = TempPostgres::start();
        let dir = tempfile::tempdir().expect("dir");
        let args = vec![
            "--config".to_string(),
            config(dir.path()),
            "--database-url".to_string(),
            pg.url(),
        ];
        let cluster_cli = |more: &[&str]| {
            let common_args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (ok, out, err) = cli(dir.path(), &common_args, more);
            assert!(ok, "{more:?}: {err}");
            out
        };
        cluster_cli(&["migrate"]);
        let sps = common::fixture("service_providers.toml");
        cluster_cli(&["sp", "import", sps.to_str().expect("path")]);
        for n in 0..users {
            let email = format!("user{n}@example.gov");
            cluster_cli(&[
                "user",
                "add",
                "--email",
                &email,
                "--password",
                &password(n),
                "--totp-secret",
                TOTP,
            ]);
        }
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let common_args: Vec<&str> = args.iter().map(String::as_str).collect();
        let nodes = ports
            .iter()
            .map(|&p| Some(node(dir.path(), p, &common_args)))
            .collect();
        let nginx = Nginx::start(&ports);
        Cluster {
            dir,
            args,
            ports,
            nodes,
            nginx,
            pg,
        }
    }

    fn cli(&self, more: &[&str]) -> (bool, String, String) {
        let common_args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        cli(self.dir.path(), &common_args, more)
    }

    fn restart_node(&mut self, i: usize) {
        let common_args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.nodes[i] = Some(node(self.dir.path(), self.ports[i], &common_args));
    }

    fn node(&self, i: usize) -> &Server {
        self.nodes[i].as_ref().expect("node running")
    }

    fn sign_in(&self, user: usize, jar: &Path) -> SignedIn {
        let email = format!("user{user}@example.gov");
        sign_in_at_sp(
            &[self.nginx.port],
            jar,
            &SignIn {
                issuer: SP1,
                year: 2026,
                email: &email,
                password: &password(user),
                totp_secret: TOTP,
            },
        )
    }
}

fn password(n: usize) -> String {
    format!("multi-node-password-{n}")
}

/// The requests a node has answered, by route pattern (from its own `/metrics`).
fn served(server: &Server) -> BTreeMap<String, u64> {
    let (_, body) = curl(server, "/metrics");
    let mut by_route = BTreeMap::new();
    for line in String::from_utf8_lossy(&body).lines() {
        let Some(rest) = line.strip_prefix("saml_idp_http_requests_total{endpoint=\"") else {
            continue;
        };
        let route = rest.split('"').next().unwrap_or_default().to_string();
        let count: u64 = line
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        *by_route.entry(route).or_default() += count;
    }
    by_route
}

fn verdict(signed_in: &SignedIn) -> serde_json::Value {
    let response = form_field(&signed_in.page, "SAMLResponse").expect("SAMLResponse");
    python_verdict_of(&response, &PYTHON_SP1, &signed_in.request_id, BASE_URL)
}

#[test]
fn three_nodes_behind_nginx_share_sign_in_registry_and_logout() {
    let cluster = Cluster::start(1);
    let jar = cluster.dir.path().join("browser.txt");

    // A sign-in whose ten requests nginx spreads over the three nodes.
    let signed_in = cluster.sign_in(0, &jar);
    let v = verdict(&signed_in);
    assert_eq!(v["valid"], true, "{v}");
    let name_id = v["name_id"].as_str().expect("NameID").to_string();
    let flow_routes = ["/sign-in", "/sign-in/mfa", "/consent", "/api/saml/complete"];
    for i in 0..3 {
        let served = served(cluster.node(i));
        let steps: u64 = flow_routes.iter().filter_map(|r| served.get(*r)).sum();
        assert!(
            steps > 0,
            "node {i} served no step of the sign-in: {served:?}"
        );
    }

    // An SP added through the CLI is used on every node within the refresh interval.
    let issuer = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:added-later";
    let cert = common::key("sp2-test-only.crt");
    let added = Instant::now();
    let (ok, _, err) = cluster.cli(&[
        "sp",
        "add",
        "--issuer",
        issuer,
        "--acs-url",
        "http://localhost:9003/acs",
        "--cert",
        cert.to_str().expect("path"),
        "--block-encryption",
        "none",
    ]);
    assert!(ok, "{err}");
    for i in 0..3 {
        let port = cluster.node(i).port;
        let fresh = cluster.dir.path().join(format!("fresh-{i}.txt"));
        loop {
            let (_, path) = auth_request_path(issuer, 2026);
            match browse(port, &fresh, &path, None).0 {
                303 => break,
                400 => assert!(
                    added.elapsed() < Duration::from_secs(4),
                    "node {i} still refuses the new SP after {:?}",
                    added.elapsed()
                ),
                other => panic!("node {i}: {other}"),
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    // The browser is signed in on every node; a remote logout received by node 0 ends the
    // session at once when the browser next comes through node 1 or node 2.
    for i in [1, 2] {
        let (_, path) = auth_request_path(SP1, 2026);
        let (status, _, page) = browse(cluster.node(i).port, &jar, &path, None);
        assert_eq!(status, 200, "node {i}: signed in and consented: {page}");
    }
    assert_eq!(remote_logout(&cluster, 0, &name_id).0, 200);
    for i in [1, 2] {
        let (_, path) = auth_request_path(SP1, 2026);
        let (status, location, _) = browse(cluster.node(i).port, &jar, &path, None);
        assert_eq!(
            (status, location.starts_with("/sign-in")),
            (303, true),
            "node {i} must ask for a new sign-in: {location}"
        );
    }
}

/// What one load request saw (the fields of the wrong ones are read by the failure message).
#[derive(Debug, Clone)]
#[allow(dead_code)]
enum Seen {
    /// 200 with a SAMLResponse: (the response, the request's ID) for python3-saml.
    Response(String, String),
    /// 303 of a sign-in step.
    Redirect,
    /// 503 with the "try again" page.
    Unavailable,
    /// Anything else: status and the start of the body (a failure of the test).
    Wrong(u16, String),
    /// No answer within the client's timeout.
    Hang(String),
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .redirects(0)
        .build()
}

fn classify(result: Result<ureq::Response, ureq::Error>, request_id: &str, ok: u16) -> Seen {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Seen::Hang(e.to_string()),
    };
    let status = response.status();
    let body = response.into_string().unwrap_or_default();
    match status {
        200 if ok == 200 => match form_field(&body, "SAMLResponse") {
            Some(r) => Seen::Response(r, request_id.to_string()),
            None => Seen::Wrong(200, body.chars().take(200).collect()),
        },
        303 if ok == 303 => Seen::Redirect,
        503 if body.contains("try again") => Seen::Unavailable,
        other => Seen::Wrong(other, body.chars().take(300).collect()),
    }
}

/// A signed-in browser asking for a Response every few milliseconds (three of them: a few
/// hundred a second, each checked by python3-saml afterwards).
fn sso_load(port: u16, cookie: String, stop: Arc<AtomicBool>, seen: Arc<Mutex<Vec<Seen>>>) {
    let agent = agent();
    while !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(4));
        let (id, path) = auth_request_path(SP1, 2026);
        let result = agent
            .get(&format!("http://127.0.0.1:{port}{path}"))
            .set("Cookie", &cookie)
            .call();
        let s = classify(result, &id, 200);
        seen.lock().expect("lock").push(s);
    }
}

/// New browsers typing the password of user N (the first step of a sign-in), each from its
/// own address as nginx reports it in `X-Forwarded-For`: the nodes trust nginx and rate-limit
/// the browser's address, not nginx's (more than 30 sign-ins a minute from one address
/// would be refused with 429).
fn sign_in_load(port: u16, users: usize, stop: Arc<AtomicBool>, seen: Arc<Mutex<Vec<Seen>>>) {
    let agent = agent();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let user = n % users;
        let address = format!("198.51.100.{}", n % 250 + 1);
        n += 1;
        let base = format!("http://127.0.0.1:{port}");
        let page = match agent
            .get(&format!("{base}/sign-in"))
            .set("X-Forwarded-For", &address)
            .call()
        {
            Ok(r) => r,
            Err(e) => {
                let s = classify(Err(e), "", 200);
                seen.lock().expect("lock").push(s);
                continue;
            }
        };
        let cookie = page
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .to_string();
        let body = page.into_string().unwrap_or_default();
        let Some(csrf) = form_field(&body, "csrf") else {
            seen.lock()
                .expect("lock")
                .push(Seen::Wrong(200, "no csrf".into()));
            continue;
        };
        let email = format!("user{user}@example.gov");
        let result = agent
            .post(&format!("{base}/sign-in"))
            .set("Cookie", &cookie)
            .set("X-Forwarded-For", &address)
            .send_form(&[
                ("csrf", csrf.as_str()),
                ("email", email.as_str()),
                ("password", password(user).as_str()),
            ]);
        let s = classify(result, "", 303);
        seen.lock().expect("lock").push(s);
        thread::sleep(Duration::from_millis(100));
    }
}

/// POSTs a signed LogoutRequest for `name_id` to node `i`: (status, Retry-After).
fn remote_logout(cluster: &Cluster, i: usize, name_id: &str) -> (u16, String) {
    let logout = common::oracles::xmlsec1_signed_logout(
        &format!("{BASE_URL}/api/saml/remotelogout2026"),
        SP1,
        name_id,
    );
    let result = agent()
        .post(&format!(
            "http://127.0.0.1:{}/api/saml/remotelogout2026",
            cluster.node(i).port
        ))
        .send_form(&[("SAMLRequest", logout.as_str())]);
    let response = match result {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("remote logout: {e}"),
    };
    (
        response.status(),
        response
            .header("retry-after")
            .unwrap_or_default()
            .to_string(),
    )
}

/// The count of stored audit events of one type that succeeded.
fn stored_events(cluster: &Cluster, event: &str) -> usize {
    let (ok, out, err) = cluster.cli(&["events", "--json", "--type", event, "--limit", "100000"]);
    assert!(ok, "{err}");
    out.lines()
        .filter(|l| l.contains("\"success\":true"))
        .count()
}

#[test]
fn postgresql_and_a_node_restart_under_load_without_a_wrong_answer() {
    // Enough users that none reaches the 20 sign-ins a minute of one account.
    let users = 8;
    let mut cluster = Cluster::start(users);
    // Browsers signed in before any failure: their sessions must survive it.
    let mut cookies = Vec::new();
    let mut name_ids = Vec::new();
    for user in 0..3 {
        let jar = cluster.dir.path().join(format!("jar-{user}.txt"));
        let signed_in = cluster.sign_in(user, &jar);
        let v = verdict(&signed_in);
        assert_eq!(v["valid"], true, "{v}");
        name_ids.push(v["name_id"].as_str().expect("NameID").to_string());
        let jar_text = std::fs::read_to_string(&jar).expect("jar");
        let value = jar_text
            .lines()
            .find(|l| l.contains("saml_idp_session"))
            .and_then(|l| l.split('\t').next_back())
            .expect("session cookie");
        cookies.push(format!("saml_idp_session={value}"));
    }
    let responses_before = stored_events(&cluster, "SAML Auth");
    assert_eq!(responses_before, 3);

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let port = cluster.nginx.port;
    let mut workers = Vec::new();
    for cookie in &cookies {
        let (cookie, stop, seen) = (cookie.clone(), stop.clone(), seen.clone());
        workers.push(thread::spawn(move || sso_load(port, cookie, stop, seen)));
    }
    {
        let (stop, seen) = (stop.clone(), seen.clone());
        workers.push(thread::spawn(move || sign_in_load(port, users, stop, seen)));
    }
    let count = |seen: &Arc<Mutex<Vec<Seen>>>| seen.lock().expect("lock").len();
    thread::sleep(Duration::from_secs(3));
    let before_outage = count(&seen);

    // PostgreSQL goes away for three seconds, then comes back. Meanwhile an SP's valid
    // back-channel logout is answered 503 (nothing decided, retry), not refused.
    cluster.pg.stop();
    let (status, retry_after) = remote_logout(&cluster, 0, &name_ids[0]);
    assert_eq!((status, retry_after.as_str()), (503, "5"));
    thread::sleep(Duration::from_secs(3));
    cluster.pg.start_again();
    let back = Instant::now();
    // Every node serves again by itself within seconds, without a restart.
    for i in 0..3 {
        while curl(cluster.node(i), "/readyz").0 != 200 {
            assert!(
                back.elapsed() < Duration::from_secs(15),
                "node {i} not ready {:?} after PostgreSQL came back",
                back.elapsed()
            );
            thread::sleep(Duration::from_millis(100));
        }
    }
    let recovered_in = back.elapsed();
    thread::sleep(Duration::from_secs(3));

    // A node is stopped (SIGTERM: it finishes its requests and stores its audit events)
    // and started again on its address; nginx sends its share to the others meanwhile.
    let mut stopped = cluster.nodes[1].take().expect("node 1");
    let _ = Command::new("kill")
        .args(["-TERM", &stopped.child.id().to_string()])
        .status();
    let status = stopped.child.wait().expect("node 1 exits");
    assert!(status.success(), "SIGTERM ends node 1 cleanly: {status:?}");
    drop(stopped);
    thread::sleep(Duration::from_secs(2));
    cluster.restart_node(1);
    thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().expect("load thread");
    }

    let seen = seen.lock().expect("lock").clone();
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut responses = Vec::new();
    for s in &seen {
        let kind = match s {
            Seen::Response(r, id) => {
                responses.push((r.clone(), id.clone()));
                "200 Response"
            }
            Seen::Redirect => "303 sign-in step",
            Seen::Unavailable => "503 try again",
            Seen::Wrong(..) | Seen::Hang(_) => {
                wrong.push(s.clone());
                "wrong"
            }
        };
        *tally.entry(kind).or_default() += 1;
    }
    eprintln!(
        "load: {} requests ({before_outage} before the outage), {tally:?}; nodes ready {recovered_in:?} after PostgreSQL was back",
        seen.len()
    );
    assert!(
        wrong.is_empty(),
        "wrong answers: {:?}",
        &wrong[..wrong.len().min(5)]
    );
    assert!(responses.len() > 100, "the load ran: {tally:?}");
    assert!(
        tally.get("303 sign-in step").copied().unwrap_or(0) > 30,
        "more sign-ins than one address may make in a minute, none refused: {tally:?}"
    );
    // Every Response is one the SP accepts: python3-saml checks each of them (signature,
    // decryption, InResponseTo = the request it answers, Audience, Destination, times).
    let checked = python_verdicts(&responses, &PYTHON_SP1, BASE_URL);
    assert_eq!(checked["checked"], responses.len(), "{checked}");
    assert_eq!(checked["valid"], responses.len(), "{checked}");
    // Nothing written is lost: the sessions made before the outage still sign in, and
    // every Response sent has its audit event stored (buffered ones included).
    for cookie in &cookies {
        let (id, path) = auth_request_path(SP1, 2026);
        let result = agent()
            .get(&format!("http://127.0.0.1:{port}{path}"))
            .set("Cookie", cookie)
            .call();
        assert!(matches!(classify(result, &id, 200), Seen::Response(..)));
    }
    for i in 0..3 {
        let _ = Command::new("kill")
            .args(["-TERM", &cluster.node(i).child.id().to_string()])
            .status();
    }
    for slot in cluster.nodes.iter_mut() {
        if let Some(server) = slot.as_mut() {
            let _ = server.child.wait();
        }
    }
    let stored = stored_events(&cluster, "SAML Auth");
    assert_eq!(
        stored,
        responses_before + responses.len() + cookies.len(),
        "one stored event per Response sent"
    );
}
