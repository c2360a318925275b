//! Creating an account (SPEC 17): email → confirmation link → password → second factor →
//! backup codes. Nothing is created until the second factor is proven: the steps in between
//! live in one-time tokens (the confirmation link, then a sign-up token held in a cookie),
//! their payload sealed to the token. A second sign-up with a known address gets the same
//! answer as a new one, and the owner is told by email instead. Mail is queued (no page waits
//! for a mail server); a queue that fails is a storage outage, and the token made for the
//! message is deleted again.

use serde::{Deserialize, Serialize};

use super::audit;
use super::outgoing;
use super::security_key::{self, Begun, Finish, KeyHolder, Refusal};
use super::session::{self, Proof};
use super::throttle::{self, Bucket};
use super::token::Token;
use super::{Deps, Error};
use crate::accounts::password_policy::{self, PasswordProblem};
use crate::accounts::security_keys as stored_keys;
use crate::accounts::tokens::{TokenPurpose, TokenRecord};
use crate::accounts::totp::{self, TotpSecret};
use crate::accounts::{backup_codes, password, AccountError, EmailRecord, NewUser};
use crate::idp::token::TokenHash;
use crate::mail::Mail;
use crate::sessions::MfaMethod;

/// Backup codes made at sign-up (and on regeneration), shown once.
pub const BACKUP_CODES: usize = 10;

/// Where the links in sign-up emails point; the token is appended to `confirm_prefix`.
pub struct SignUpLinks<'a> {
    pub confirm_prefix: &'a str,
    pub sign_in: &'a str,
    pub forgot_password: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    /// A confirmation link (or, for a known address, a note to its owner) was queued.
    Sent,
    InvalidEmail,
    RateLimited,
}

/// What a sign-up carries from step to step, sealed in its token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SignUpState {
    email: String,
    lookup: String,
    locale: String,
    password_hash: Option<String>,
    totp_secret: Option<String>,
    /// The account's public id, chosen when the password is (a security key registered
    /// during sign-up is bound to it as its WebAuthn user handle).
    public_id: Option<String>,
}

/// The first step: an email address. `locale` is the page's language (`en`, `es`, `fr`).
pub fn start(
    deps: &Deps<'_>,
    typed_email: &str,
    locale: &str,
    client: &str,
    links: &SignUpLinks<'_>,
) -> Result<StartOutcome, Error> {
    let Some((email, lookup)) = deps.crypto.email_lookup(typed_email) else {
        return Ok(StartOutcome::InvalidEmail);
    };
    let buckets = [Bucket::address(client), Bucket::account(&lookup)];
    if !throttle::allow(deps, &buckets)? {
        return Ok(StartOutcome::RateLimited);
    }
    let to = [email.clone()];
    if let Some(owner) = deps.accounts.find_by_email(&lookup)? {
        let mail = Mail::AccountExists {
            sign_in_link: links.sign_in.to_string(),
            reset_link: links.forgot_password.to_string(),
        };
        deps.mailer
            .send(&to, &mail, &owner.locale)
            .map_err(outgoing::queue_failed)?;
        audit::account(deps, Some(&owner.public_id), true, "sign_up_known_email")?;
        return Ok(StartOutcome::Sent);
    }
    let state = SignUpState {
        email,
        lookup,
        locale: locale.to_string(),
        password_hash: None,
        totp_secret: None,
        public_id: None,
    };
    let token = new_token(deps)?;
    let hash = TokenHash::of(&token);
    let payload = seal(deps, &hash, &state)?;
    let record = TokenRecord::issue(
        hash.to_string(),
        TokenPurpose::ConfirmEmail,
        None,
        Some(payload),
        deps.now,
    );
    deps.tokens.insert(&record)?;
    let mail = Mail::ConfirmEmail {
        link: format!("{}{token}", links.confirm_prefix),
    };
    let issued = (&hash, TokenPurpose::ConfirmEmail);
    outgoing::send_or_withdraw(deps, issued, &to, &mail, locale)?;
    audit::account(deps, None, true, "sign_up_started")?;
    Ok(StartOutcome::Sent)
}

