//! WebAuthn ceremonies (SPEC 18): registering a security key or platform authenticator, and
//! signing in with one as the second factor. User verification preferred, resident keys not
//! required, no attestation. The relying-party ID is the host of `base_url`; each
//! ceremony's state lives sealed in a five-minute one-time token (`WebauthnRegistration` /
//! `WebauthnAuthentication`), so any node can finish what another began, and only once.
//!
//! Registration returns the credential without storing it, so a sign-up (no user yet) and
//! the account page can both use it; [`register_for_user`] stores it for an existing user.
//! Authentication counts a failure like a wrong code (`sign_in::run_second_factor`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    Credential, CredentialID, PublicKeyCredential, RegisterPublicKeyCredential, SecurityKey,
    SecurityKeyAuthentication, SecurityKeyRegistration,
};

pub use super::relying_party::RelyingParty;
use super::sign_in::{self, Check, CodeOutcome, SecondFactorStep};
use super::throttle::{self, Bucket};
use super::token::TokenHash;
use super::{Deps, Error};
use crate::accounts::security_keys::{self, NewSecurityKey, SecurityKeyRecord};
use crate::accounts::tokens::{TokenPurpose, TokenRecord};
use crate::accounts::UserRecord;
use crate::sessions::{AuditEvent, AuditKind, MfaMethod, SessionRecord};

/// The user a key is registered for: the WebAuthn user handle (the user's `public_id`,
/// never sent to an SP) and the names an authenticator may show.
#[derive(Debug, Clone)]
pub struct KeyHolder<'a> {
    pub handle: Uuid,
    /// The account, when it exists already (the account page; not a sign-up): its
    /// ceremonies count towards the few a user may hold at once.
    pub user_id: Option<i64>,
    pub name: &'a str,
    pub display_name: &'a str,
}

/// A ceremony begun: the options for `navigator.credentials.create`/`get` (JSON), and the
/// one-time token that names its state (for the browser to send back).
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub options: String,
    pub token: String,
}

#[derive(Debug, Clone)]
pub enum Begun {
    Ceremony(Ceremony),
    /// No relying party (see [`RelyingParty`]).
    Unavailable,
    /// Authentication for a user with no key.
    NoKeys,
    RateLimited,
}

/// Why a ceremony's answer was refused; nothing was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unavailable,
    /// The ceremony token is unknown, used or expired.
    Expired,
    /// The ceremony was begun for another user.
    WrongUser,
    /// The browser's answer is not a WebAuthn credential.
    Malformed,
    /// Verification failed (challenge, origin, signature, flags...).
    Invalid,
    /// The credential is already registered.
    AlreadyRegistered,
    /// The key's name is empty, too long or has control characters.
    BadName,
}

impl Refusal {
    /// Fixed words for the audit trail and the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Unavailable => "unavailable",
            Refusal::Expired => "ceremony_expired",
            Refusal::WrongUser => "wrong_user",
            Refusal::Malformed => "malformed",
            Refusal::Invalid => "invalid",
            Refusal::AlreadyRegistered => "already_registered",
            Refusal::BadName => "bad_name",
        }
    }
}

/// A verified new credential, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredKey {
    /// base64url, no padding.
    pub credential_id: String,
    /// The credential as JSON (webauthn-rs `SecurityKey`, counter included).
    pub credential: String,
    /// Whether the authenticator verified its user (PIN or biometric) while registering.
    pub user_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish<T> {
    Done(T),
    Refused(Refusal),
}

/// What a registration token holds (sealed).
#[derive(Serialize, Deserialize)]
struct RegistrationState {
    handle: Uuid,
    state: SecurityKeyRegistration,
}

/// What an authentication token holds (sealed); the token's `user_id` names the user.
#[derive(Serialize, Deserialize)]
struct AuthenticationState {
    state: SecurityKeyAuthentication,
}

/// The base64url id of a credential, as stored.
pub fn credential_id_text(id: &CredentialID) -> String {
    URL_SAFE_NO_PAD.encode(id.as_slice())
}

