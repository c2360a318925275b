//! Forgot password (SPEC 17): an emailed link (single use, 1 h) sets a new password, ends
//! every session of the user, lifts any account lock and forgets their remembered browsers,
//! so the next sign-in asks for the second factor again (a verified profile stays). The answer to a request is the
//! same, after the same work, whether the address has an account or not: a token is issued
//! and one message queued either way (a reset link, or a "no account uses this address"
//! notice), and no page waits for a mail server. A reset link is bound to the address it
//! was sent to and dies when that address leaves the account (L3).

use super::audit;
use super::throttle::{self, Bucket};
use super::{Deps, Error};
use crate::accounts::password_policy::{self, PasswordProblem};
use crate::accounts::tokens::{TokenPurpose, TokenRecord};
use crate::accounts::{password, UserRecord};
use crate::idp::outgoing;
use crate::idp::token::TokenHash;
use crate::mail::{Change, Mail};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// "If an account uses this address, we sent a link" (also for unknown addresses).
    Sent,
    InvalidEmail,
    RateLimited,
}

/// The forgot-password form. `link_prefix` gets the token appended; `locale` is the page's
/// language (the notice to an address without an account is written in it).
pub fn request(
    deps: &Deps<'_>,
    typed_email: &str,
    client: &str,
    link_prefix: &str,
    locale: &str,
) -> Result<RequestOutcome, Error> {
    let Some((email, lookup)) = deps.crypto.email_lookup(typed_email) else {
        return Ok(RequestOutcome::InvalidEmail);
    };
    let buckets = [Bucket::address(client), Bucket::account(&lookup)];
    if !throttle::allow(deps, &buckets)? {
        return Ok(RequestOutcome::RateLimited);
    }
    let user = deps.accounts.find_by_email(&lookup)?;
    // A token either way, bound to the address: for an unknown address it names no user,
    // so it can never reset anything, and its link is never sent.
    let token = deps.ids.secret_token().ok_or(Error::Random("token"))?;
    let hash = TokenHash::of(&token);
    let record = TokenRecord::issue(
        hash.to_string(),
        TokenPurpose::ResetPassword,
        user.as_ref().map(|u| u.id),
        Some(lookup),
        deps.now,
    );
    deps.tokens.insert(&record)?;
    let (mail, locale) = match &user {
        Some(user) => {
            let link = format!("{link_prefix}{token}");
            (Mail::ResetPassword { link }, user.locale.as_str())
        }
        None => (Mail::NoAccount, locale),
    };
    let issued = (&hash, TokenPurpose::ResetPassword);
    outgoing::send_or_withdraw(deps, issued, &[email], &mail, locale)?;
    match &user {
        Some(user) => audit::account(deps, Some(&user.public_id), true, "reset_requested")?,
        None => audit::account(deps, None, false, "reset_unknown_email")?,
    }
    Ok(RequestOutcome::Sent)
}

/// The live reset token `hash` and its user, while the address it was sent to is still one
/// of the user's (L3: removing the address kills the link).
fn live_reset(deps: &Deps<'_>, hash: &TokenHash) -> Result<Option<UserRecord>, Error> {
    let found = deps
        .tokens
        .find(hash, TokenPurpose::ResetPassword, deps.now)?;
    let Some((user_id, bound_to)) = found.and_then(|t| Some((t.user_id?, t.payload?))) else {
        return Ok(None);
    };
    let Some(user) = deps.accounts.get(user_id)? else {
        return Ok(None);
    };
    let still_ours = deps
        .accounts
        .emails(user.id)?
        .iter()
        .any(|e| e.lookup == bound_to);
    Ok(still_ours.then_some(user))
}

/// Whether a reset link is still good (looking uses nothing up).
pub fn link_is_live(deps: &Deps<'_>, token: &str) -> Result<bool, Error> {
    Ok(live_reset(deps, &TokenHash::of(token))?.is_some())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetOutcome {
    /// The password is set and every session ended; `notified` is false when the email
    /// announcing the change could not be queued (the page says so).
    Done {
        notified: bool,
    },
    Refused(PasswordProblem),
    LinkDead,
}

/// The reset link's form.
pub fn reset(
    deps: &Deps<'_>,
    token: &str,
    new_password: &str,
    confirmation: &str,
) -> Result<ResetOutcome, Error> {
    let hash = TokenHash::of(token);
    let Some(user) = live_reset(deps, &hash)? else {
        return Ok(ResetOutcome::LinkDead);
    };
    let addresses = super::notice::addresses(deps, &user, None)?;
    if let Err(problem) = password_policy::check(
        new_password,
        confirmation,
        addresses.first().map(String::as_str),
    ) {
        return Ok(ResetOutcome::Refused(problem));
    }
    let phc = password::hash_password(new_password).map_err(|e| Error::Response(e.to_string()))?;
    if deps
        .tokens
        .take(&hash, TokenPurpose::ResetPassword, deps.now)?
        .is_none()
    {
        return Ok(ResetOutcome::LinkDead);
    }
    deps.accounts.set_password_hash(user.id, &phc)?;
    // The emailed link proves the mailbox: it lifts any lock, including the one that 100
    // consecutive failures set (SPEC 7); the next sign-in still needs the second factor.
    deps.accounts.reset_failures(user.id)?;
    deps.tokens
        .delete_for_user(user.id, TokenPurpose::ResetPassword)?;
    deps.sessions.delete_for_user(user.id)?;
    deps.sessions.forget_browsers(user.id)?;
    audit::account(deps, Some(&user.public_id), true, "password_reset")?;
    let mail = Mail::AccountChanged {
        change: Change::PasswordReset,
    };
    let notified = deps.mailer.send(&addresses, &mail, &user.locale).is_ok();
    Ok(ResetOutcome::Done { notified })
}
