//! The account page (SPEC 17): what a signed-in person does with their own account. Every
//! use case re-checks everything itself: the session has passed the second factor, its user
//! still exists and is active, and, for every change, the password was typed within the last
//! [`REAUTH_MINUTES`] (else [`Outcome::ReauthenticationNeeded`]). Every change writes an
//! `Account` audit event (a fixed word, never PII) and is announced by email to the account's
//! addresses (except, for an address change, the address concerned); a notice that could not
//! be queued is reported to the page (`notified: false`), never dropped.

pub mod connected;
pub mod delete;
pub mod emails;
pub mod factors;
pub mod overview;
pub mod password;
pub mod reauth;
pub mod security_keys;

use super::audit;
use super::{notice, Deps, Error};
use crate::accounts::password_policy::PasswordProblem;
use crate::accounts::{UserRecord, UserStatus};
use crate::idp::security_key::Refusal;
use crate::idp::sign_in::Recheck;
use crate::mail::{Change, Mail};
use crate::sessions::SessionRecord;

pub use crate::idp::session::REAUTH_MINUTES;

/// What an account use case did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T = ()> {
    /// Done; `notified` is false when the email announcing the change could not be queued.
    Done { value: T, notified: bool },
    /// Nothing was changed, for this reason.
    Refused(Problem),
    /// The browser has no fully signed-in session (or its user is gone or suspended).
    NotSignedIn,
    /// The password was typed more than [`REAUTH_MINUTES`] ago: type it again first.
    ReauthenticationNeeded,
}

/// Why a change was refused; each has its message on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    WrongPassword,
    /// The TOTP or backup code is wrong, expired or already used.
    WrongCode,
    /// Too many failures: the account is locked (SPEC 7).
    Locked,
    RateLimited,
    NewPassword(PasswordProblem),
    InvalidEmail,
    TooManyEmails,
    /// Not an address of this account.
    UnknownEmail,
    LastEmail,
    /// Removing it would leave no second factor (backup codes do not count).
    LastFactor,
    TotpAlreadySet,
    NoTotp,
    /// The authenticator app set-up expired (or was finished in another tab).
    SetupExpired,
    /// The confirmation link is expired, used, or not this account's.
    LinkDead,
    /// No consent to this SP to revoke.
    NotConnected,
    /// A security key could not be registered (SPEC 18).
    KeyRefused(Refusal),
    /// No such security key on this account.
    NoSuchKey,
}

impl<T> From<Stop> for Outcome<T> {
    fn from(stop: Stop) -> Self {
        match stop {
            Stop::NotSignedIn => Outcome::NotSignedIn,
            Stop::Reauthenticate => Outcome::ReauthenticationNeeded,
        }
    }
}

/// Why a use case stops before looking at its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    NotSignedIn,
    Reauthenticate,
}

/// Whether the use case needs the password typed recently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    /// Only a fully signed-in session (looking, or a form that carries the password itself).
    No,
    /// A change: the password typed within [`REAUTH_MINUTES`].
    Password,
}

/// Whether the session's password is recent enough for a change.
pub fn password_is_fresh(deps: &Deps<'_>, session: &SessionRecord) -> bool {
    crate::idp::session::password_is_fresh(session, deps.now)
}

/// The user of a session past its second factor, read again from the store.
fn gate(
    deps: &Deps<'_>,
    session: &SessionRecord,
    fresh: Fresh,
) -> Result<Result<UserRecord, Stop>, Error> {
    let Some(user_id) = session.user_id.filter(|_| session.mfa_at.is_some()) else {
        return Ok(Err(Stop::NotSignedIn));
    };
    let user = deps.accounts.get(user_id)?;
    let Some(user) = user.filter(|u| u.status == UserStatus::Active) else {
        return Ok(Err(Stop::NotSignedIn));
    };
    if fresh == Fresh::Password && !password_is_fresh(deps, session) {
        return Ok(Err(Stop::Reauthenticate));
    }
    Ok(Ok(user))
}

/// How many second factors can sign this user in: the authenticator app and each security
/// key. Backup codes do not count: they run out, and are a way back in rather than a factor
/// to keep (SPEC 17: the last factor cannot be removed).
pub fn second_factors(user: &UserRecord, security_keys: usize) -> usize {
    usize::from(user.totp_secret_sealed.is_some()) + security_keys
}

/// How many security keys the user has registered (SPEC 18), for [`second_factors`].
fn security_key_count(deps: &Deps<'_>, user: &UserRecord) -> Result<usize, Error> {
    let count = deps.security_keys.count_for_user(user.id)?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// A password or code check that did not pass, as the page's problem.
fn recheck_problem(recheck: Recheck, wrong: Problem) -> Option<Problem> {
    match recheck {
        Recheck::Right => None,
        Recheck::Wrong => Some(wrong),
        Recheck::Locked => Some(Problem::Locked),
        Recheck::RateLimited => Some(Problem::RateLimited),
    }
}

/// Announces `change` to the account's addresses but `except` (the lookup of the address
/// the change is about). False when it could not be sent (audited, and the page says so).
fn notify(
    deps: &Deps<'_>,
    user: &UserRecord,
    change: Change,
    except: Option<&str>,
) -> Result<bool, Error> {
    notice::to_account(deps, user, &Mail::AccountChanged { change }, except)
}

/// The end of every change: its audit event, then its notice.
fn done<T>(
    deps: &Deps<'_>,
    user: &UserRecord,
    change: Change,
    except: Option<&str>,
    value: T,
) -> Result<Outcome<T>, Error> {
    audit::account(deps, Some(&user.public_id), true, change.as_str())?;
    let notified = notify(deps, user, change, except)?;
    Ok(Outcome::Done { value, notified })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn user(totp: bool) -> UserRecord {
        UserRecord {
            id: 1,
            public_id: "p".into(),
            password_hash: String::new(),
            totp_secret_sealed: totp.then(|| "sealed".to_string()),
            totp_last_step: None,
            locale: "en".into(),
            status: UserStatus::Active,
            failed_attempts: 0,
            locked_until: None,
            verified_profile_sealed: None,
            verified_at: None,
            piv_record_sealed: None,
            created_at: chrono::DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_app_and_each_security_key_count_as_factors() {
        assert_eq!(second_factors(&user(true), 0), 1);
        assert_eq!(second_factors(&user(true), 2), 3);
        assert_eq!(second_factors(&user(false), 1), 1);
        assert_eq!(second_factors(&user(false), 0), 0);
    }
}
