//! What a queued row carries, sealed at rest (it holds an address and live links): the one
//! recipient, the message and its locale, bound to the row's id.

use serde::{Deserialize, Serialize};

use crate::accounts::sealing::AccountCrypto;
use crate::mail::Mail;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Envelope {
    pub to: String,
    pub mail: Mail,
    pub locale: String,
}

impl Envelope {
    pub fn seal(&self, crypto: &AccountCrypto, id: &str) -> Option<String> {
        let json = serde_json::to_vec(self).ok()?;
        crypto.seal_queued_mail(id, &json)
    }

    /// `None` when the payload does not open under this key and id (or is not an envelope).
    pub fn open(crypto: &AccountCrypto, id: &str, sealed: &str) -> Option<Envelope> {
        let json = crypto.open_queued_mail(id, sealed)?;
        serde_json::from_slice(&json).ok()
    }
}
