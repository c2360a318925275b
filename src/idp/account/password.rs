//! Changing the password (SPEC 17): the current one (which is this form's re-authentication,
//! counted towards the lock like sign-in), the new one twice under the password policy. The
//! user's other sessions end (this one stays, its password time restarted) and pending reset
//! links die with the old password.

use super::{done, gate, recheck_problem, Fresh, Outcome, Problem};
use crate::accounts::password_policy;
use crate::accounts::tokens::TokenPurpose;
use crate::accounts::{password, UserRecord};
use crate::idp::sign_in::recheck_password;
use crate::idp::{Deps, Error};
use crate::mail::Change;
use crate::sessions::SessionRecord;

/// The password form as typed.
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
    pub confirmation: &'a str,
    /// The client address bucket key (rate limits).
    pub client: &'a str,
}

pub fn change_password(
    deps: &Deps<'_>,
    session: &SessionRecord,
    form: &PasswordChange<'_>,
) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::No)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let recheck = recheck_password(deps, &user, form.current, form.client)?;
    if let Some(problem) = recheck_problem(recheck, Problem::WrongPassword) {
        return Ok(Outcome::Refused(problem));
    }
    let email = sp_address(deps, &user)?;
    if let Err(problem) = password_policy::check(form.new, form.confirmation, email.as_deref()) {
        return Ok(Outcome::Refused(Problem::NewPassword(problem)));
    }
    let phc = password::hash_password(form.new).map_err(|e| Error::Response(e.to_string()))?;
    deps.accounts.set_password_hash(user.id, &phc)?;
    deps.sessions
        .refresh_password(&session.token_hash, user.id, deps.now)?;
    deps.sessions
        .delete_others_for_user(user.id, &session.token_hash)?;
    deps.tokens
        .delete_for_user(user.id, TokenPurpose::ResetPassword)?;
    done(deps, &user, Change::PasswordChanged, None, ())
}

/// The address SPs receive (the password may not be it).
fn sp_address(deps: &Deps<'_>, user: &UserRecord) -> Result<Option<String>, Error> {
    Ok(deps
        .accounts
        .emails(user.id)?
        .iter()
        .find(|e| e.for_sign_in)
        .and_then(|e| deps.crypto.open_email(&e.sealed, &e.lookup)))
}
