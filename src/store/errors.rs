//! A database failure as each domain's port reports it: the text of the error, never a
//! Diesel type (DESIGN: no ORM types in domain errors).

use std::fmt::Display;

use crate::accounts::AccountError;
use crate::sessions::SessionError;

/// For the account, one-time token and security-key stores.
pub(super) fn account_err(e: impl Display) -> AccountError {
    AccountError::Storage(e.to_string())
}

/// For the session, identity, audit, rate-limit, replay and purge stores.
pub(super) fn session_err(e: impl Display) -> SessionError {
    SessionError(e.to_string())
}
