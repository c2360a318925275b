//! What the account page shows: the addresses (opened) and which one SPs receive, the second
//! factors, the unused backup codes, the connected SPs (what each received and when) and the
//! user's recent events. An issuer is shown only as the name of a registered SP.

use chrono::{DateTime, Utc};

use super::{gate, second_factors, security_key_count, Fresh, Outcome};
use crate::idp::{Deps, Error};
use crate::sessions::SessionRecord;

/// How many of the user's own audit events the page lists.
pub const RECENT_EVENTS: i64 = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub emails: Vec<Address>,
    pub totp: bool,
    pub security_keys: usize,
    /// Whether the authenticator app may be removed (it is not the last second factor).
    pub totp_removable: bool,
    pub backup_codes_left: usize,
    pub connected: Vec<ConnectedSp>,
    pub events: Vec<RecentEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// What the page's forms name.
    pub id: i64,
    pub address: String,
    /// The one address SPs receive as `email`.
    pub for_sps: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedSp {
    pub issuer: String,
    /// The registered friendly name (the issuer if the SP is no longer registered).
    pub name: String,
    /// Attribute names as the consent stored them (`email`, `uuid`, …).
    pub attributes: Vec<String>,
    pub consented_at: DateTime<Utc>,
    pub last_signed_in: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentEvent {
    pub event: crate::sessions::AuditKind,
    /// The fixed detail word (`password`, `wrong_code`, `email_added`, …).
    pub detail: Option<String>,
    /// The friendly name of the SP, only when the issuer is a registered SP.
    pub sp: Option<String>,
    pub at: DateTime<Utc>,
    pub success: bool,
}

/// The account page's content, for a fully signed-in session whose password is recent.
pub fn overview(deps: &Deps<'_>, session: &SessionRecord) -> Result<Outcome<Overview>, Error> {
    let user = match gate(deps, session, Fresh::Password)? {
        Ok(user) => user,
        Err(stop) => return Ok(stop.into()),
    };
    let emails = deps
        .accounts
        .stored_emails(user.id)?
        .into_iter()
        .filter_map(|e| {
            let address = deps.crypto.open_email(&e.record.sealed, &e.record.lookup)?;
            Some(Address {
                id: e.id,
                address,
                for_sps: e.record.for_sign_in,
            })
        })
        .collect();
    let security_keys = security_key_count(deps, &user)?;
    let totp = user.totp_secret_sealed.is_some();
    let overview = Overview {
        emails,
        totp,
        security_keys,
        totp_removable: totp && second_factors(&user, security_keys) > 1,
        backup_codes_left: deps.accounts.unused_backup_codes(user.id)?.len(),
        connected: connected(deps, user.id)?,
        events: events(deps, &user.public_id)?,
    };
    Ok(Outcome::Done {
        value: overview,
        notified: true,
    })
}

fn connected(deps: &Deps<'_>, user_id: i64) -> Result<Vec<ConnectedSp>, Error> {
    Ok(deps
        .identities
        .consents_for_user(user_id)?
        .into_iter()
        .map(|c| ConnectedSp {
            name: deps
                .sps
                .get(&c.issuer)
                .map_or_else(|| c.issuer.clone(), |sp| sp.friendly_name.clone()),
            issuer: c.issuer,
            attributes: c.attributes,
            consented_at: c.consented_at,
            last_signed_in: c.last_authenticated_at,
        })
        .collect())
}

fn events(deps: &Deps<'_>, public_id: &str) -> Result<Vec<RecentEvent>, Error> {
    Ok(deps
        .audit
        .recent_for_user(public_id, RECENT_EVENTS)?
        .into_iter()
        .map(|r| RecentEvent {
            sp: r
                .event
                .issuer
                .as_deref()
                .and_then(|issuer| deps.sps.get(issuer))
                .map(|sp| sp.friendly_name.clone()),
            event: r.event.event,
            detail: r.event.detail,
            at: r.at,
            success: r.event.success,
        })
        .collect())
}
