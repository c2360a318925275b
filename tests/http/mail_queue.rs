//! The mail queue from the outside (SPEC 17, issue 20): with a real SMTP server (aiosmtpd)
//! that is slow and then down, `/forgot-password` answers a known and an unknown address
//! alike and at once, and the queued mail arrives, once each, when the server is back; the
//! per-address caps drop what is over them without changing the page; `/metrics` shows the
//! queue; the development outbox keeps its files to the IdP's user.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::flow::{start_on, Answer, Flow};
use common::mail::{eml_files, TestSmtpServer};
use saml_idp::clock::SystemClock;
use saml_idp::config::Config;
use saml_idp::mail::queue::QueueSettings;

const KNOWN: &str = "ada@example.gov";
const UNKNOWN: &str = "nobody@example.gov";
/// How long the slow server sits on each message before accepting it.
const SLOW_SECONDS: u64 = 5;

/// A worker that polls often and retries after a second (at most two).
fn quick_queue() -> QueueSettings {
    QueueSettings {
        poll_interval: Duration::from_millis(200),
        retry_after: Duration::from_secs(1),
        max_retry_after: Duration::from_secs(2),
        ..QueueSettings::default()
    }
}

/// The flow's state rebuilt with `configure` applied to its configuration and the real clock
/// (the worker schedules retries by it).
fn reconfigure(f: &mut Flow, configure: impl FnOnce(&mut Config)) {
    let mut config = common::config(&f._db.url);
    configure(&mut config);
    f.state = common::app_state_with(&f._db, Arc::new(SystemClock), config);
}

/// `POST /forgot-password` for `email`; the answer, and how long the POST took.
async fn forgot(f: &mut Flow, email: &str) -> (Answer, Duration) {
    let csrf = f.csrf("/forgot-password").await;
    let started = Instant::now();
    let answer = f
        .post("/forgot-password", &[("csrf", &csrf), ("email", email)])
        .await;
    (answer, started.elapsed())
}

/// Status and body, with every CSRF value masked.
fn masked(answer: &Answer) -> (u16, String) {
    let mut body = String::new();
    let mut rest = answer.body.as_str();
    while let Some(at) = rest.find("name=\"csrf\" value=\"") {
        let start = at + "name=\"csrf\" value=\"".len();
        body.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find('"').unwrap_or(rest.len());
        body.push_str("MASKED");
        rest = &rest[end..];
    }
    body.push_str(rest);
    (answer.status, body)
}

/// (recipient, subject) of everything `server` accepted, sorted.
fn delivered(server: &TestSmtpServer) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = server
        .received()
        .into_iter()
        .map(|(envelope, message)| {
            let to = envelope["rcpt_tos"][0]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let subject = message["subject"].as_str().unwrap_or_default().to_string();
            (to, subject)
        })
        .collect();
    all.sort();
    all
}

