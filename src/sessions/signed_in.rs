//! What single sign-on reads about a signed-in browser, in one statement (issue 23): the
//! session, its user, the user's consent to the SP, the user's persistent UUID at the SP's
//! agency and the user's emails. Separate reads cost a pool checkout and a statement each
//! (on PostgreSQL, a network round trip each) on every Response.

use chrono::{DateTime, Utc};

use super::{SessionError, SessionRecord};
use crate::accounts::{EmailRecord, UserRecord};

/// A live session whose user exists, and what the request's SP needs of that user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInRead {
    pub session: SessionRecord,
    pub user: UserRecord,
    /// The attributes the user agreed to share with the SP (`IdentityStore::consent`).
    pub consent: Option<Vec<String>>,
    /// The user's UUID at the SP's agency, when one was made (`IdentityStore::agency_uuid`
    /// makes it otherwise).
    pub agency_uuid: Option<String>,
    /// Every email of the user, in the order `AccountStore::emails` gives them.
    pub emails: Vec<EmailRecord>,
}

/// Where a request's reads are asked from.
#[derive(Debug, Clone, Copy)]
pub struct SignedInQuery<'a> {
    pub token_hash: &'a str,
    pub now: DateTime<Utc>,
    /// Sessions not seen since are idle (as `SessionStore::get`).
    pub idle_cutoff: DateTime<Utc>,
    pub issuer: &'a str,
    pub agency_key: &'a str,
}

pub trait SignedInReads: Send + Sync {
    /// The session of `token_hash` if it is live and its user exists, with the user's facts
    /// for the SP; `None` otherwise (no such session, expired, idle, or without a user): the
    /// caller then reads the session alone, as before.
    fn signed_in(&self, query: &SignedInQuery<'_>) -> Result<Option<SignedInRead>, SessionError>;
}
