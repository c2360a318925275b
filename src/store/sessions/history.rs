//! What the account page reads about a user's past (SPEC 17): the SPs they consented to,
//! with what and when, and their own audit events with the time of each.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::sessions::{AuditEvent, AuditKind, Binding, ConsentRecord, RecordedEvent, SessionError};
use crate::store::errors::session_err;
use crate::store::schema::{audit_events, sp_consents};
use crate::store::time::{db_time, utc};
use crate::store::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sp_consents)]
struct ConsentRow {
    issuer: String,
    attributes: String,
    consented_at: NaiveDateTime,
    last_authenticated_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct EventRow {
    event: String,
    issuer: Option<String>,
    user_public_id: Option<String>,
    success: bool,
    detail: Option<String>,
    created_at: NaiveDateTime,
    count: i32,
    binding: Option<String>,
    reference: Option<String>,
}

/// Oldest consent first; an attribute list that does not parse is reported, not guessed.
pub(super) fn consents_for_user(
    c: &mut DbConnection,
    user_id: i64,
) -> Result<Vec<ConsentRecord>, SessionError> {
    let rows: Vec<ConsentRow> = sp_consents::table
        .filter(sp_consents::user_id.eq(user_id))
        .order((sp_consents::consented_at, sp_consents::issuer))
        .select(ConsentRow::as_select())
        .load(c)
        .map_err(session_err)?;
    rows.into_iter()
        .map(|r| {
            Ok(ConsentRecord {
                attributes: serde_json::from_str(&r.attributes).map_err(session_err)?,
                issuer: r.issuer,
                consented_at: utc(r.consented_at),
                last_authenticated_at: r.last_authenticated_at.map(utc),
            })
        })
        .collect()
}

/// Most recent first.
pub(super) fn recent_for_user(
    c: &mut DbConnection,
    public_id: &str,
    limit: i64,
) -> Result<Vec<RecordedEvent>, SessionError> {
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::user_public_id.eq(public_id))
        .order(audit_events::id.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(c)
        .map_err(session_err)?;
    Ok(rows.into_iter().filter_map(EventRow::recorded).collect())
}

/// The refused SAML messages from `issuer`, most recent first.
pub(super) fn refused_for_sp(
    c: &mut DbConnection,
    issuer: &str,
    limit: i64,
) -> Result<Vec<RecordedEvent>, SessionError> {
    let kinds: Vec<&str> = AuditKind::ALL
        .into_iter()
        .filter(|k| k.is_saml_message())
        .map(AuditKind::as_str)
        .collect();
    let rows: Vec<EventRow> = audit_events::table
        .filter(audit_events::issuer.eq(issuer))
        .filter(audit_events::success.eq(false))
        .filter(audit_events::event.eq_any(kinds))
        .order(audit_events::id.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(c)
        .map_err(session_err)?;
    Ok(rows.into_iter().filter_map(EventRow::recorded).collect())
}

/// Which audit events `saml-idp events` reads.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub since: Option<DateTime<Utc>>,
    pub issuer: Option<String>,
    pub event: Option<String>,
    /// A user's public ID.
    pub user: Option<String>,
    /// A refused request's reference (its error page shows it).
    pub reference: Option<String>,
    /// The most recent this many (at least 1).
    pub limit: i64,
}

/// The most recent events that pass `filter`, oldest first (as a log reads).
pub fn events(db: &Database, filter: &EventFilter) -> Result<Vec<RecordedEvent>, SessionError> {
    let mut query = audit_events::table.into_boxed();
    if let Some(since) = filter.since {
        query = query.filter(audit_events::created_at.ge(db_time(since)));
    }
    if let Some(issuer) = &filter.issuer {
        query = query.filter(audit_events::issuer.eq(issuer.clone()));
    }
    if let Some(event) = &filter.event {
        query = query.filter(audit_events::event.eq(event.clone()));
    }
    if let Some(user) = &filter.user {
        query = query.filter(audit_events::user_public_id.eq(user.clone()));
    }
    if let Some(reference) = &filter.reference {
        query = query.filter(audit_events::reference.eq(reference.to_ascii_uppercase()));
    }
    let mut conn = db.conn().map_err(session_err)?;
    let c: &mut DbConnection = &mut conn;
    let rows: Vec<EventRow> = query
        .order(audit_events::id.desc())
        .limit(filter.limit.max(1))
        .select(EventRow::as_select())
        .load(c)
        .map_err(session_err)?;
    Ok(rows
        .into_iter()
        .rev()
        .filter_map(EventRow::recorded)
        .collect())
}

impl EventRow {
    fn recorded(self) -> Option<RecordedEvent> {
        Some(RecordedEvent {
            at: utc(self.created_at),
            event: AuditEvent {
                event: known_kind(&self.event)?,
                issuer: self.issuer,
                user_public_id: self.user_public_id,
                success: self.success,
                detail: self.detail,
                count: u32::try_from(self.count).unwrap_or(1),
                binding: self.binding.as_deref().and_then(Binding::parse),
                reference: self.reference,
            },
        })
    }
}

/// The kind of a stored event name. Every name in the table was written by [`AuditKind`];
/// one this version does not know (a newer node's) is left out of the lists, with a warning.
pub(super) fn known_kind(name: &str) -> Option<AuditKind> {
    let kind = AuditKind::parse(name);
    if kind.is_none() {
        tracing::warn!(
            event = name,
            "an audit event of an unknown kind was left out"
        );
    }
    kind
}
