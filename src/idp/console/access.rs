//! Who may open the console from a browser (SPEC 19): an active account signed in with a
//! second factor in this session and holding a console role; with `[console]
//! require_phishing_resistant`, that second factor a security key.

use super::{Actor, ConsoleError};
use crate::accounts::roles::RoleStore;
use crate::accounts::{AccountStore, UserStatus};
use crate::sessions::{MfaMethod, SessionRecord};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Allowed(Actor),
    /// Signed in, with no console role: the page says who grants roles.
    NoRole,
    /// The second factor of this session was not a security key, and the console asks one.
    SecurityKeyNeeded,
    /// No account behind the session (removed, suspended).
    NotSignedIn,
}

/// The console access of a fully signed-in `session`.
pub fn of_session(
    accounts: &dyn AccountStore,
    roles: &dyn RoleStore,
    session: &SessionRecord,
    require_security_key: bool,
) -> Result<Access, ConsoleError> {
    let storage = |e: crate::accounts::AccountError| ConsoleError::Storage(e.to_string());
    let Some(user_id) = session.user_id else {
        return Ok(Access::NotSignedIn);
    };
    let Some(user) = accounts.get(user_id).map_err(storage)? else {
        return Ok(Access::NotSignedIn);
    };
    if user.status != UserStatus::Active {
        return Ok(Access::NotSignedIn);
    }
    let held = roles.roles_of(user.id).map_err(storage)?;
    if held.is_empty() {
        return Ok(Access::NoRole);
    }
    let key = matches!(
        session.mfa_method,
        Some(MfaMethod::SecurityKey | MfaMethod::SecurityKeyVerified)
    );
    if require_security_key && !key {
        return Ok(Access::SecurityKeyNeeded);
    }
    Ok(Access::Allowed(Actor::User {
        id: user.id,
        public_id: user.public_id,
        roles: held,
    }))
}