/// Waits up to `limit` for `server` to have accepted `n` messages.
fn wait_for(server: &TestSmtpServer, n: usize, limit: Duration) -> Vec<(String, String)> {
    let started = Instant::now();
    loop {
        let got = delivered(server);
        if got.len() >= n || started.elapsed() > limit {
            return got;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[actix_rt::test]
async fn forgot_password_answers_alike_while_the_mail_server_is_slow_or_down() {
    for (backend, db) in common::every_backend() {
        let slow = TestSmtpServer::start(&["--delay", &SLOW_SECONDS.to_string()]);
        let port = slow.port;
        let mut f = start_on(db, common::wall_clock());
        reconfigure(&mut f, |c| {
            c.mailer = slow.setting(None);
            c.mail = quick_queue();
        });
        let worker = f.state.mail_worker.start().expect("worker");

        // Slow: the worker is busy with the server; neither request waits for it.
        let (known, known_took) = forgot(&mut f, KNOWN).await;
        let (unknown, unknown_took) = forgot(&mut f, UNKNOWN).await;
        assert_eq!(known.status, 200, "{backend}: {}", known.body);
        assert_eq!(masked(&known), masked(&unknown), "{backend}: one answer");
        let slow_server = Duration::from_secs(SLOW_SECONDS);
        assert!(
            known_took < slow_server && unknown_took < slow_server,
            "{backend}: a page waited for the mail server ({known_took:?}, {unknown_took:?})"
        );

        // Down (killed while the worker was waiting on it): the same answer again.
        drop(slow);
        let (known_down, _) = forgot(&mut f, KNOWN).await;
        let (unknown_down, _) = forgot(&mut f, UNKNOWN).await;
        assert_eq!(
            masked(&known_down),
            masked(&known),
            "{backend}: known, down"
        );
        assert_eq!(
            masked(&unknown_down),
            masked(&known),
            "{backend}: unknown, down"
        );

        // Back, on the same port: every message arrives once the worker retries.
        let back = TestSmtpServer::start(&["--port", &port.to_string()]);
        let got = wait_for(&back, 4, Duration::from_secs(30));
        let reset = "Reset your saml-idp development identity provider password";
        let notice = "Password reset requested for saml-idp development identity provider";
        let expected = vec![
            (KNOWN.to_string(), reset.to_string()),
            (KNOWN.to_string(), reset.to_string()),
            (UNKNOWN.to_string(), notice.to_string()),
            (UNKNOWN.to_string(), notice.to_string()),
        ];
        assert_eq!(got, expected, "{backend}");
        // A further round sends nothing twice.
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(delivered(&back).len(), 4, "{backend}: each message once");
        worker.stop();
        let metrics = f.get("/metrics").await.body;
        for family in [
            "saml_idp_mail_queued_total{kind=\"reset_password\"}",
            "saml_idp_mail_queued_total{kind=\"no_account\"}",
            "saml_idp_mail_sent_total{kind=\"reset_password\"}",
            "saml_idp_mail_failed_attempts_total{kind=",
            "saml_idp_mail_queue_messages{state=\"waiting\"}",
            "saml_idp_mail_queue_messages{state=\"failing\"}",
        ] {
            assert!(
                metrics.contains(family),
                "{backend}: {family} in\n{metrics}"
            );
        }
        let stats = f.state.stores.mail_queue.stats().expect("stats");
        assert_eq!((stats.waiting, stats.failing), (0, 0), "{backend}");
    }
}

/// L8: over the per-address cap a message is not sent (nor stored), and the page says what
/// it says for any address; the drop is counted in `/metrics`.
#[actix_rt::test]
async fn mail_over_the_per_address_cap_is_dropped_and_the_page_is_unchanged() {
    for (backend, db) in common::every_backend() {
        let data = tempfile::tempdir().expect("data dir");
        let mut f = start_on(db, common::wall_clock());
        reconfigure(&mut f, |c| {
            c.data_dir = data.path().to_path_buf();
            c.mail = QueueSettings {
                max_per_address_per_hour: 2,
                ..quick_queue()
            };
        });
        let answers: Vec<(u16, String)> = {
            let mut answers = Vec::new();
            for _ in 0..3 {
                answers.push(masked(&forgot(&mut f, KNOWN).await.0));
            }
            answers
        };
        assert_eq!(answers[0].0, 200, "{backend}");
        assert!(
            answers.iter().all(|a| *a == answers[0]),
            "{backend}: the third answer is the same"
        );
        let round = f.state.mail_worker.run_once().expect("round");
        assert_eq!((round.sent, round.failed), (2, 0), "{backend}");
        let outbox = data.path().join("outbox");
        assert_eq!(eml_files(&outbox).len(), 2, "{backend}: two of three sent");
        let metrics = f.get("/metrics").await.body;
        let dropped = metrics
            .lines()
            .find(|l| l.starts_with("saml_idp_mail_dropped_total{cap=\"hourly\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<f64>().ok());
        assert!(dropped >= Some(1.0), "{backend}: {metrics}");
        assert!(
            metrics.contains("saml_idp_mail_queue_messages{state=\"waiting\"} 0"),
            "{backend}: the worker's last round left nothing waiting"
        );
        // The outbox keeps live links: only the IdP's user may read it.
        outbox_is_private(&outbox, backend);
    }
}

#[cfg(unix)]
fn outbox_is_private(outbox: &std::path::Path, backend: &str) {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
    assert_eq!(mode(outbox), 0o700, "{backend}: the outbox directory");
    for file in eml_files(outbox) {
        assert_eq!(mode(&file), 0o600, "{backend}: {}", file.display());
    }
}

#[cfg(not(unix))]
fn outbox_is_private(_: &std::path::Path, _: &str) {}

/// The payload at rest is sealed: neither the address nor the link is in the table.
#[actix_rt::test]
async fn queued_mail_is_sealed_at_rest() {
    for (backend, db) in common::every_backend() {
        let mut f = start_on(db, common::wall_clock());
        reconfigure(&mut f, |c| c.mail = quick_queue());
        forgot(&mut f, KNOWN).await;
        #[derive(diesel::QueryableByName)]
        struct Payload {
            #[diesel(sql_type = diesel::sql_types::Text)]
            payload: String,
            #[diesel(sql_type = diesel::sql_types::Text)]
            recipient_key: String,
        }
        use diesel::{Connection, RunQueryDsl};
        let query = diesel::sql_query("SELECT payload, recipient_key FROM mail_queue");
        let rows: Vec<Payload> = match saml_idp::store::Backend::from_url(&f._db.url) {
            (saml_idp::store::Backend::Sqlite, path) => {
                let mut c = diesel::SqliteConnection::establish(&path).expect("sqlite");
                query.load(&mut c).expect("rows")
            }
            (saml_idp::store::Backend::Postgres, url) => {
                let mut c = diesel::PgConnection::establish(&url).expect("postgres");
                query.load(&mut c).expect("rows")
            }
        };
        assert_eq!(rows.len(), 1, "{backend}");
        let (_, lookup) = f.state.account_crypto.email_lookup(KNOWN).expect("lookup");
        assert_eq!(rows[0].recipient_key, lookup, "{backend}: the keyed lookup");
        for clear in ["ada@", "reset-password", "token="] {
            assert!(!rows[0].payload.contains(clear), "{backend}: {clear}");
        }
    }
}
