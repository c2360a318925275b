//! WebAuthn ceremonies (SPEC 18): registering a security key or platform authenticator, and
//! signing in with one as the second factor. User verification preferred, resident keys not
//! required. The relying-party ID is the host of `base_url`; each ceremony's state lives
//! sealed in a five-minute one-time token (`WebauthnRegistration` /
//! `WebauthnAuthentication`), so any node can finish what another began, and only once.
//!
//! AAL3: with `[webauthn] aal3_attestation_roots` configured, registration asks for direct
//! attestation and records its verdict (does the chain lead to a root?) and the key's
//! backup-eligible flag; any key still registers. A sign-in is AAL3 only when the key is
//! hardware bound (trusted attestation, not backup eligible) and the assertion carries user
//! verification and no backup eligibility; a ceremony for an AAL3 request offers only such
//! keys and asks for `userVerification: required`.
//!
//! Registration returns the credential without storing it, so a sign-up (no user yet) and
//! the account page (`account::security_keys`) can both use it. Authentication counts a
//! failure like a wrong code (`sign_in::run_second_factor`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use webauthn_rs::prelude::{
    AttestationCaList, Credential, CredentialID, ParsedAttestationData, PublicKeyCredential,
    RegisterPublicKeyCredential, SecurityKey, SecurityKeyAuthentication, SecurityKeyRegistration,
};
use webauthn_rs_proto::{AttestationConveyancePreference, UserVerificationPolicy};

pub use super::relying_party::RelyingParty;
use super::sign_in::{self, Check, CodeOutcome, SecondFactorStep};
use super::sso::policy;
use super::throttle::{self, Bucket};
use super::token::TokenHash;
use super::{Deps, Error};
use crate::accounts::security_keys::{Attestation, NewSecurityKey, SecurityKeyRecord};
use crate::accounts::tokens::{TokenPurpose, TokenRecord};
use crate::accounts::UserRecord;
use crate::sessions::{MfaMethod, SessionRecord};

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
    /// The verdict on its attestation statement.
    pub attestation: Attestation,
    /// The authenticator may back the credential up (sync it) elsewhere.
    pub backup_eligible: bool,
}

impl RegisteredKey {
    /// The key as stored for `user_id` under `name`.
    pub fn for_user(self, user_id: i64, name: String) -> NewSecurityKey {
        NewSecurityKey {
            user_id,
            name,
            credential_id: self.credential_id,
            credential: self.credential,
            attestation: self.attestation,
            backup_eligible: self.backup_eligible,
        }
    }

