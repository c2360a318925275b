//! Deleting the account (SPEC 17): the password and a current second-factor code (TOTP or a
//! backup code) in the same form, both counted towards the lock like sign-in. The addresses
//! are told first (afterwards they are gone), then every session and remembered browser ends
//! and the user is removed with every row that belongs to it. The agency UUIDs go with it and
//! are never reused: a new account gets new random ones.

use super::{gate, notify, recheck_problem, Fresh, Outcome, Problem};
use crate::idp::sign_in::{recheck_code, recheck_password};
use crate::idp::{audit, Deps, Error};
use crate::mail::Change;
use crate::sessions::SessionRecord;

/// The delete form as typed.
pub struct Deletion<'a> {
    pub password: &'a str,
    pub code: &'a str,
    /// The client address bucket key (rate limits).
    pub client: &'a str,
}

/// The form's own password is its re-authentication, so an older session may delete too.
pub fn delete_account(
    deps: &Deps<'_>,
    session: &SessionRecord,
    form: &Deletion<'_>,
) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::No)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let password = recheck_password(deps, &user, form.password, form.client)?;
    let refused = match recheck_problem(password, Problem::WrongPassword) {
        Some(problem) => Some(problem),
        None => recheck_problem(recheck_code(deps, &user, form.code)?, Problem::WrongCode),
    };
    if let Some(problem) = refused {
        audit::account(deps, Some(&user.public_id), false, "account_delete_refused")?;
        return Ok(Outcome::Refused(problem));
    }
    let notified = notify(deps, &user, Change::AccountDeleted, None)?;
    deps.sessions.delete_for_user(user.id)?;
    deps.sessions.forget_browsers(user.id)?;
    deps.accounts.remove(&user.public_id)?;
    audit::account(
        deps,
        Some(&user.public_id),
        true,
        Change::AccountDeleted.as_str(),
    )?;
    Ok(Outcome::Done {
        value: (),
        notified,
    })
}
