//! A `Mailer` for tests that records what the use cases send (recipients, the typed message,
//! the locale), and can be told to fail like an SMTP server that is down. The transports
//! themselves (outbox files, SMTP) are tested against real files and a real SMTP server.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use saml_idp::mail::{Change, Mail, MailError, Mailer, MailerSetting, SmtpServer};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub to: Vec<String>,
    pub mail: Mail,
    pub locale: String,
}

#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<Sent>>,
    down: AtomicBool,
}

impl RecordingMailer {
    pub fn new() -> Arc<RecordingMailer> {
        Arc::new(RecordingMailer::default())
    }

    /// From now on every send fails (the server is down) until `set_down(false)`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("lock").clone()
    }

    /// The last message sent, if any.
    pub fn last(&self) -> Option<Sent> {
        self.sent().pop()
    }

    /// The path and query of the link in the last message (`https://host/x?y` → `/x?y`).
    pub fn last_link_path(&self) -> String {
        let sent = self.last().expect("a message was sent");
        let link = match &sent.mail {
            Mail::ConfirmEmail { link }
            | Mail::ResetPassword { link }
            | Mail::ConfirmNewEmail { link } => link.clone(),
            other => panic!("the last message has no link: {other:?}"),
        };
        let url = url::Url::parse(&link).expect("an absolute link");
        format!("{}?{}", url.path(), url.query().unwrap_or_default())
    }

    /// The recipients of each `AccountChanged` notice of `change`, in order.
    pub fn notices(&self, change: Change) -> Vec<Vec<String>> {
        self.sent()
            .into_iter()
            .filter(|s| s.mail == Mail::AccountChanged { change })
            .map(|s| s.to)
            .collect()
    }

    /// The link of the last `ConfirmNewEmail` message sent to `to` alone.
    pub fn confirm_link(&self, to: &str) -> Option<String> {
        self.sent().into_iter().rev().find_map(|s| match s.mail {
            Mail::ConfirmNewEmail { link } if s.to == [to.to_string()] => Some(link),
            _ => None,
        })
    }
}

impl Mailer for RecordingMailer {
    fn send(&self, to: &[String], mail: &Mail, locale: &str) -> Result<(), MailError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(MailError::Unavailable("test server down".into()));
        }
        self.sent.lock().expect("lock").push(Sent {
            to: to.to_vec(),
            mail: mail.clone(),
            locale: locale.to_string(),
        });
        Ok(())
    }
}

/// What Python's email package reads in each file.
pub fn parse(files: &[PathBuf]) -> Vec<Value> {
    let out = Command::new(super::python())
        .arg(super::root().join("tests/mail/parse_eml.py"))
        .args(files)
        .output()
        .expect("python runs");
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "parse_eml.py said: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    parsed.as_array().expect("a list").clone()
}

pub fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

pub fn part<'a>(message: &'a Value, content_type: &str) -> &'a str {
    message["parts"]
        .as_array()
        .expect("parts")
        .iter()
        .find(|p| p["content_type"] == content_type)
        .and_then(|p| p["body"].as_str())
        .unwrap_or_else(|| panic!("no {content_type} part in {message}"))
}

/// A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, killed when dropped. It writes
/// what it receives to a directory: `N.eml` and `N.json` (envelope and login).
pub struct TestSmtpServer {
    child: Child,
    pub port: u16,
    received: tempfile::TempDir,
}

impl TestSmtpServer {
    pub fn start(args: &[&str]) -> TestSmtpServer {
        let received = tempfile::tempdir().expect("temp dir");
        let mut child = Command::new(super::python())
            .arg(super::root().join("tests/mail/smtp_server.py"))
            .arg(received.path())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python runs");
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .and_then(|p| u16::try_from(p).ok());
        match port {
            Some(port) => TestSmtpServer {
                child,
                port,
                received,
            },
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the SMTP server did not start ({read:?}, {line:?}): is aiosmtpd installed (scripts/python-sp-env)?")
            }
        }
    }

    /// The `mailer` setting that names this server.
    pub fn setting(&self, credentials: Option<(&str, &str)>) -> MailerSetting {
        MailerSetting::Smtp(SmtpServer {
            host: "127.0.0.1".into(),
            port: self.port,
            implicit_tls: false,
            credentials: credentials.map(|(u, p)| (u.into(), p.into())),
        })
    }

    /// The envelopes and messages received so far, in order.
    pub fn received(&self) -> Vec<(Value, Value)> {
        let files = eml_files(self.received.path());
        let envelopes = files.iter().map(|f| {
            let text = std::fs::read_to_string(f.with_extension("json")).expect("envelope");
            serde_json::from_str::<Value>(&text).expect("json")
        });
        envelopes.zip(parse(&files)).collect()
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
