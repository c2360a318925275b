//! Mail to an account's own addresses: the notices of account changes and locks (SPEC 7,
//! 17). Every confirmed address gets one, except the address a change is about.

use super::{audit, Deps, Error};
use crate::accounts::UserRecord;
use crate::mail::Mail;

/// Sends `mail` to every address of `user` but `except` (the lookup of the address the
/// change is about), in the user's language. False when it could not be sent (audited;
/// nothing else depends on it).
pub fn to_account(
    deps: &Deps<'_>,
    user: &UserRecord,
    mail: &Mail,
    except: Option<&str>,
) -> Result<bool, Error> {
    let to = addresses(deps, user, except)?;
    if to.is_empty() {
        return Ok(true);
    }
    let sent = deps.mailer.send(&to, mail, &user.locale).is_ok();
    if !sent {
        audit::account(deps, Some(&user.public_id), false, "notice_mail_failed")?;
    }
    Ok(sent)
}

/// Every address of `user` but `except` (a lookup hash), opened.
pub fn addresses(
    deps: &Deps<'_>,
    user: &UserRecord,
    except: Option<&str>,
) -> Result<Vec<String>, Error> {
    Ok(opened(deps.accounts, deps.crypto, user.id, except)?)
}

/// Every address of the account `user_id` but `except`, opened, from the stores themselves
/// (for use cases that take narrower ports than [`Deps`], such as the console's).
pub fn opened(
    accounts: &dyn crate::accounts::AccountStore,
    crypto: &crate::accounts::sealing::AccountCrypto,
    user_id: i64,
    except: Option<&str>,
) -> Result<Vec<String>, crate::accounts::AccountError> {
    Ok(accounts
        .emails(user_id)?
        .iter()
        .filter(|e| Some(e.lookup.as_str()) != except)
        .filter_map(|e| crypto.open_email(&e.sealed, &e.lookup))
        .collect())
}
