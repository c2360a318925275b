//! The [`Mailer`] the server uses: composes the message in the recipient's locale, puts it in
//! an RFC 5322 envelope (multipart/alternative, text then HTML, UTF-8; From, To, Subject,
//! Date, Message-ID) and hands it to the configured transport. Addresses are never logged.

use std::path::PathBuf;
use std::sync::Arc;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, Message};

use super::compose::{compose, Composed};
use super::outbox::Outbox;
use super::setting::MailerSetting;
use super::smtp::Smtp;
use super::{Mail, MailError, Mailer};
use crate::clock::{Clock, SystemClock};
use crate::ids::{IdSource, RandomIds};

enum Transport {
    Outbox(Outbox),
    Smtp(Smtp),
}

/// `Content-Language` (RFC 3282): the language the message is written in.
#[derive(Clone)]
struct ContentLanguage(&'static str);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        match crate::i18n::Locale::parse(s) {
            Some(locale) if locale.code() == s.trim() => Ok(ContentLanguage(locale.code())),
            _ => Err("not a supported language".into()),
        }
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

pub struct Sender {
    /// `mail_from`, checked by the configuration.
    from: String,
    /// The organization's display name: the From name, and named in every message.
    product: String,
    transport: Transport,
    /// The `Date` header and the outbox's file names.
    clock: Arc<dyn Clock>,
    /// The `Message-ID` and the outbox's file names.
    ids: Arc<dyn IdSource>,
}

impl Sender {
    /// `outbox_dir` is used when `setting` is `outbox`. Dates and ids come from the system
    /// clock and random UUIDs; [`Sender::with_sources`] takes others.
    pub fn new(setting: &MailerSetting, outbox_dir: PathBuf, from: &str, product: &str) -> Sender {
        Sender::with_sources(
            setting,
            outbox_dir,
            from,
            product,
            Arc::new(SystemClock),
            Arc::new(RandomIds),
        )
    }

    /// As [`Sender::new`], with the clock and id source given.
    pub fn with_sources(
        setting: &MailerSetting,
        outbox_dir: PathBuf,
        from: &str,
        product: &str,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Sender {
        let transport = match setting {
            MailerSetting::Outbox => {
                Transport::Outbox(Outbox::new(outbox_dir, clock.clone(), ids.clone()))
            }
            MailerSetting::Smtp(server) => Transport::Smtp(Smtp::new(server.clone())),
        };
        Sender {
            from: from.to_string(),
            product: product.to_string(),
            transport,
            clock,
            ids,
        }
    }

    /// The envelope around a composed message.
    pub fn envelope(&self, to: &[String], composed: Composed) -> Result<Message, MailError> {
        let from: Address = self
            .from
            .parse()
            .map_err(|_| MailError::Unavailable("the mail_from address is invalid".into()))?;
        if to.is_empty() {
            return Err(MailError::InvalidRecipient);
        }
        let message_id = format!(
            "<{}@{}>",
            self.ids.uuid().replace('-', ""),
            from.domain().trim_start_matches('[').trim_end_matches(']')
        );
        let mut builder = Message::builder()
            .from(Mailbox::new(Some(self.product.clone()), from))
            .subject(composed.subject)
            .date(self.clock.now().into())
            .message_id(Some(message_id))
            .header(ContentLanguage(composed.lang));
        for address in to {
            let address: Address = address
                .trim()
                .parse()
                .map_err(|_| MailError::InvalidRecipient)?;
            builder = builder.to(Mailbox::new(None, address));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                composed.text,
                composed.html,
            ))
            .map_err(|_| MailError::Unavailable("the message cannot be built".into()))
    }
}

impl Mailer for Sender {
    fn send(&self, to: &[String], mail: &Mail, locale: &str) -> Result<(), MailError> {
        let composed = compose(mail, locale, &self.product)?;
        let message = self.envelope(to, composed)?;
        let result = match &self.transport {
            Transport::Outbox(outbox) => outbox.write(&message.formatted()).map(|_| ()),
            Transport::Smtp(smtp) => smtp.send(&message),
        };
        match &result {
            Ok(()) => tracing::debug!(mail = mail.kind(), recipients = to.len(), "mail sent"),
            Err(e) => tracing::warn!(mail = mail.kind(), error = %e, "mail not sent"),
        }
        result
    }
}
