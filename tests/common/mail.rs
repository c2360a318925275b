//! A `Mailer` for tests: records every message (recipients, what it says, locale) instead of
//! sending it, and fails on demand, so tests read the links and check who was told what.

use std::sync::{Arc, Mutex};

use saml_idp::mail::{Change, Mail, MailError, Mailer};

#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<(Vec<String>, Mail, String)>>,
    failing: Mutex<bool>,
}

impl RecordingMailer {
    pub fn new() -> Arc<RecordingMailer> {
        Arc::new(RecordingMailer::default())
    }

    /// Every message so far: (recipients, message, locale).
    pub fn sent(&self) -> Vec<(Vec<String>, Mail, String)> {
        self.sent.lock().expect("mailer lock").clone()
    }

    /// From now on every send fails (true) or is recorded (false).
    pub fn fail(&self, failing: bool) {
        *self.failing.lock().expect("mailer lock") = failing;
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.sent.lock().expect("mailer lock").clear();
    }

    /// The last message and its recipients.
    pub fn last(&self) -> Option<(Vec<String>, Mail)> {
        self.sent().pop().map(|(to, mail, _)| (to, mail))
    }

    /// The recipients of each `AccountChanged` notice of `change`, in order.
    pub fn notices(&self, change: Change) -> Vec<Vec<String>> {
        self.sent()
            .into_iter()
            .filter(|(_, mail, _)| *mail == Mail::AccountChanged { change })
            .map(|(to, _, _)| to)
            .collect()
    }

    /// The link of the last `ConfirmNewEmail` message to `to`.
    pub fn confirm_link(&self, to: &str) -> Option<String> {
        self.sent()
            .into_iter()
            .rev()
            .find_map(|(rcpt, mail, _)| match mail {
                Mail::ConfirmNewEmail { link } if rcpt == [to.to_string()] => Some(link),
                _ => None,
            })
    }
}

impl Mailer for RecordingMailer {
    fn send(&self, to: &[String], mail: &Mail, locale: &str) -> Result<(), MailError> {
        if *self.failing.lock().expect("mailer lock") {
            return Err(MailError::Unavailable("test mailer set to fail".into()));
        }
        self.sent.lock().expect("mailer lock").push((
            to.to_vec(),
            mail.clone(),
            locale.to_string(),
        ));
        Ok(())
    }
}