/// Starts registering a key for `user` (who may not exist yet); `exclude` are the base64url
/// ids of the keys it already has (the authenticator refuses to register one twice).
pub fn begin_registration(
    deps: &Deps<'_>,
    user: &KeyHolder<'_>,
    exclude: &[String],
) -> Result<Begun, Error> {
    let Some(webauthn) = deps.relying_party.webauthn() else {
        return Ok(Begun::Unavailable);
    };
    let exclude: Vec<CredentialID> = exclude
        .iter()
        .filter_map(|id| URL_SAFE_NO_PAD.decode(id).ok())
        .map(CredentialID::from)
        .collect();
    let exclude = (!exclude.is_empty()).then_some(exclude);
    let (mut options, state) = webauthn
        .start_securitykey_registration(
            user.handle,
            user.name,
            user.display_name,
            exclude,
            None,
            None,
        )
        .map_err(|e| Error::Response(format!("webauthn registration options: {e}")))?;
    // Platform authenticators are as welcome as roaming keys (SPEC 18).
    options.public_key.hints = None;
    // Browsers refuse a credProtect policy of "user verification required" when resident
    // keys are not (Chromium: NotSupportedError); user verification stays preferred.
    if let Some(extensions) = options.public_key.extensions.as_mut() {
        extensions.cred_protect = None;
    }
    let payload = RegistrationState {
        handle: user.handle,
        state,
    };
    let ceremony = store_ceremony(
        deps,
        TokenPurpose::WebauthnRegistration,
        user.user_id,
        &payload,
        &options,
    )?;
    Ok(Begun::Ceremony(ceremony))
}

/// Finishes a registration begun for `expected_handle`: the ceremony token is used up
/// whatever the outcome; the credential is returned, not stored.
pub fn finish_registration(
    deps: &Deps<'_>,
    ceremony_token: &str,
    expected_handle: Uuid,
    response: &str,
) -> Result<Finish<RegisteredKey>, Error> {
    let Some(webauthn) = deps.relying_party.webauthn() else {
        return Ok(Finish::Refused(Refusal::Unavailable));
    };
    let Some((_, payload)) = take_ceremony::<RegistrationState>(
        deps,
        TokenPurpose::WebauthnRegistration,
        ceremony_token,
    )?
    else {
        return Ok(Finish::Refused(Refusal::Expired));
    };
    if payload.handle != expected_handle {
        return Ok(Finish::Refused(Refusal::WrongUser));
    }
    let Ok(credential) = serde_json::from_str::<RegisterPublicKeyCredential>(response) else {
        return Ok(Finish::Refused(Refusal::Malformed));
    };
    let key = match webauthn.finish_securitykey_registration(&credential, &payload.state) {
        Ok(key) => key,
        Err(e) => {
            tracing::info!(error = %e, "security key registration refused");
            return Ok(Finish::Refused(Refusal::Invalid));
        }
    };
    let credential = serde_json::to_string(&key)
        .map_err(|e| Error::Response(format!("serialising a credential: {e}")))?;
    let user_verified = Credential::from(key.clone()).user_verified;
    Ok(Finish::Done(RegisteredKey {
        credential_id: credential_id_text(key.cred_id()),
        credential,
        user_verified,
    }))
}

/// The user handle of an existing user: their `public_id` as a UUID.
pub fn handle_of(user: &UserRecord) -> Option<Uuid> {
    Uuid::parse_str(&user.public_id).ok()
}

