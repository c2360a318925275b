//! Security keys on the account page (SPEC 17, 18): the list, adding one (the ceremony of
//! `idp::security_key`, then the store) and removing one (never the last second factor).
//! They pass the account's [`gate`] like every other change (an active user, fully signed
//! in, the password typed within the re-authentication window), each change is audited
//! (`Security Key Added` / `Removed`) and announced by email, and a removal ends the
//! account's other sessions (a lost key stops working everywhere at once).

use super::{gate, notify, second_factors, Fresh, Outcome, Problem};
use crate::accounts::security_keys::{self as stored, SecurityKeyRecord};
use crate::accounts::UserRecord;
use crate::idp::audit;
use crate::idp::security_key::{self, Begun, Finish, KeyHolder, Refusal};
use crate::idp::{Deps, Error};
use crate::mail::Change;
use crate::sessions::{AuditKind, SessionRecord};

/// The key being added: the name its user gave it, the ceremony token and the
/// authenticator's answer (JSON).
#[derive(Debug, Clone)]
pub struct NewKey<'a> {
    pub name: &'a str,
    pub ceremony: &'a str,
    pub response: &'a str,
}

/// The user's keys, oldest first.
pub fn list(
    deps: &Deps<'_>,
    session: &SessionRecord,
) -> Result<Outcome<Vec<SecurityKeyRecord>>, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let keys = deps.security_keys.list_for_user(user.id)?;
    Ok(Outcome::Done {
        value: keys,
        notified: true,
    })
}

/// Starts adding a key: the options for `navigator.credentials.create` (the user's keys
/// excluded, the account labelled with its sign-in address) and the ceremony token.
pub fn begin_adding(deps: &Deps<'_>, session: &SessionRecord) -> Result<Outcome<Begun>, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let Some(handle) = security_key::handle_of(&user) else {
        return Ok(Outcome::Refused(Problem::KeyRefused(Refusal::Unavailable)));
    };
    let label = sign_in_email(deps, &user)?.unwrap_or_else(|| user.public_id.clone());
    let holder = KeyHolder {
        handle,
        user_id: Some(user.id),
        name: &label,
        display_name: &label,
    };
    let exclude: Vec<String> = deps
        .security_keys
        .list_for_user(user.id)?
        .into_iter()
        .map(|k| k.credential_id)
        .collect();
    let begun = security_key::begin_registration(deps, &holder, &exclude)?;
    Ok(Outcome::Done {
        value: begun,
        notified: true,
    })
}

/// Finishes adding a key and stores it; returns its id.
pub fn add(
    deps: &Deps<'_>,
    session: &SessionRecord,
    key: &NewKey<'_>,
) -> Result<Outcome<i64>, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let refused = |why: Refusal| Outcome::Refused(Problem::KeyRefused(why));
    let Some(name) = stored::clean_name(key.name) else {
        return Ok(refused(Refusal::BadName));
    };
    let Some(handle) = security_key::handle_of(&user) else {
        return Ok(refused(Refusal::WrongUser));
    };
    let added = AuditKind::SecurityKeyAdded;
    let registered =
        match security_key::finish_registration(deps, key.ceremony, handle, key.response)? {
            Finish::Done(registered) => registered,
            Finish::Refused(why) => {
                record(deps, &user, added, false, why.as_str())?;
                return Ok(refused(why));
            }
        };
    let Some(id) = deps
        .security_keys
        .add(&registered.for_user(user.id, name), deps.now)?
    else {
        let why = Refusal::AlreadyRegistered;
        record(deps, &user, added, false, why.as_str())?;
        return Ok(refused(why));
    };
    record(deps, &user, added, true, "added")?;
    let notified = notify(deps, &user, Change::SecurityKeyAdded, None)?;
    Ok(Outcome::Done {
        value: id,
        notified,
    })
}

/// Removes one of the user's keys, unless it is their last second factor (SPEC 17); the
/// account's other sessions end.
pub fn remove(deps: &Deps<'_>, session: &SessionRecord, key_id: i64) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let keys = deps.security_keys.list_for_user(user.id)?;
    if !keys.iter().any(|k| k.id == key_id) {
        return Ok(Outcome::Refused(Problem::NoSuchKey));
    }
    let removed = AuditKind::SecurityKeyRemoved;
    if second_factors(&user, keys.len()) <= 1 {
        record(deps, &user, removed, false, "last_factor")?;
        return Ok(Outcome::Refused(Problem::LastFactor));
    }
    if !deps.security_keys.remove(key_id, user.id)? {
        return Ok(Outcome::Refused(Problem::NoSuchKey));
    }
    record(deps, &user, removed, true, "removed")?;
    deps.sessions
        .delete_others_for_user(user.id, &session.token_hash)?;
    let notified = notify(deps, &user, Change::SecurityKeyRemoved, None)?;
    Ok(Outcome::Done {
        value: (),
        notified,
    })
}

fn record(
    deps: &Deps<'_>,
    user: &UserRecord,
    event: AuditKind,
    success: bool,
    detail: &str,
) -> Result<(), Error> {
    audit::of_user(deps, event, Some(&user.public_id), success, detail)
}

/// The user's sign-in email, opened (the name an authenticator shows).
fn sign_in_email(deps: &Deps<'_>, user: &UserRecord) -> Result<Option<String>, Error> {
    let emails = deps.accounts.emails(user.id)?;
    Ok(emails
        .iter()
        .filter(|e| e.for_sign_in)
        .find_map(|e| deps.crypto.open_email(&e.sealed, &e.lookup)))
}