/// Whether a confirmation link is still good (the page with the password form shows only
/// for a live link; looking does not use it up, so a mail scanner's visit is harmless).
pub fn confirmation_is_live(deps: &Deps<'_>, token: &str) -> Result<bool, Error> {
    let found = deps
        .tokens
        .find(&TokenHash::of(token), TokenPurpose::ConfirmEmail, deps.now)?;
    Ok(found.is_some())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordStep {
    /// The link is used up; go on with this sign-up token (a cookie) to the second factor.
    Continue { sign_up_token: String },
    /// The password is refused; the link stays good.
    Refused(PasswordProblem),
    /// The link is expired, used or forged.
    LinkDead,
}

/// The confirmation link's form: choosing the password.
pub fn choose_password(
    deps: &Deps<'_>,
    confirm_token: &str,
    new_password: &str,
    confirmation: &str,
) -> Result<PasswordStep, Error> {
    let hash = TokenHash::of(confirm_token);
    let Some(found) = deps
        .tokens
        .find(&hash, TokenPurpose::ConfirmEmail, deps.now)?
    else {
        return Ok(PasswordStep::LinkDead);
    };
    let Some(mut state) = open(deps, &found)? else {
        return Ok(PasswordStep::LinkDead);
    };
    if let Err(problem) = password_policy::check(new_password, confirmation, Some(&state.email)) {
        return Ok(PasswordStep::Refused(problem));
    }
    state.password_hash =
        Some(password::hash_password(new_password).map_err(|e| Error::Response(e.to_string()))?);
    state.public_id = Some(deps.ids.uuid());
    if deps
        .tokens
        .take(&hash, TokenPurpose::ConfirmEmail, deps.now)?
        .is_none()
    {
        return Ok(PasswordStep::LinkDead);
    }
    let token = new_token(deps)?;
    let next = TokenHash::of(&token);
    let payload = seal(deps, &next, &state)?;
    let record = TokenRecord::issue(
        next.into(),
        TokenPurpose::SignUp,
        None,
        Some(payload),
        deps.now,
    );
    deps.tokens.insert(&record)?;
    audit::account(deps, None, true, "sign_up_email_confirmed")?;
    Ok(PasswordStep::Continue {
        sign_up_token: token,
    })
}

/// The TOTP secret to show (as a QR code and as text) to a sign-up past its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrollment {
    pub secret_base32: String,
    pub provisioning_uri: String,
}

