//! What can go wrong in a use case, said precisely enough for the web layer to pick the
//! status and page (DESIGN "Errors stay typed to the edge"): only a store failure is a
//! database outage (503); a changed SP registration, a user who can no longer receive a
//! response, or a failure to build the response each get their own answer.

use thiserror::Error;

use super::response::ResponseError;
use super::sso::pending::PendingError;
use crate::accounts::AccountError;
use crate::sessions::SessionError;

/// Why a stored request can no longer be answered: the SP changed after it was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpProblem {
    /// The issuer is no longer registered.
    Unknown,
    /// The SP was deactivated.
    Inactive,
    /// The ACS URL the request named is no longer registered.
    AcsRemoved,
    /// The certificate that verified the request is no longer registered.
    CertificateRemoved,
    /// The year of the endpoint the request came in on is no longer live.
    YearNotLive,
}

/// Why the signed-in user cannot be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserProblem {
    /// The account was removed while the browser was signed in.
    Gone,
    /// The SP receives email as NameID and the account has no sign-in email.
    NoEmail,
}

#[derive(Debug, Error)]
pub enum Error {
    /// A store could not be reached or failed: the only 503.
    #[error("storage unavailable: {0}")]
    Storage(String),
    #[error("the service provider changed since the request was verified: {0:?}")]
    Sp(SpProblem),
    #[error("the user cannot be answered: {0:?}")]
    User(UserProblem),
    /// Signing or encryption failed (a key or certificate problem on our side).
    #[error("building the response failed: {0}")]
    Response(String),
    /// The random source failed.
    #[error("no randomness: {0}")]
    Random(&'static str),
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        Error::Storage(e.0)
    }
}

impl From<PendingError> for Error {
    fn from(e: PendingError) -> Self {
        Error::Storage(e.0)
    }
}

impl From<AccountError> for Error {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NotFound(_) => Error::User(UserProblem::Gone),
            other => Error::Storage(other.to_string()),
        }
    }
}

impl From<ResponseError> for Error {
    fn from(e: ResponseError) -> Self {
        match e {
            ResponseError::NoEmail => Error::User(UserProblem::NoEmail),
            ResponseError::NoCertificate => Error::Sp(SpProblem::CertificateRemoved),
            other => Error::Response(other.to_string()),
        }
    }
}
