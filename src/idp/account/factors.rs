//! Second factors on the account page (SPEC 17): add an authenticator app (the secret shown
//! as on sign-up, kept sealed in a one-time token until the app's first code proves it),
//! remove it (never the last second factor), and regenerate the backup codes (ten new ones,
//! shown once; the old ones stop working).

use super::{done, gate, second_factors, security_key_count, Fresh, Outcome, Problem};
use crate::accounts::tokens::{TokenPurpose, TokenRecord};
use crate::accounts::totp::{self, TotpSecret};
use crate::accounts::{backup_codes, UserRecord};
use crate::idp::sign_up::BACKUP_CODES;
use crate::idp::token::TokenHash;
use crate::idp::{Deps, Error};
use crate::mail::Change;
use crate::sessions::SessionRecord;

/// What the set-up page shows: the token its form carries back, the secret as text and the
/// URI drawn as a QR code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSetup {
    pub token: String,
    pub secret_base32: String,
    pub provisioning_uri: String,
}

/// Starts adding an authenticator app: a new secret, held in a token for this user.
/// `issuer_label` names this service in the app.
pub fn start_totp(
    deps: &Deps<'_>,
    session: &SessionRecord,
    issuer_label: &str,
) -> Result<Outcome<TotpSetup>, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    if user.totp_secret_sealed.is_some() {
        return Ok(Outcome::Refused(Problem::TotpAlreadySet));
    }
    let secret = TotpSecret::generate().map_err(|_| Error::Random("totp secret"))?;
    let token = deps.ids.secret_token().ok_or(Error::Random("token"))?;
    let hash = TokenHash::of(&token);
    let payload = deps
        .crypto
        .seal_token_payload(&hash, secret.as_bytes())
        .ok_or(Error::Random("sealing"))?;
    let purpose = TokenPurpose::AccountTotp;
    let record = TokenRecord::issue(hash.into(), purpose, Some(user.id), Some(payload), deps.now);
    super::super::token::store_bounded(deps.tokens, &record)?;
    let setup = setup(deps, &user, token, &secret, issuer_label)?;
    Ok(Outcome::Done {
        value: setup,
        notified: true,
    })
}

/// The set-up of a token still live for this user (the page again after a wrong code).
pub fn pending_totp(
    deps: &Deps<'_>,
    session: &SessionRecord,
    token: &str,
    issuer_label: &str,
) -> Result<Option<TotpSetup>, Error> {
    let Ok(user) = gate(deps, session, Fresh::Password)? else {
        return Ok(None);
    };
    match pending_secret(deps, &user, token)? {
        Some(secret) => Ok(Some(setup(
            deps,
            &user,
            token.into(),
            &secret,
            issuer_label,
        )?)),
        None => Ok(None),
    }
}

/// The app's first code proves it holds the secret: the secret is stored, the code's step
/// used up.
pub fn confirm_totp(
    deps: &Deps<'_>,
    session: &SessionRecord,
    token: &str,
    code: &str,
) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    if user.totp_secret_sealed.is_some() {
        return Ok(Outcome::Refused(Problem::TotpAlreadySet));
    }
    let Some(secret) = pending_secret(deps, &user, token)? else {
        return Ok(Outcome::Refused(Problem::SetupExpired));
    };
    let Some(step) = totp::verify(&secret, code, deps.now.timestamp(), None) else {
        return Ok(Outcome::Refused(Problem::WrongCode));
    };
    let taken = deps
        .tokens
        .take(&TokenHash::of(token), TokenPurpose::AccountTotp, deps.now)?;
    if taken.is_none() {
        return Ok(Outcome::Refused(Problem::SetupExpired));
    }
    let sealed = deps
        .crypto
        .seal_totp(&user.public_id, &secret)
        .ok_or(Error::Random("sealing"))?;
    deps.accounts.set_totp(user.id, Some(&sealed), deps.now)?;
    deps.accounts.claim_totp_step(user.id, step)?;
    done(deps, &user, Change::TotpAdded, None, ())
}

/// Removes the authenticator app, unless it is the last second factor; the account's other
/// sessions end.
pub fn remove_totp(deps: &Deps<'_>, session: &SessionRecord) -> Result<Outcome, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    if user.totp_secret_sealed.is_none() {
        return Ok(Outcome::Refused(Problem::NoTotp));
    }
    let keys = security_key_count(deps, &user)?;
    if second_factors(&user, keys) <= 1 {
        return Ok(Outcome::Refused(Problem::LastFactor));
    }
    deps.accounts.set_totp(user.id, None, deps.now)?;
    // SPEC 17: a removed factor signs no other browser in any longer.
    deps.sessions
        .delete_others_for_user(user.id, &session.token_hash)?;
    done(deps, &user, Change::TotpRemoved, None, ())
}

/// Ten new backup codes replace every old one; the codes are returned to be shown once.
pub fn regenerate_backup_codes(
    deps: &Deps<'_>,
    session: &SessionRecord,
) -> Result<Outcome<Vec<String>>, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let codes = backup_codes::generate(BACKUP_CODES).map_err(|_| Error::Random("backup codes"))?;
    let hashes: Vec<String> = codes.iter().filter_map(|c| backup_codes::hash(c)).collect();
    if hashes.len() != codes.len() {
        return Err(Error::Random("backup code hashes"));
    }
    deps.accounts
        .replace_backup_codes(user.id, &hashes, deps.now)?;
    done(deps, &user, Change::BackupCodesRegenerated, None, codes)
}

/// The secret of a live set-up token of this user.
fn pending_secret(
    deps: &Deps<'_>,
    user: &UserRecord,
    token: &str,
) -> Result<Option<TotpSecret>, Error> {
    let found = deps
        .tokens
        .find(&TokenHash::of(token), TokenPurpose::AccountTotp, deps.now)?
        .filter(|t| t.user_id == Some(user.id));
    Ok(found.and_then(|t| {
        let bytes = deps
            .crypto
            .open_token_payload(&t.token_hash, t.payload.as_deref()?)?;
        TotpSecret::from_bytes(bytes).ok()
    }))
}

/// The page's view of a secret; the app lists it under the address SPs receive.
fn setup(
    deps: &Deps<'_>,
    user: &UserRecord,
    token: String,
    secret: &TotpSecret,
    issuer_label: &str,
) -> Result<TotpSetup, Error> {
    let account = deps
        .accounts
        .emails(user.id)?
        .iter()
        .find(|e| e.for_sign_in)
        .and_then(|e| deps.crypto.open_email(&e.sealed, &e.lookup))
        .unwrap_or_else(|| user.public_id.clone());
    Ok(TotpSetup {
        token,
        secret_base32: secret.to_base32(),
        provisioning_uri: totp::provisioning_uri(secret, issuer_label, &account),
    })
}
