//! Re-authentication (SPEC 17): the password typed again restarts the session's
//! [`REAUTH_MINUTES`](super::REAUTH_MINUTES) window for changes. A wrong password counts
//! towards the same account lock as sign-in (`idp::sign_in`'s rules, not a copy of them).

use super::{gate, recheck_problem, Fresh, Outcome, Problem};
use crate::idp::sign_in::recheck_password;
use crate::idp::{audit, Deps, Error};
use crate::sessions::SessionRecord;

/// The re-authentication form. Nothing changes on the account, so nothing is announced.
pub fn reauthenticate(
    deps: &Deps<'_>,
    session: &SessionRecord,
    typed: &str,
    client: &str,
) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::No)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let recheck = recheck_password(deps, &user, typed, client)?;
    if let Some(problem) = recheck_problem(recheck, Problem::WrongPassword) {
        return Ok(Outcome::Refused(problem));
    }
    if !deps
        .sessions
        .refresh_password(&session.token_hash, user.id, deps.now)?
    {
        return Ok(Outcome::NotSignedIn);
    }
    audit::account(deps, Some(&user.public_id), true, "reauthenticated")?;
    Ok(Outcome::Done {
        value: (),
        notified: true,
    })
}
