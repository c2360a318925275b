//! Console roles (SPEC 19): an operator grants and revokes them (`saml-idp user grant |
//! revoke`); each change is audited (`Role Changed`, the user's public id and the role's
//! kind, never an email).

use chrono::{DateTime, Utc};

use super::Error;
use crate::accounts::roles::{Role, RoleStore};
use crate::accounts::sealing::AccountCrypto;
use crate::accounts::AccountStore;
use crate::sessions::{AuditEvent, AuditKind, AuditLog};

/// What granting and revoking need: the accounts (found by email), their roles, the audit
/// log, and the time.
#[derive(Clone, Copy)]
pub struct RolePorts<'a> {
    pub accounts: &'a dyn AccountStore,
    pub roles: &'a dyn RoleStore,
    pub crypto: &'a AccountCrypto,
    pub audit: &'a dyn AuditLog,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleOutcome {
    /// Granted (or revoked) now; the user's public id.
    Changed { user: String },
    /// The user held it already (or did not hold it): nothing changed.
    Unchanged { user: String },
    /// No account uses this address.
    NoSuchUser,
    /// Not an email address.
    InvalidEmail,
}

/// Grants `role` to the account whose address is `email`.
pub fn grant(p: &RolePorts<'_>, email: &str, role: &Role) -> Result<RoleOutcome, Error> {
    change(p, email, role, "granted", |user_id| {
        p.roles.grant(user_id, role, p.now)
    })
}

/// Revokes `role` from the account whose address is `email`.
pub fn revoke(p: &RolePorts<'_>, email: &str, role: &Role) -> Result<RoleOutcome, Error> {
    change(p, email, role, "revoked", |user_id| {
        p.roles.revoke(user_id, role)
    })
}

fn change(
    p: &RolePorts<'_>,
    email: &str,
    role: &Role,
    verb: &str,
    apply: impl FnOnce(i64) -> Result<bool, crate::accounts::AccountError>,
) -> Result<RoleOutcome, Error> {
    let Some((_, lookup)) = p.crypto.email_lookup(email) else {
        return Ok(RoleOutcome::InvalidEmail);
    };
    let Some(user) = p.accounts.find_by_email(&lookup)? else {
        return Ok(RoleOutcome::NoSuchUser);
    };
    if !apply(user.id)? {
        return Ok(RoleOutcome::Unchanged {
            user: user.public_id,
        });
    }
    let event = AuditEvent {
        event: AuditKind::RoleChanged,
        issuer: None,
        user_public_id: Some(user.public_id.clone()),
        success: true,
        detail: Some(format!("{verb}:{}", role.kind())),
        count: 1,
        binding: None,
        reference: None,
    };
    p.audit.record(&event, p.now)?;
    Ok(RoleOutcome::Changed {
        user: user.public_id,
    })
}
