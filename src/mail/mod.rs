//! Email (SPEC 17): the messages the IdP sends, and the port the use cases send them through.
//! `idp` names only [`Mail`], [`Change`] and the [`Mailer`] trait; composing a message (its
//! localised text and HTML) and delivering it (the development outbox, SMTP) live behind the
//! trait, so tests and nodes choose the transport without touching a use case.

pub mod compose;
pub mod outbox;
pub mod queue;
pub mod sender;
pub mod setting;
pub mod smtp;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use sender::Sender;
pub use setting::{MailerSetting, SmtpServer};

/// What a message says; each is rendered in the user's locale, as plain text and HTML.
/// Serialised (sealed) into the queue between the request that asks for it and its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mail {
    /// Sign-up: confirm this address to go on (the link is single-use, valid 24 h).
    ConfirmEmail { link: String },
    /// A sign-up was started with an address that already has an account: the owner is told
    /// instead, with a sign-in link and a reset link (the person signing up sees the same page
    /// as for a new address).
    AccountExists {
        sign_in_link: String,
        reset_link: String,
    },
    /// Forgot password: set a new one (single-use link, valid 1 h).
    ResetPassword { link: String },
    /// An address added on the account page: confirm it (single-use link, valid 24 h).
    ConfirmNewEmail { link: String },
    /// A change made on the account (sent to every confirmed address of the account).
    AccountChanged { change: Change },
    /// Too many failed sign-in attempts locked the account (SPEC 7), until `until` (UTC,
    /// as shown), or, with `None`, until the password is reset. Sent to every address.
    AccountLocked {
        until: Option<String>,
        reset_link: String,
    },
    /// Forgot password for an address that no account uses: the address is told so (the
    /// person asking sees the same page as for a known address).
    NoAccount,
    /// An address added on the account page that an account already has: the address is
    /// told, and nothing is added (the person adding it sees the same page as for a new one).
    EmailInUse,
    /// Sent to an address removed from an account: links sent to it no longer work.
    AddressRemoved,
    /// A service provider of the recipient's agency was added or changed (SPEC 19), sent
    /// to the agency's administrators: which SP (its name and issuer), who changed it (an
    /// account's public id, or the operator), the names of the fields, and its console page.
    SpChanged {
        sp: String,
        actor: String,
        fields: String,
        link: String,
    },
}

/// The account changes that are announced by email (SPEC 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    PasswordChanged,
    PasswordReset,
    EmailAdded,
    EmailRemoved,
    EmailForSpChanged,
    TotpAdded,
    TotpRemoved,
    SecurityKeyAdded,
    SecurityKeyRemoved,
    BackupCodesRegenerated,
    ConsentRevoked,
    SignedOutEverywhere,
    AccountDeleted,
}

impl Change {
    /// The stable name used in catalogue keys and audit details.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::PasswordChanged => "password_changed",
            Change::PasswordReset => "password_reset",
            Change::EmailAdded => "email_added",
            Change::EmailRemoved => "email_removed",
            Change::EmailForSpChanged => "email_for_sp_changed",
            Change::TotpAdded => "totp_added",
            Change::TotpRemoved => "totp_removed",
            Change::SecurityKeyAdded => "security_key_added",
            Change::SecurityKeyRemoved => "security_key_removed",
            Change::BackupCodesRegenerated => "backup_codes_regenerated",
            Change::ConsentRevoked => "consent_revoked",
            Change::SignedOutEverywhere => "signed_out_everywhere",
            Change::AccountDeleted => "account_deleted",
        }
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum MailError {
    /// The transport could not deliver (server down, refused, outbox not writable), or the
    /// queue could not take the message (its database failed). Delivery failures are the
    /// worker's to retry; only a queue failure reaches a use case.
    #[error("the email could not be sent: {0}")]
    Unavailable(String),
    /// A recipient address the transport cannot use.
    #[error("invalid recipient address")]
    InvalidRecipient,
}

/// Sends one message to `to` (clear addresses, never logged) in `locale` (`en`, `es`, `fr`).
/// The use cases call the queue's implementation ([`queue::QueueMailer`]: the message is
/// stored and the call returns); the worker calls the transport's ([`Sender`]).
pub trait Mailer: Send + Sync {
    fn send(&self, to: &[String], mail: &Mail, locale: &str) -> Result<(), MailError>;
}

impl Mail {
    /// The message's name, for logs (never its links).
    pub fn kind(&self) -> &'static str {
        match self {
            Mail::ConfirmEmail { .. } => "confirm_email",
            Mail::AccountExists { .. } => "account_exists",
            Mail::ResetPassword { .. } => "reset_password",
            Mail::ConfirmNewEmail { .. } => "confirm_new_email",
            Mail::AccountChanged { .. } => "account_changed",
            Mail::AccountLocked { .. } => "account_locked",
            Mail::NoAccount => "no_account",
            Mail::EmailInUse => "email_in_use",
            Mail::AddressRemoved => "address_removed",
            Mail::SpChanged { .. } => "sp_changed",
        }
    }
}
