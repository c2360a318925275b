//! The audit trail's closed vocabulary (SPEC 12): every event name the IdP writes, one enum.
//! Writers name a kind, the store keeps its fixed text, and `metrics` counts by kind; no
//! control flow compares event names as strings.

/// What an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditKind {
    /// An AuthnRequest arrived (accepted, refused or from an inactive SP).
    SamlAuthRequest,
    /// Single sign-on ended: a Response (or NoPassive) went to the SP.
    SamlAuth,
    /// A front-channel LogoutRequest arrived.
    LogoutInitiated,
    /// A back-channel LogoutRequest arrived.
    RemoteLogoutInitiated,
    /// A back-channel logout ended the user's sessions.
    RemoteLogoutCompleted,
    SignInSuccess,
    SignInFailure,
    SecurityKeyAdded,
    SecurityKeyRemoved,
    /// A change to an account, or a step of sign-up and recovery.
    Account,
    /// A console role granted or revoked (SPEC 19).
    RoleChanged,
    /// A service provider added, changed or deactivated, by the console, the API or the
    /// CLI (SPEC 19): the actor, the SP and the field names.
    SpChanged,
}

impl AuditKind {
    pub const ALL: [AuditKind; 12] = [
        AuditKind::SamlAuthRequest,
        AuditKind::SamlAuth,
        AuditKind::LogoutInitiated,
        AuditKind::RemoteLogoutInitiated,
        AuditKind::RemoteLogoutCompleted,
        AuditKind::SignInSuccess,
        AuditKind::SignInFailure,
        AuditKind::SecurityKeyAdded,
        AuditKind::SecurityKeyRemoved,
        AuditKind::Account,
        AuditKind::RoleChanged,
        AuditKind::SpChanged,
    ];

    /// The stored name (the `event` column, `saml-idp events --type`, the metric label).
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditKind::SamlAuthRequest => "SAML Auth Request",
            AuditKind::SamlAuth => "SAML Auth",
            AuditKind::LogoutInitiated => "Logout Initiated",
            AuditKind::RemoteLogoutInitiated => "Remote Logout initiated",
            AuditKind::RemoteLogoutCompleted => "Remote Logout completed",
            AuditKind::SignInSuccess => "Sign In Success",
            AuditKind::SignInFailure => "Sign In Failure",
            AuditKind::SecurityKeyAdded => "Security Key Added",
            AuditKind::SecurityKeyRemoved => "Security Key Removed",
            AuditKind::Account => "Account",
            AuditKind::RoleChanged => "Role Changed",
            AuditKind::SpChanged => "SP Changed",
        }
    }

    /// The kind of a stored name; `None` for a name this version does not write.
    pub fn parse(name: &str) -> Option<AuditKind> {
        AuditKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// About an incoming SAML message (its refusals carry error codes).
    pub const fn is_saml_message(self) -> bool {
        matches!(
            self,
            AuditKind::SamlAuthRequest
                | AuditKind::SamlAuth
                | AuditKind::LogoutInitiated
                | AuditKind::RemoteLogoutInitiated
                | AuditKind::RemoteLogoutCompleted
        )
    }
}

impl std::fmt::Display for AuditKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name_and_names_are_unique() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        let mut names: Vec<_> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), AuditKind::ALL.len());
        assert_eq!(AuditKind::parse("Something Else"), None);
    }
}
