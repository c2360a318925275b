//! A database failure as each domain's port reports it: the text of the error, never a
//! Diesel type (DESIGN: no ORM types in domain errors).

use std::fmt::Display;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

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

/// Whether a statement failed on a unique constraint (another process inserted first).
pub(super) fn is_unique_violation<T>(result: &Result<T, DieselError>) -> bool {
    matches!(
        result,
        Err(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

/// Runs `attempt` again once if it lost an insert race to another process: the second run
/// sees the winner's row and updates it instead.
pub(super) fn retry_once_if_raced<T>(
    mut attempt: impl FnMut() -> Result<T, DieselError>,
) -> Result<T, DieselError> {
    let first = attempt();
    if is_unique_violation(&first) {
        return attempt();
    }
    first
}
