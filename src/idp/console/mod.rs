//! The SP administrator console's use cases (SPEC 19), for the console pages, the JSON API
//! and the CLI alike: who may see which service provider, and every change to one,
//! validated by the registry's rules, written only over the version it was read at,
//! audited (`SP Changed`) and told to the agency's administrators.

pub mod access;
pub mod certificates;
pub mod changes;
pub mod events;

use chrono::{DateTime, Utc};

use crate::accounts::roles::{Role, RoleStore};
use crate::accounts::sealing::AccountCrypto;
use crate::accounts::AccountStore;
use crate::mail::Mailer;
use crate::registry::{
    issuer_of_public_id, Policy, RegistryError, ServiceProvider, SpRegistry, ValidationError,
};
use crate::sessions::AuditLog;

pub use changes::{
    add_certificate, create, deactivate, import_all, remove, remove_certificate, update,
};

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An operator on the server (`saml-idp sp …`): every SP.
    Operator,
    /// A signed-in account, or an API token acting for one, with the roles it holds.
    User {
        id: i64,
        public_id: String,
        roles: Vec<Role>,
    },
}

impl Actor {
    /// Whether the actor may see and change the SPs of `agency` (`None`: no agency).
    pub fn covers(&self, agency: Option<&str>) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User { roles, .. } => roles.iter().any(|r| r.covers(agency)),
        }
    }

    /// Whether the actor holds any console role at all.
    pub fn has_role(&self) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User { roles, .. } => !roles.is_empty(),
        }
    }

    /// The agency an agency administrator's new SP belongs to when it names none: its only
    /// agency (with several, or as an admin, it must be named).
    fn default_agency(&self) -> Option<&str> {
        let Actor::User { roles, .. } = self else {
            return None;
        };
        match roles.as_slice() {
            [role @ Role::AgencyAdmin { .. }] => role.agency(),
            _ => None,
        }
    }

    /// The account's public id, for the audit trail (`None` for the operator).
    fn public_id(&self) -> Option<&str> {
        match self {
            Actor::Operator => None,
            Actor::User { public_id, .. } => Some(public_id),
        }
    }
}

/// What the console's use cases need.
#[derive(Clone, Copy)]
pub struct ConsolePorts<'a> {
    pub registry: &'a dyn SpRegistry,
    pub audit: &'a dyn AuditLog,
    pub accounts: &'a dyn AccountStore,
    pub roles: &'a dyn RoleStore,
    pub crypto: &'a AccountCrypto,
    pub mailer: &'a dyn Mailer,
    pub policy: Policy,
    /// For the console links in the change notices.
    pub base_url: &'a str,
    pub now: DateTime<Utc>,
}

/// Why a console action did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    /// No such SP, or not one the actor may see (the same answer: no enumeration).
    #[error("no such service provider")]
    NotFound,
    /// No certificate with that fingerprint on the SP.
    #[error("no such certificate")]
    NoSuchCertificate,
    /// The SP changed since the version the edit was made from.
    #[error("the service provider was changed since it was read")]
    Stale,
    /// A field breaks a registry rule.
    #[error("{0}")]
    Invalid(ValidationError),
    /// The actor may not put an SP where the edit puts it (another agency).
    #[error("{0}")]
    Forbidden(ValidationError),
    /// The database failed; the detail is for the log.
    #[error("storage: {0}")]
    Storage(String),
}

impl From<RegistryError> for ConsoleError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::NotFound(_) => ConsoleError::NotFound,
            RegistryError::Stale(_) => ConsoleError::Stale,
            RegistryError::Duplicate(issuer) => ConsoleError::Invalid(ValidationError {
                field: "issuer",
                code: "duplicate_issuer",
                message: format!("service provider {issuer:?} already exists"),
            }),
            RegistryError::Corrupt { .. } | RegistryError::Storage(_) => {
                ConsoleError::Storage(e.to_string())
            }
        }
    }
}

impl From<ValidationError> for ConsoleError {
    fn from(e: ValidationError) -> Self {
        ConsoleError::Invalid(e)
    }
}

/// The SPs the actor may see, by issuer.
pub fn list(p: &ConsolePorts<'_>, actor: &Actor) -> Result<Vec<ServiceProvider>, ConsoleError> {
    let mut sps = p.registry.list()?;
    sps.retain(|sp| actor.covers(sp.agency.as_deref()));
    Ok(sps)
}

/// The SP with console identifier `id`, if the actor may see it.
pub fn get(p: &ConsolePorts<'_>, actor: &Actor, id: &str) -> Result<ServiceProvider, ConsoleError> {
    let issuer = issuer_of_public_id(id).ok_or(ConsoleError::NotFound)?;
    p.registry
        .find(&issuer)?
        .filter(|sp| actor.covers(sp.agency.as_deref()))
        .ok_or(ConsoleError::NotFound)
}
