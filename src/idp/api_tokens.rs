//! The console API's bearer tokens (SPEC 19): an operator creates one for an account
//! (`saml-idp token create`), which prints it once; only its SHA-256 is kept. A token acts
//! with its user's roles while it is live (not revoked, not expired) and its user active.
//! Creating and revoking are audited (the user's public id, never the token or an email).

use chrono::{DateTime, Duration, Utc};

use super::token::{Token, TokenHash};
use super::Error;
use crate::accounts::api_tokens::{self, ApiTokenRecord, ApiTokenStore};
use crate::accounts::roles::{Role, RoleStore};
use crate::accounts::sealing::AccountCrypto;
use crate::accounts::{AccountStore, UserRecord, UserStatus};
use crate::ids::IdSource;
use crate::sessions::{AuditEvent, AuditKind, AuditLog};

/// Days a token lives unless told otherwise, and the most it may.
pub const DEFAULT_DAYS: u32 = 90;
pub const MAX_DAYS: u32 = 3650;

#[derive(Clone, Copy)]
pub struct TokenPorts<'a> {
    pub accounts: &'a dyn AccountStore,
    pub api_tokens: &'a dyn ApiTokenStore,
    pub roles: &'a dyn RoleStore,
    pub crypto: &'a AccountCrypto,
    pub audit: &'a dyn AuditLog,
    pub ids: &'a dyn IdSource,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The token (shown once) and its record.
    Created {
        token: String,
        record: ApiTokenRecord,
    },
    InvalidEmail,
    NoSuchUser,
    /// 1 to 100 characters, no control characters.
    InvalidName,
    /// 1 to [`MAX_DAYS`].
    InvalidExpiry,
}

/// A new token for the account whose address is `email`, valid `days` (default 90).
pub fn create(
    p: &TokenPorts<'_>,
    email: &str,
    name: &str,
    days: Option<u32>,
) -> Result<CreateOutcome, Error> {
    let Some(name) = api_tokens::valid_name(name) else {
        return Ok(CreateOutcome::InvalidName);
    };
    let days = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Ok(CreateOutcome::InvalidExpiry);
    }
    let Some((_, lookup)) = p.crypto.email_lookup(email) else {
        return Ok(CreateOutcome::InvalidEmail);
    };
    let Some(user) = p.accounts.find_by_email(&lookup)? else {
        return Ok(CreateOutcome::NoSuchUser);
    };
    let secret = Token::generate(p.ids, "API token")?;
    let token = format!("{}{}", api_tokens::PREFIX, secret.as_str());
    let record = ApiTokenRecord {
        id: p.ids.uuid(),
        user_id: user.id,
        name: name.to_string(),
        token_hash: TokenHash::of(&token).into(),
        created_at: p.now,
        expires_at: Some(p.now + Duration::days(i64::from(days))),
        revoked_at: None,
    };
    p.api_tokens.insert(&record)?;
    audit(p, &user, "api_token_created")?;
    Ok(CreateOutcome::Created { token, record })
}

/// Revokes the token with this id; false if there is none (or it was revoked already).
pub fn revoke(p: &TokenPorts<'_>, id: &str) -> Result<bool, Error> {
    let Some(user_id) = p.api_tokens.revoke(id, p.now)? else {
        return Ok(false);
    };
    if let Some(user) = p.accounts.get(user_id)? {
        audit(p, &user, "api_token_revoked")?;
    }
    Ok(true)
}

/// The user and roles a presented token acts with; `None` for anything but a live token of
/// an active user (the API answers 401 alike).
pub fn authenticate(
    p: &TokenPorts<'_>,
    presented: &str,
) -> Result<Option<(UserRecord, Vec<Role>)>, Error> {
    if !presented.starts_with(api_tokens::PREFIX) {
        return Ok(None);
    }
    let found = p.api_tokens.find_by_hash(&TokenHash::of(presented))?;
    let Some(token) = found.filter(|t| t.is_live(p.now)) else {
        return Ok(None);
    };
    let Some(user) = p.accounts.get(token.user_id)? else {
        return Ok(None);
    };
    if user.status != UserStatus::Active {
        return Ok(None);
    }
    let roles = p.roles.roles_of(user.id)?;
    Ok(Some((user, roles)))
}

fn audit(p: &TokenPorts<'_>, user: &UserRecord, detail: &str) -> Result<(), Error> {
    let event = AuditEvent {
        event: AuditKind::Account,
        issuer: None,
        user_public_id: Some(user.public_id.clone()),
        success: true,
        detail: Some(detail.to_string()),
        count: 1,
        binding: None,
        reference: None,
    };
    Ok(p.audit.record(&event, p.now)?)
}