/// Finishes a registration for an existing user and stores the key under `name`; audits
/// the addition. Returns the new key's id.
pub fn register_for_user(
    deps: &Deps<'_>,
    user: &UserRecord,
    name: &str,
    ceremony_token: &str,
    response: &str,
) -> Result<Finish<i64>, Error> {
    let Some(name) = security_keys::clean_name(name) else {
        return Ok(Finish::Refused(Refusal::BadName));
    };
    let Some(handle) = handle_of(user) else {
        return Ok(Finish::Refused(Refusal::WrongUser));
    };
    let key = match finish_registration(deps, ceremony_token, handle, response)? {
        Finish::Done(key) => key,
        Finish::Refused(why) => {
            audit(deps, user, AuditKind::SecurityKeyAdded, false, why.as_str())?;
            return Ok(Finish::Refused(why));
        }
    };
    let new = NewSecurityKey {
        user_id: user.id,
        name,
        credential_id: key.credential_id,
        credential: key.credential,
    };
    match deps.security_keys.add(&new, deps.now)? {
        Some(id) => {
            audit(deps, user, AuditKind::SecurityKeyAdded, true, "added")?;
            Ok(Finish::Done(id))
        }
        None => {
            audit(
                deps,
                user,
                AuditKind::SecurityKeyAdded,
                false,
                Refusal::AlreadyRegistered.as_str(),
            )?;
            Ok(Finish::Refused(Refusal::AlreadyRegistered))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// No such key for this user.
    NotFound,
    /// It is the user's only second factor (no TOTP, no other key).
    LastFactor,
}

/// Removes one of the user's keys, unless it is their last second factor (SPEC 17).
pub fn remove_for_user(deps: &Deps<'_>, user: &UserRecord, key_id: i64) -> Result<Removal, Error> {
    let keys = deps.security_keys.list_for_user(user.id)?;
    if !keys.iter().any(|k| k.id == key_id) {
        return Ok(Removal::NotFound);
    }
    if user.totp_secret_sealed.is_none() && keys.len() <= 1 {
        audit(
            deps,
            user,
            AuditKind::SecurityKeyRemoved,
            false,
            "last_factor",
        )?;
        return Ok(Removal::LastFactor);
    }
    if !deps.security_keys.remove(key_id, user.id)? {
        return Ok(Removal::NotFound);
    }
    audit(deps, user, AuditKind::SecurityKeyRemoved, true, "removed")?;
    Ok(Removal::Removed)
}

/// Starts signing in with one of the user's keys (the session is past the password).
/// Counted in the same rate limits as the code form.
pub fn begin_authentication(
    deps: &Deps<'_>,
    session: &SessionRecord,
    client: &str,
) -> Result<Begun, Error> {
    let Some(webauthn) = deps.relying_party.webauthn() else {
        return Ok(Begun::Unavailable);
    };
    let Some(user_id) = session.user_id else {
        return Ok(Begun::NoKeys);
    };
    let buckets = [
        Bucket::address(client),
        Bucket::session(&session.token_hash),
    ];
    if !throttle::allow(deps, &buckets)? {
        return Ok(Begun::RateLimited);
    }
    let keys = stored_keys(deps, user_id)?;
    if keys.is_empty() {
        return Ok(Begun::NoKeys);
    }
    let credentials: Vec<SecurityKey> = keys.into_iter().map(|(_, key)| key).collect();
    let (mut options, state) = webauthn
        .start_securitykey_authentication(&credentials)
        .map_err(|e| Error::Response(format!("webauthn authentication options: {e}")))?;
    options.public_key.hints = None;
    let ceremony = store_ceremony(
        deps,
        TokenPurpose::WebauthnAuthentication,
        Some(user_id),
        &AuthenticationState { state },
        &options,
    )?;
    Ok(Begun::Ceremony(ceremony))
}

/// A security key's answer at the second-factor step.
pub struct KeyAttempt<'a> {
    pub session: &'a SessionRecord,
    pub ceremony_token: &'a str,
    pub response: &'a str,
    pub client: &'a str,
}

/// Finishes signing in with a key: the ceremony token is used once and must have been
/// begun for this session's user; the key must be one of theirs and its signature counter
/// must have moved on (a clone is refused). A refusal counts like a wrong code (account
/// lock, session limit); success marks the session's second factor as a security key
/// (with or without user verification).
pub fn finish_authentication(
    deps: &Deps<'_>,
    attempt: &KeyAttempt<'_>,
) -> Result<CodeOutcome, Error> {
    let step = SecondFactorStep {
        session: attempt.session,
        client: attempt.client,
        remember: None,
    };
    sign_in::run_second_factor(deps, &step, |user| check_assertion(deps, user, attempt))
}

fn check_assertion(
    deps: &Deps<'_>,
    user: &UserRecord,
    attempt: &KeyAttempt<'_>,
) -> Result<Check, Error> {
    let Some(webauthn) = deps.relying_party.webauthn() else {
        return Ok(Check::Failed("key_unavailable"));
    };
    let Some((token, payload)) = take_ceremony::<AuthenticationState>(
        deps,
        TokenPurpose::WebauthnAuthentication,
        attempt.ceremony_token,
    )?
    else {
        return Ok(Check::Failed("key_ceremony_expired"));
    };
    if token.user_id != Some(user.id) {
        return Ok(Check::Failed("key_wrong_user"));
    }
    let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(attempt.response) else {
        return Ok(Check::Failed("key_malformed"));
    };
    let keys = stored_keys(deps, user.id)?;
    let Some((record, mut key)) = keys
        .into_iter()
        .find(|(_, key)| key.cred_id().as_slice() == credential.raw_id.as_slice())
    else {
        return Ok(Check::Failed("key_unknown"));
    };
    let result = match webauthn.finish_securitykey_authentication(&credential, &payload.state) {
        Ok(result) => result,
        Err(e) => {
            tracing::info!(error = %e, "security key assertion refused");
            return Ok(Check::Failed("key_refused"));
        }
    };
    key.update_credential(&result);
    let updated = serde_json::to_string(&key)
        .map_err(|e| Error::Response(format!("serialising a credential: {e}")))?;
    deps.security_keys
        .record_use(record.id, &updated, deps.now)?;
    Ok(Check::Passed(if result.user_verified() {
        MfaMethod::SecurityKeyVerified
    } else {
        MfaMethod::SecurityKey
    }))
}

/// The user's keys with their parsed credentials (a row that no longer parses is skipped
/// and logged: it cannot sign anyone in).
fn stored_keys(
    deps: &Deps<'_>,
    user_id: i64,
) -> Result<Vec<(SecurityKeyRecord, SecurityKey)>, Error> {
    let records = deps.security_keys.list_for_user(user_id)?;
    Ok(records
        .into_iter()
        .filter_map(|record| match serde_json::from_str(&record.credential) {
            Ok(key) => Some((record, key)),
            Err(_) => {
                tracing::error!(key_id = record.id, "a stored security key does not parse");
                None
            }
        })
        .collect())
}

/// Seals `payload` into a new token of `purpose` and returns the options with the token.
fn store_ceremony<P: Serialize, O: Serialize>(
    deps: &Deps<'_>,
    purpose: TokenPurpose,
    user_id: Option<i64>,
    payload: &P,
    options: &O,
) -> Result<Ceremony, Error> {
    let token = deps
        .ids
        .secret_token()
        .ok_or(Error::Random("ceremony token"))?;
    let hash = TokenHash::of(&token);
    let plain = serde_json::to_vec(payload)
        .map_err(|e| Error::Response(format!("serialising a ceremony: {e}")))?;
    let sealed = deps
        .crypto
        .seal_token_payload(&hash, &plain)
        .ok_or(Error::Random("sealing a ceremony"))?;
    let options = serde_json::to_string(options)
        .map_err(|e| Error::Response(format!("serialising ceremony options: {e}")))?;
    let record = TokenRecord::issue(hash.into(), purpose, user_id, Some(sealed), deps.now);
    super::token::store_bounded(deps.tokens, &record)?;
    Ok(Ceremony { options, token })
}

/// Takes (uses up) a ceremony token and opens its state; `None` when the token is unknown,
/// used, expired or its payload does not open.
fn take_ceremony<P: for<'de> Deserialize<'de>>(
    deps: &Deps<'_>,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Option<(TokenRecord, P)>, Error> {
    if token.is_empty() {
        return Ok(None);
    }
    let hash = TokenHash::of(token);
    let Some(record) = deps.tokens.take(&hash, purpose, deps.now)? else {
        return Ok(None);
    };
    let payload = record
        .payload
        .as_deref()
        .and_then(|sealed| deps.crypto.open_token_payload(&hash, sealed))
        .and_then(|plain| serde_json::from_slice(&plain).ok());
    Ok(payload.map(|p| (record, p)))
}

fn audit(
    deps: &Deps<'_>,
    user: &UserRecord,
    event: AuditKind,
    success: bool,
    detail: &str,
) -> Result<(), Error> {
    let event = AuditEvent {
        event,
        issuer: None,
        user_public_id: Some(user.public_id.clone()),
        success,
        detail: Some(detail.to_string()),
        count: 1,
    };
    Ok(deps.audit.record(&event, deps.now)?)
}

/// The user has a security key this server can use (the second-factor page offers it).
pub fn has_usable_key(deps: &Deps<'_>, user_id: i64) -> Result<bool, Error> {
    Ok(deps.relying_party.is_available() && deps.security_keys.count_for_user(user_id)? > 0)
}

/// The session's user and their keys (the security-key page).
pub fn user_and_keys(
    deps: &Deps<'_>,
    session: &SessionRecord,
) -> Result<(UserRecord, Vec<SecurityKeyRecord>), Error> {
    let user = session
        .user_id
        .map(|id| deps.accounts.get(id))
        .transpose()?
        .flatten()
        .ok_or(Error::User(super::UserProblem::Gone))?;
    let keys = deps.security_keys.list_for_user(user.id)?;
    Ok((user, keys))
}

/// The user's sign-in email, opened (the name an authenticator shows).
pub fn sign_in_email(deps: &Deps<'_>, user: &UserRecord) -> Result<Option<String>, Error> {
    let emails = deps.accounts.emails(user.id)?;
    Ok(emails
        .iter()
        .filter(|e| e.for_sign_in)
        .find_map(|e| deps.crypto.open_email(&e.sealed, &e.lookup)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_needs_a_domain_name() {
        let named = RelyingParty::new("https://idp.example.gov", "Example");
        assert!(named.is_available());
        let local = RelyingParty::new("http://localhost:8080", "Example");
        assert!(local.is_available(), "localhost is a secure context");
        assert!(!RelyingParty::new("http://127.0.0.1:8080", "Example").is_available());
        assert!(!RelyingParty::new("not a url", "Example").is_available());
    }

    #[test]
    fn refusals_have_distinct_words() {
        let all = [
            Refusal::Unavailable,
            Refusal::Expired,
            Refusal::WrongUser,
            Refusal::Malformed,
            Refusal::Invalid,
            Refusal::AlreadyRegistered,
            Refusal::BadName,
        ];
        let words: std::collections::BTreeSet<_> = all.iter().map(|r| r.as_str()).collect();
        assert_eq!(words.len(), all.len());
    }
}