/// The secret for the authenticator app: made on the first visit, the same on every later
/// one. `None` if the sign-up token is dead (expired, finished, or never past the password).
pub fn totp_enrollment(
    deps: &Deps<'_>,
    sign_up_token: &str,
    issuer_label: &str,
) -> Result<Option<TotpEnrollment>, Error> {
    let hash = TokenHash::of(sign_up_token);
    let Some(found) = deps.tokens.find(&hash, TokenPurpose::SignUp, deps.now)? else {
        return Ok(None);
    };
    let Some(mut state) = open(deps, &found)? else {
        return Ok(None);
    };
    if state.password_hash.is_none() {
        return Ok(None);
    }
    let secret = match state.totp_secret.as_deref().map(TotpSecret::from_base32) {
        Some(Ok(secret)) => secret,
        _ => {
            let secret = TotpSecret::generate().map_err(|_| Error::Random("totp secret"))?;
            state.totp_secret = Some(secret.to_base32());
            let payload = seal(deps, &hash, &state)?;
            if !deps
                .tokens
                .update_payload(&hash, TokenPurpose::SignUp, &payload, deps.now)?
            {
                return Ok(None);
            }
            secret
        }
    };
    Ok(Some(TotpEnrollment {
        secret_base32: secret.to_base32(),
        provisioning_uri: totp::provisioning_uri(&secret, issuer_label, &state.email),
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishOutcome {
    /// The account exists and this session was started for it (its cookie's token): show
    /// these backup codes once.
    Created {
        backup_codes: Vec<String>,
        session: Token,
    },
    /// The code does not match the secret shown; try again.
    WrongCode,
    /// The sign-up token is dead: start again.
    Expired,
    /// Another sign-up finished first with this address.
    AlreadyExists,
}

/// The second-factor step with an authenticator app: the code proves the app holds the
/// secret, and the account is created in one transaction with its backup codes.
pub fn finish_with_totp(
    deps: &Deps<'_>,
    sign_up_token: &str,
    code: &str,
    replace: Option<&TokenHash>,
) -> Result<FinishOutcome, Error> {
    let hash = TokenHash::of(sign_up_token);
    let Some(found) = deps.tokens.find(&hash, TokenPurpose::SignUp, deps.now)? else {
        return Ok(FinishOutcome::Expired);
    };
    let Some(state) = open(deps, &found)? else {
        return Ok(FinishOutcome::Expired);
    };
    let Some(Ok(secret)) = state.totp_secret.as_deref().map(TotpSecret::from_base32) else {
        return Ok(FinishOutcome::Expired);
    };
    let Some(step) = totp::verify(&secret, code, deps.now.timestamp(), None) else {
        return Ok(FinishOutcome::WrongCode);
    };
    if deps
        .tokens
        .take(&hash, TokenPurpose::SignUp, deps.now)?
        .is_none()
    {
        return Ok(FinishOutcome::Expired);
    }
    let Some(public_id) = state.public_id.clone() else {
        return Ok(FinishOutcome::Expired);
    };
    let totp_sealed = deps
        .crypto
        .seal_totp(&public_id, &secret)
        .ok_or(Error::Random("sealing"))?;
    let Created {
        user_id,
        backup_codes,
    } = match create(deps, &state, &public_id, Some(totp_sealed))? {
        Some(created) => created,
        None => return Ok(FinishOutcome::AlreadyExists),
    };
    deps.accounts.claim_totp_step(user_id, step)?;
    let proof = Proof::PasswordAndFactor(MfaMethod::Totp);
    let session = session::start(deps.sessions, deps.ids, user_id, proof, replace, deps.now)?;
    Ok(FinishOutcome::Created {
        backup_codes,
        session,
    })
}

/// Starts registering a security key as the sign-up's second factor: the key is bound to
/// the account-to-be's public id (its WebAuthn user handle) and labelled with the email.
/// `None` if the sign-up token is dead or not past the password.
pub fn begin_key_registration(
    deps: &Deps<'_>,
    sign_up_token: &str,
) -> Result<Option<Begun>, Error> {
    let Some((_, state, handle)) = live_with_password(deps, sign_up_token)? else {
        return Ok(None);
    };
    let holder = KeyHolder {
        handle,
        user_id: None,
        name: &state.email,
        display_name: &state.email,
    };
    security_key::begin_registration(deps, &holder, &[]).map(Some)
}

/// Whether this sign-up token is live and past its password (the security-key page shows
/// only then).
pub fn awaits_second_factor(deps: &Deps<'_>, sign_up_token: &str) -> Result<bool, Error> {
    Ok(live_with_password(deps, sign_up_token)?.is_some())
}

/// How a sign-up with a security key ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFinish {
    /// The account exists with this key; `user_verified` says whether the key verified its
    /// user (PIN or biometric) when it was registered.
    Created {
        backup_codes: Vec<String>,
        /// The session started for the new account (its cookie's token).
        session: Token,
    },
    /// The key's answer (or its name) is refused; the sign-up stays open for another try.
    Refused(Refusal),
    /// The sign-up token is dead: start again.
    Expired,
    /// Another sign-up finished first with this address.
    AlreadyExists,
}

/// The second-factor step with a security key: the ceremony begun by
/// [`begin_key_registration`] is finished, then the account is created with the key and
/// fresh backup codes. If the key cannot be stored (registered meanwhile by someone
/// else), the account just made is removed again and the sign-up stays open: nothing is
/// half-created. The sign-up token is used up only once the account is complete.
pub fn finish_with_security_key(
    deps: &Deps<'_>,
    sign_up_token: &str,
    key_name: &str,
    ceremony_token: &str,
    response: &str,
    replace: Option<&TokenHash>,
) -> Result<KeyFinish, Error> {
    let Some((hash, state, handle)) = live_with_password(deps, sign_up_token)? else {
        return Ok(KeyFinish::Expired);
    };
    let Some(name) = stored_keys::clean_name(key_name) else {
        return Ok(KeyFinish::Refused(Refusal::BadName));
    };
    let key = match security_key::finish_registration(deps, ceremony_token, handle, response)? {
        Finish::Done(key) => key,
        Finish::Refused(why) => {
            let detail = format!("sign_up_key_{}", why.as_str());
            audit::account(deps, None, false, &detail)?;
            return Ok(KeyFinish::Refused(why));
        }
    };
    let public_id = handle.to_string();
    let Some(Created {
        user_id,
        backup_codes,
    }) = create(deps, &state, &public_id, None)?
    else {
        return Ok(KeyFinish::AlreadyExists);
    };
    let method = key.method();
    let stored = deps
        .security_keys
        .add(&key.for_user(user_id, name), deps.now);
    if !matches!(stored, Ok(Some(_))) {
        deps.accounts.remove(&public_id)?;
        audit::account(deps, Some(&public_id), false, "sign_up_key_not_stored")?;
        return match stored {
            Err(e) => Err(e.into()),
            _ => Ok(KeyFinish::Refused(Refusal::AlreadyRegistered)),
        };
    }
    deps.tokens.take(&hash, TokenPurpose::SignUp, deps.now)?;
    let proof = Proof::PasswordAndFactor(method);
    let session = session::start(deps.sessions, deps.ids, user_id, proof, replace, deps.now)?;
    Ok(KeyFinish::Created {
        backup_codes,
        session,
    })
}

/// A live sign-up token past its password: its hash, its state and the account-to-be's
/// WebAuthn user handle.
fn live_with_password(
    deps: &Deps<'_>,
    sign_up_token: &str,
) -> Result<Option<(String, SignUpState, uuid::Uuid)>, Error> {
    let hash = TokenHash::of(sign_up_token);
    let Some(found) = deps.tokens.find(&hash, TokenPurpose::SignUp, deps.now)? else {
        return Ok(None);
    };
    let Some(state) = open(deps, &found)? else {
        return Ok(None);
    };
    if state.password_hash.is_none() {
        return Ok(None);
    }
    let handle = state
        .public_id
        .as_deref()
        .and_then(|id| uuid::Uuid::parse_str(id).ok());
    Ok(handle.map(|handle| (hash.into(), state, handle)))
}

/// Creates the account from a finished sign-up, with fresh backup codes.
/// A new account and its backup codes.
struct Created {
    user_id: i64,
    backup_codes: Vec<String>,
}

/// Creates the account; `None` when another sign-up finished first with this address.
fn create(
    deps: &Deps<'_>,
    state: &SignUpState,
    public_id: &str,
    totp_secret_sealed: Option<String>,
) -> Result<Option<Created>, Error> {
    let codes = backup_codes::generate(BACKUP_CODES).map_err(|_| Error::Random("backup codes"))?;
    let sealed_email = deps
        .crypto
        .seal_email(&state.email, &state.lookup)
        .ok_or(Error::Random("sealing"))?;
    let user = NewUser {
        public_id: public_id.to_string(),
        password_hash: state.password_hash.clone().unwrap_or_default(),
        totp_secret_sealed,
        locale: state.locale.clone(),
        emails: vec![EmailRecord {
            lookup: state.lookup.clone(),
            sealed: sealed_email,
            for_sign_in: true,
        }],
        backup_code_hashes: codes.iter().filter_map(|c| backup_codes::hash(c)).collect(),
        verified_profile_sealed: None,
        verified_at: None,
        piv_record_sealed: None,
    };
    match deps.accounts.create(&user, deps.now) {
        Ok(user_id) => {
            audit::account(deps, Some(public_id), true, "account_created")?;
            Ok(Some(Created {
                user_id,
                backup_codes: codes,
            }))
        }
        Err(AccountError::DuplicateEmail) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn new_token(deps: &Deps<'_>) -> Result<String, Error> {
    deps.ids.secret_token().ok_or(Error::Random("token"))
}

fn seal(deps: &Deps<'_>, hash: &str, state: &SignUpState) -> Result<String, Error> {
    let json = serde_json::to_vec(state).map_err(|e| Error::Response(e.to_string()))?;
    deps.crypto
        .seal_token_payload(hash, &json)
        .ok_or(Error::Random("sealing"))
}

/// The sealed state of a token; `None` if it does not open (a row that was tampered with
/// or moved is treated as a dead link).
fn open(deps: &Deps<'_>, token: &TokenRecord) -> Result<Option<SignUpState>, Error> {
    let Some(sealed) = token.payload.as_deref() else {
        return Ok(None);
    };
    Ok(deps
        .crypto
        .open_token_payload(&token.token_hash, sealed)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}
