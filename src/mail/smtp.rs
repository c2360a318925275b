//! The SMTP transport (lettre's blocking client): one connection per message, STARTTLS when
//! the server offers it (`smtp://`) or TLS from the start (`smtps://`), certificates checked
//! against the system's roots, credentials when the URL has them, 10 s timeout. A failure is
//! described by its kind and reply code only: server replies can quote the recipient.

use std::time::Duration;

use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};

use super::setting::SmtpServer;
use super::MailError;

/// How long connecting, and each step of the conversation, may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct Smtp {
    server: SmtpServer,
    timeout: Duration,
}

impl Smtp {
    pub fn new(server: SmtpServer) -> Smtp {
        Smtp {
            server,
            timeout: TIMEOUT,
        }
    }

    pub fn send(&self, message: &Message) -> Result<(), MailError> {
        let tls = TlsParameters::new(self.server.host.clone())
            .map_err(|_| MailError::Unavailable("TLS cannot be set up".into()))?;
        let tls = if self.server.implicit_tls {
            Tls::Wrapper(tls)
        } else {
            Tls::Opportunistic(tls)
        };
        let mut builder = SmtpTransport::builder_dangerous(self.server.host.as_str())
            .port(self.server.port)
            .tls(tls)
            .timeout(Some(self.timeout));
        if let Some((user, password)) = &self.server.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        builder
            .build()
            .send(message)
            .map(|_| ())
            .map_err(|e| MailError::Unavailable(describe(&e)))
    }
}

/// The kind of failure and the SMTP reply code; never the server's text.
fn describe(e: &lettre::transport::smtp::Error) -> String {
    let code = e.status().map(|c| format!(" ({c})")).unwrap_or_default();
    if timed_out(e) {
        "the SMTP server did not answer in time".into()
    } else if e.is_tls() {
        "TLS with the SMTP server failed".into()
    } else if e.is_permanent() {
        format!("the SMTP server refused the message{code}")
    } else if e.is_transient() {
        format!("the SMTP server is temporarily unavailable{code}")
    } else if e.is_response() || e.is_client() {
        "the conversation with the SMTP server failed".into()
    } else {
        "cannot connect to the SMTP server".into()
    }
}

/// lettre's `is_timeout` misses a read timeout on Unix, which the OS reports as `WouldBlock`.
fn timed_out(e: &lettre::transport::smtp::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
        }
        source = err.source();
    }
    false
}
