//! Email addresses on the account page (SPEC 17): add one (a confirmation link, valid 24 h,
//! goes to the new address; following it while signed in as the owner adds it), remove one
//! (never the last; if SPs received it, the oldest remaining one takes over; the removed
//! address is told, and reset links sent to it die), and choose the one SPs receive. An
//! address that any account already has gets the same answer as a new one after the same
//! work (a token, one queued message: there, a notice that the address is in use, in its
//! owner's language), and nothing is added, so the form tells nobody which addresses have
//! accounts.

use serde::{Deserialize, Serialize};

use super::{done, gate, Fresh, Outcome, Problem};
use crate::accounts::tokens::{TokenPurpose, TokenRecord};
use crate::accounts::{AccountError, EmailRecord, EmailRemoval, UserRecord};
use crate::idp::throttle::{self, Bucket};
use crate::idp::token::TokenHash;
use crate::idp::{audit, outgoing, Deps, Error};
use crate::mail::{Change, Mail};
use crate::sessions::SessionRecord;

/// Addresses one account may have.
pub const MAX_EMAILS: usize = 12;

/// The address a confirmation link adds, sealed in its token.
#[derive(Debug, Serialize, Deserialize)]
struct NewAddress {
    email: String,
    lookup: String,
}

/// The add form. `link_prefix` gets the token appended.
pub fn add(
    deps: &Deps<'_>,
    session: &SessionRecord,
    typed: &str,
    client: &str,
    link_prefix: &str,
) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let Some((email, lookup)) = deps.crypto.email_lookup(typed) else {
        return Ok(Outcome::Refused(Problem::InvalidEmail));
    };
    let buckets = [Bucket::address(client), Bucket::account(&user.public_id)];
    if !throttle::allow(deps, &buckets)? {
        return Ok(Outcome::Refused(Problem::RateLimited));
    }
    if deps.accounts.emails(user.id)?.len() >= MAX_EMAILS {
        return Ok(Outcome::Refused(Problem::TooManyEmails));
    }
    let owner = deps.accounts.find_by_email(&lookup)?;
    send_link(
        deps,
        &user,
        owner.as_ref(),
        NewAddress { email, lookup },
        link_prefix,
    )?;
    if owner.is_some() {
        // The user's own events (listed on the page) read as for any address; the refusal
        // is recorded for operators without the user's id.
        audit::account(deps, None, false, "email_add_in_use")?;
    }
    audit::account(deps, Some(&user.public_id), true, "email_add_requested")?;
    Ok(Outcome::Done {
        value: (),
        notified: true,
    })
}

/// Issues the confirmation link's token (the address sealed in it) and queues the link to the
/// new address; when an account (`owner`) already has the address, the same token is issued
/// but the address is only told it is in use (a link that could never add it is not sent).
fn send_link(
    deps: &Deps<'_>,
    user: &UserRecord,
    owner: Option<&UserRecord>,
    address: NewAddress,
    link_prefix: &str,
) -> Result<(), Error> {
    let token = deps.ids.secret_token().ok_or(Error::Random("token"))?;
    let hash = TokenHash::of(&token);
    let json = serde_json::to_vec(&address).map_err(|e| Error::Response(e.to_string()))?;
    let payload = deps
        .crypto
        .seal_token_payload(&hash, &json)
        .ok_or(Error::Random("sealing"))?;
    let purpose = TokenPurpose::ConfirmNewEmail;
    let record = TokenRecord::issue(
        hash.to_string(),
        purpose,
        Some(user.id),
        Some(payload),
        deps.now,
    );
    deps.tokens.insert(&record)?;
    let (mail, locale) = match owner {
        Some(owner) => (Mail::EmailInUse, &owner.locale),
        None => {
            let link = format!("{link_prefix}{token}");
            (Mail::ConfirmNewEmail { link }, &user.locale)
        }
    };
    outgoing::send_or_withdraw(deps, (&hash, purpose), &[address.email], &mail, locale)
}

