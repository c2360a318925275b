//! The `mailer` setting: `outbox` (development: one `.eml` file per message), or an SMTP
//! server as `smtp://[user:password@]host[:port]` (STARTTLS when the server offers it) or
//! `smtps://…` (implicit TLS). Neither the parse errors nor `Debug` show the credentials.

use std::fmt;
use std::str::FromStr;

/// Where messages go.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum MailerSetting {
    /// `{data_dir}/outbox/{timestamp}-{id}.eml`.
    #[default]
    Outbox,
    Smtp(SmtpServer),
}

/// An SMTP server and how to talk to it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    /// `smtps://`: TLS from the first byte; else STARTTLS when the server offers it.
    pub implicit_tls: bool,
    /// User and password, percent-decoded from the URL.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("implicit_tls", &self.implicit_tls)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

pub const SMTP_PORT: u16 = 25;
pub const SMTPS_PORT: u16 = 465;

impl FromStr for MailerSetting {
    type Err = String;

    /// The error never repeats the value (it may hold a password).
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw == "outbox" {
            return Ok(MailerSetting::Outbox);
        }
        let expected = "expected outbox, smtp://[user:password@]host[:port] or smtps://…";
        let url = url::Url::parse(raw).map_err(|_| format!("not a URL ({expected})"))?;
        let implicit_tls = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(format!("unknown scheme {other:?} ({expected})")),
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err("the SMTP URL names no host".into()),
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err("the SMTP URL must have no path, query or fragment".into());
        }
        let port = match url.port() {
            Some(0) => return Err("port 0 is not a port".into()),
            Some(p) => p,
            None if implicit_tls => SMTPS_PORT,
            None => SMTP_PORT,
        };
        let decode = |s: &str| {
            urlencoding::decode(s)
                .map(|c| c.into_owned())
                .map_err(|_| "the SMTP credentials are not UTF-8 once percent-decoded".to_string())
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => Some((decode(user)?, decode(password)?)),
            _ => return Err("SMTP credentials need both a user and a password".into()),
        };
        Ok(MailerSetting::Smtp(SmtpServer {
            host,
            port,
            implicit_tls,
            credentials,
        }))
    }
}

impl MailerSetting {
    /// For the start-up log line: the transport and server, never the credentials.
    pub fn describe(&self) -> String {
        match self {
            MailerSetting::Outbox => "outbox".into(),
            MailerSetting::Smtp(s) => format!(
                "{}://{}:{}{}",
                if s.implicit_tls { "smtps" } else { "smtp" },
                s.host,
                s.port,
                if s.credentials.is_some() {
                    " (with credentials)"
                } else {
                    ""
                }
            ),
        }
    }
}

/// Whether `address` is a usable sender or recipient (`local@domain`, domain may be an IP).
pub fn is_valid_address(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(raw: &str) -> SmtpServer {
        match raw.parse::<MailerSetting>() {
            Ok(MailerSetting::Smtp(s)) => s,
            other => panic!("{raw}: {other:?}"),
        }
    }

    #[test]
    fn urls_are_parsed() {
        assert_eq!("outbox".parse::<MailerSetting>(), Ok(MailerSetting::Outbox));
        let s = smtp("smtp://mail.example.gov:587");
        assert_eq!(
            (s.host.as_str(), s.port, s.implicit_tls),
            ("mail.example.gov", 587, false)
        );
        assert_eq!(s.credentials, None);
        let s = smtp("smtps://u%40x:p%3As%2Fw@mail.example.gov");
        assert_eq!((s.port, s.implicit_tls), (SMTPS_PORT, true));
        assert_eq!(s.credentials, Some(("u@x".into(), "p:s/w".into())));
        assert_eq!(smtp("smtp://127.0.0.1").port, SMTP_PORT);
        assert_eq!(smtp("smtp://[::1]:2525").host, "::1");
    }

    #[test]
    fn bad_values_are_refused_without_echoing_secrets() {
        for raw in [
            "",
            "outbox2",
            "http://mail.example.gov",
            "smtp://",
            "smtp://user@mail.example.gov",
            "smtp://:secret-pw@mail.example.gov",
            "smtp://mail.example.gov/path",
            "smtp://mail.example.gov?x=1",
            "smtp://mail.example.gov:0",
            "smtp://mail.example.gov:99999",
        ] {
            let err = raw.parse::<MailerSetting>().expect_err(raw);
            assert!(!err.contains("secret-pw"), "{err}");
        }
    }

    #[test]
    fn debug_and_describe_hide_the_credentials() {
        let s: MailerSetting = "smtp://alice:hunter22@mail.example.gov:25".parse().unwrap();
        for shown in [format!("{s:?}"), s.describe()] {
            assert!(
                !shown.contains("hunter22") && !shown.contains("alice"),
                "{shown}"
            );
        }
        assert_eq!(
            s.describe(),
            "smtp://mail.example.gov:25 (with credentials)"
        );
    }

    #[test]
    fn addresses() {
        assert!(is_valid_address("no-reply@idp.example.gov"));
        assert!(is_valid_address("no-reply@127.0.0.1"));
        assert!(!is_valid_address("no-reply"));
        assert!(!is_valid_address("a@b@c"));
        assert!(!is_valid_address("Name <a@b.gov>"));
    }
}
