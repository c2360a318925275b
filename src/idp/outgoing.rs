//! Queueing the emails that carry a one-time link (SPEC 17). The mailer only queues, so a
//! failure here is the queue's database failing: the token is withdrawn again and the
//! request gets the storage outage's answer, the same whichever branch queued the message
//! (delivery failures never reach a use case: the worker retries them).

use super::{Deps, Error};
use crate::accounts::tokens::TokenPurpose;
use crate::idp::token::TokenHash;
use crate::mail::{Mail, MailError};

/// A queue failure as the use cases report it: a storage outage.
pub fn queue_failed(e: MailError) -> Error {
    Error::Storage(e.to_string())
}

/// Queues `mail` to `to`; if the queue fails, the token `hash` of `purpose` (issued for this
/// message) is taken back before the error is returned.
pub fn send_or_withdraw(
    deps: &Deps<'_>,
    (hash, purpose): (&TokenHash, TokenPurpose),
    to: &[String],
    mail: &Mail,
    locale: &str,
) -> Result<(), Error> {
    if let Err(e) = deps.mailer.send(to, mail, locale) {
        deps.tokens.take(hash, purpose, deps.now)?;
        return Err(queue_failed(e));
    }
    Ok(())
}
