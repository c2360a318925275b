//! The roles of the SP administrator console (SPEC 19): `admin` (every service provider) and
//! `agency-admin` of one agency (the SPs whose `agency` is that agency; it may create SPs
//! only there). An account holds any number of roles, each once; they are stored with the
//! account and gone with it.

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::AccountError;

/// The longest agency name a role may name (the registry's `agency` is free text).
pub const MAX_AGENCY_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Every service provider.
    Admin,
    /// The service providers of one agency.
    AgencyAdmin { agency: String },
}

/// Why a role as given cannot be granted or revoked; each is one line for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RoleError {
    #[error("unknown role {0:?}: use admin or agency-admin")]
    UnknownRole(String),
    #[error("agency-admin needs --agency AGENCY")]
    AgencyRequired,
    #[error("admin is for every agency: give no --agency")]
    AgencyNotAllowed,
    #[error("the agency must be 1 to 100 characters, without control characters")]
    InvalidAgency,
}

impl Role {
    /// The role named `kind` (`admin`, `agency-admin`), with its agency.
    pub fn parse(kind: &str, agency: Option<&str>) -> Result<Role, RoleError> {
        let agency = agency.map(str::trim);
        match (kind.trim(), agency) {
            ("admin", None) => Ok(Role::Admin),
            ("admin", Some(_)) => Err(RoleError::AgencyNotAllowed),
            ("agency-admin", None) => Err(RoleError::AgencyRequired),
            ("agency-admin", Some(agency)) => {
                let chars = agency.chars().count();
                if chars == 0 || chars > MAX_AGENCY_CHARS || agency.chars().any(char::is_control) {
                    return Err(RoleError::InvalidAgency);
                }
                Ok(Role::AgencyAdmin {
                    agency: agency.to_string(),
                })
            }
            (other, _) => Err(RoleError::UnknownRole(other.to_string())),
        }
    }

    /// The stored name of the role's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::AgencyAdmin { .. } => "agency-admin",
        }
    }

    /// The agency of an `agency-admin`; `None` for `admin`.
    pub fn agency(&self) -> Option<&str> {
        match self {
            Role::Admin => None,
            Role::AgencyAdmin { agency } => Some(agency),
        }
    }

    /// The role as stored: (kind, agency or "").
    pub fn to_row(&self) -> (&'static str, &str) {
        (self.kind(), self.agency().unwrap_or(""))
    }

    /// A stored (kind, agency); `None` for a kind this version does not know.
    pub fn from_row(kind: &str, agency: &str) -> Option<Role> {
        let agency = (!agency.is_empty()).then_some(agency);
        Role::parse(kind, agency).ok()
    }

    /// Whether this role covers a service provider of `agency`.
    pub fn covers(&self, sp_agency: Option<&str>) -> bool {
        match self {
            Role::Admin => true,
            Role::AgencyAdmin { agency } => sp_agency == Some(agency.as_str()),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Role::Admin => f.write_str("admin"),
            Role::AgencyAdmin { agency } => write!(f, "agency-admin of {agency:?}"),
        }
    }
}

/// Where roles live (with the accounts).
pub trait RoleStore: Send + Sync {
    /// Grants `role` to the user; false if the user already held it.
    fn grant(&self, user_id: i64, role: &Role, now: DateTime<Utc>) -> Result<bool, AccountError>;
    /// Revokes `role`; false if the user did not hold it.
    fn revoke(&self, user_id: i64, role: &Role) -> Result<bool, AccountError>;
    /// The user's roles, `admin` first, then agencies in order.
    fn roles_of(&self, user_id: i64) -> Result<Vec<Role>, AccountError>;
    /// Who holds `role` (the users told of a change to their agency's SPs), by id, in order.
    fn holders_of(&self, role: &Role) -> Result<Vec<i64>, AccountError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_with_their_agency_rules() {
        assert_eq!(Role::parse("admin", None), Ok(Role::Admin));
        assert_eq!(
            Role::parse("agency-admin", Some(" GSA ")),
            Ok(Role::AgencyAdmin {
                agency: "GSA".into()
            })
        );
        assert_eq!(
            Role::parse("admin", Some("GSA")),
            Err(RoleError::AgencyNotAllowed)
        );
        assert_eq!(
            Role::parse("agency-admin", None),
            Err(RoleError::AgencyRequired)
        );
        for bad in ["", "  ", "a\u{7}b", &"x".repeat(101)] {
            assert_eq!(
                Role::parse("agency-admin", Some(bad)),
                Err(RoleError::InvalidAgency),
                "{bad:?}"
            );
        }
        assert!(matches!(
            Role::parse("root", None),
            Err(RoleError::UnknownRole(_))
        ));
    }

    #[test]
    fn a_role_reads_back_from_its_row_and_covers_its_agency() {
        for role in [
            Role::Admin,
            Role::AgencyAdmin {
                agency: "GSA".into(),
            },
        ] {
            let (kind, agency) = role.to_row();
            assert_eq!(Role::from_row(kind, agency), Some(role.clone()));
        }
        assert_eq!(Role::from_row("owner", ""), None);
        let gsa = Role::AgencyAdmin {
            agency: "GSA".into(),
        };
        assert!(gsa.covers(Some("GSA")));
        assert!(!gsa.covers(Some("IRS")) && !gsa.covers(None));
        assert!(Role::Admin.covers(None) && Role::Admin.covers(Some("IRS")));
    }
}