/// The confirmation link of an address being added, if it is live and this user's (looking
/// uses nothing up: a mail scanner's visit is harmless).
fn live_link(
    deps: &Deps<'_>,
    user_id: i64,
    token: &str,
) -> Result<Option<(String, NewAddress)>, Error> {
    let hash = TokenHash::of(token);
    let found = deps
        .tokens
        .find(&hash, TokenPurpose::ConfirmNewEmail, deps.now)?
        .filter(|t| t.user_id == Some(user_id));
    let address = found.and_then(|t| {
        let bytes = deps
            .crypto
            .open_token_payload(&t.token_hash, t.payload.as_deref()?)?;
        serde_json::from_slice::<NewAddress>(&bytes).ok()
    });
    Ok(address.map(|a| (hash.into(), a)))
}

/// Whether the page with the "add this address" button may show: the link is live and the
/// signed-in user is the one who asked for it. The link's address is shown on that page.
pub fn check_link(
    deps: &Deps<'_>,
    session: &SessionRecord,
    token: &str,
) -> Result<Outcome<String>, Error> {
    let user = match gate(deps, session, Fresh::No)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    Ok(match live_link(deps, user.id, token)? {
        Some((_, address)) => Outcome::Done {
            value: address.email,
            notified: true,
        },
        None => Outcome::Refused(Problem::LinkDead),
    })
}

/// Following the link, signed in as its owner: the address is added. Proving the mailbox is
/// the point here, and the password was checked when the address was asked for, so no fresh
/// password is needed. The new address itself is not sent the notice.
pub fn confirm(deps: &Deps<'_>, session: &SessionRecord, token: &str) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::No)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let Some((hash, address)) = live_link(deps, user.id, token)? else {
        return Ok(Outcome::Refused(Problem::LinkDead));
    };
    if deps
        .tokens
        .take(&hash, TokenPurpose::ConfirmNewEmail, deps.now)?
        .is_none()
    {
        return Ok(Outcome::Refused(Problem::LinkDead));
    }
    let sealed = deps
        .crypto
        .seal_email(&address.email, &address.lookup)
        .ok_or(Error::Random("sealing"))?;
    let record = EmailRecord {
        lookup: address.lookup.clone(),
        sealed,
        for_sign_in: false,
    };
    match deps.accounts.add_email(user.id, &record, deps.now) {
        Ok(()) => done(deps, &user, Change::EmailAdded, Some(&address.lookup), ()),
        // Another account took the address since the link was sent.
        Err(AccountError::DuplicateEmail) => {
            audit::account(deps, Some(&user.public_id), false, "email_add_in_use")?;
            Ok(Outcome::Refused(Problem::LinkDead))
        }
        Err(e) => Err(e.into()),
    }
}

/// Removes one of the account's addresses. The others get the change's notice; the removed
/// one its own (it is no longer the account's, and reset links sent to it die with it).
pub fn remove(deps: &Deps<'_>, session: &SessionRecord, email_id: i64) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let removed = deps
        .accounts
        .stored_emails(user.id)?
        .into_iter()
        .find(|e| e.id == email_id)
        .and_then(|e| deps.crypto.open_email(&e.record.sealed, &e.record.lookup));
    match deps.accounts.remove_email(user.id, email_id, deps.now)? {
        EmailRemoval::Removed { .. } => {
            let outcome = done(deps, &user, Change::EmailRemoved, None, ())?;
            let told = removed.is_none_or(|address| {
                let mail = Mail::AddressRemoved;
                deps.mailer.send(&[address], &mail, &user.locale).is_ok()
            });
            Ok(match outcome {
                Outcome::Done { value, notified } => Outcome::Done {
                    value,
                    notified: notified && told,
                },
                other => other,
            })
        }
        EmailRemoval::LastOne => Ok(Outcome::Refused(Problem::LastEmail)),
        EmailRemoval::NotFound => Ok(Outcome::Refused(Problem::UnknownEmail)),
    }
}

/// Makes one of the account's addresses the one SPs receive. Every address is told: both
/// the old and the new one belong to the account.
pub fn choose_for_sps(
    deps: &Deps<'_>,
    session: &SessionRecord,
    email_id: i64,
) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    if !deps.accounts.set_sp_email(user.id, email_id, deps.now)? {
        return Ok(Outcome::Refused(Problem::UnknownEmail));
    }
    done(deps, &user, Change::EmailForSpChanged, None, ())
}