    /// How this registration proved the second factor (a sign-up ends with it): AAL3 only
    /// for a hardware-bound key that verified its user.
    pub fn method(&self) -> MfaMethod {
        let bound = self.attestation == Attestation::Trusted && !self.backup_eligible;
        if bound && self.user_verified {
            MfaMethod::SecurityKeyVerified
        } else {
            MfaMethod::SecurityKey
        }
    }
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
    // The statement is asked for, and judged at the end, only when it can earn AAL3. The
    // roots are not handed to webauthn-rs: it would refuse every other key, and any key
    // may still sign in at AAL2.
    if deps.relying_party.offers_aal3() {
        options.public_key.attestation = Some(AttestationConveyancePreference::Direct);
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
    let parts = Credential::from(key.clone());
    Ok(Finish::Done(RegisteredKey {
        credential_id: credential_id_text(key.cred_id()),
        credential,
        user_verified: parts.user_verified,
        attestation: verdict(&parts, deps.relying_party.aal3_roots()),
        backup_eligible: parts.backup_eligible,
    }))
}

/// The verdict on a new credential's attestation statement (its signature was checked by
/// webauthn-rs): does its certificate chain lead to one of `roots`?
fn verdict(credential: &Credential, roots: Option<&AttestationCaList>) -> Attestation {
    match (&credential.attestation.data, roots) {
        (ParsedAttestationData::None | ParsedAttestationData::Self_, _) => Attestation::Absent,
        (_, None) => Attestation::Untrusted,
        (_, Some(roots)) => match credential.verify_attestation(roots) {
            Ok(Some(_)) => Attestation::Trusted,
            Ok(None) => Attestation::Absent,
            Err(e) => {
                tracing::info!(error = %e, "a key's attestation leads to no AAL3 root");
                Attestation::Untrusted
            }
        },
    }
}

/// The user handle of an existing user: their `public_id` as a UUID.
pub fn handle_of(user: &UserRecord) -> Option<Uuid> {
    Uuid::parse_str(&user.public_id).ok()
}

/// Starts signing in with one of the user's keys (the session is past the password).
/// Counted in the same rate limits as the code form. When the browser's pending request
/// (`pending`) needs AAL3, only hardware-bound keys are offered and user verification is
/// required.
pub fn begin_authentication(
    deps: &Deps<'_>,
    session: &SessionRecord,
    client: &str,
    pending: Option<&TokenHash>,
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
    let aal3 = match pending {
        Some(stored) => needs_aal3(deps, stored)?,
        None => false,
    };
    let credentials: Vec<SecurityKey> = stored_keys(deps, user_id)?
        .into_iter()
        .filter(|(record, _)| !aal3 || record.is_hardware_bound())
        .map(|(_, key)| key)
        .collect();
    if credentials.is_empty() {
        return Ok(Begun::NoKeys);
    }
    let (mut options, state) = webauthn
        .start_securitykey_authentication(&credentials)
        .map_err(|e| Error::Response(format!("webauthn authentication options: {e}")))?;
    options.public_key.hints = None;
    if aal3 {
        // SPEC 18; the answer's flag is checked again at the end whatever was asked.
        options.public_key.user_verification = UserVerificationPolicy::Required;
    }
    let ceremony = store_ceremony(
        deps,
        TokenPurpose::WebauthnAuthentication,
        Some(user_id),
        &AuthenticationState { state },
        &options,
    )?;
    Ok(Begun::Ceremony(ceremony))
}

/// The stored request (still pending) asks for AAL3.
fn needs_aal3(deps: &Deps<'_>, stored: &TokenHash) -> Result<bool, Error> {
    let Some(pending) = deps.pending.get(stored, deps.now)? else {
        return Ok(false);
    };
    Ok(deps
        .sps
        .get(&pending.issuer)
        .is_some_and(|sp| policy::needs_aal3(&pending, &sp)))
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
/// lock, session limit); success marks the session's second factor as a security key, AAL3
/// when the key and the assertion allow it.
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
    // SPEC 18: a synced credential (BE now, or at registration) is AAL2 whatever it proved.
    let aal3 = deps.relying_party.offers_aal3()
        && record.is_hardware_bound()
        && result.user_verified()
        && !result.backup_eligible();
    Ok(Check::Passed(if aal3 {
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

/// The user has a security key this server can use (the second-factor page offers it).
pub fn has_usable_key(deps: &Deps<'_>, user_id: i64) -> Result<bool, Error> {
    Ok(deps.relying_party.is_available() && deps.security_keys.count_for_user(user_id)? > 0)
}

/// What the user's keys can do, for the single-sign-on policy.
pub fn key_strength(deps: &Deps<'_>, user_id: i64) -> Result<policy::Keys, Error> {
    if !deps.relying_party.is_available() {
        return Ok(policy::Keys::None);
    }
    let keys = deps.security_keys.list_for_user(user_id)?;
    let aal3 = deps.relying_party.offers_aal3() && keys.iter().any(|k| k.is_hardware_bound());
    Ok(match (keys.is_empty(), aal3) {
        (true, _) => policy::Keys::None,
        (false, false) => policy::Keys::PhishingResistant,
        (false, true) => policy::Keys::Aal3,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_needs_a_domain_name() {
        let rp = |url| RelyingParty::new(url, "Example", &[]);
        assert!(rp("https://idp.example.gov").is_available());
        assert!(
            rp("http://localhost:8080").is_available(),
            "a secure context"
        );
        assert!(!rp("http://127.0.0.1:8080").is_available());
        assert!(!rp("not a url").is_available());
        assert!(!rp("https://idp.example.gov").offers_aal3(), "no roots");
    }

    #[test]
    fn only_a_hardware_bound_key_that_verified_its_user_registers_at_aal3() {
        let key = |user_verified, attestation, backup_eligible| RegisteredKey {
            credential_id: String::new(),
            credential: String::new(),
            user_verified,
            attestation,
            backup_eligible,
        };
        let aal3 = MfaMethod::SecurityKeyVerified;
        assert_eq!(key(true, Attestation::Trusted, false).method(), aal3);
        for other in [
            key(false, Attestation::Trusted, false),
            key(true, Attestation::Trusted, true),
            key(true, Attestation::Untrusted, false),
            key(true, Attestation::Absent, false),
        ] {
            assert_eq!(other.method(), MfaMethod::SecurityKey, "{other:?}");
        }
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
