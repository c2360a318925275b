//! Re-authentication (SPEC 17): the password typed again restarts the session's
//! [`REAUTH_MINUTES`](super::REAUTH_MINUTES) window for changes. A wrong password counts
//! towards the same account lock as sign-in (`idp::sign_in`'s rules, not a copy of them).

use super::{gate, recheck_problem, Fresh, Outcome, Problem};
use crate::idp::session;
use crate::idp::sign_in::recheck_password;
use crate::idp::token::Token;
use crate::idp::{audit, Deps, Error};
use crate::sessions::SessionRecord;

/// The re-authentication form. Nothing changes on the account, so nothing is announced; the
/// session goes on under a new token (its cookie's, the outcome's value).
pub fn reauthenticate(
    deps: &Deps<'_>,
    session: &SessionRecord,
    typed: &str,
    client: &str,
) -> Result<Outcome<Token>, Error> {
    let user = match gate(deps, session, Fresh::No)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let recheck = recheck_password(deps, &user, typed, client)?;
    if let Some(problem) = recheck_problem(recheck, Problem::WrongPassword) {
        return Ok(Outcome::Refused(problem));
    }
    // The session goes on under a new token, its password time restarted.
    let token = session::rotate(deps.sessions, deps.ids, session)?;
    if !deps
        .sessions
        .refresh_password(&token.hash(), user.id, deps.now)?
    {
        return Ok(Outcome::NotSignedIn);
    }
    audit::account(deps, Some(&user.public_id), true, "reauthenticated")?;
    Ok(Outcome::Done {
        value: token,
        notified: true,
    })
}
