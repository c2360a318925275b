//! What the account page reads about a user's past (SPEC 17): the SPs they consented to,
//! with what and when, and their own audit events with the time of each.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_events, sp_consents};
use super::session_store::{err, utc};
use super::DbConnection;
use crate::sessions::{AuditEvent, ConsentRecord, RecordedEvent, SessionError};

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
        .map_err(err)?;
    rows.into_iter()
        .map(|r| {
            Ok(ConsentRecord {
                attributes: serde_json::from_str(&r.attributes).map_err(err)?,
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
        .map_err(err)?;
    Ok(rows
        .into_iter()
        .map(|r| RecordedEvent {
            at: utc(r.created_at),
            event: AuditEvent {
                event: r.event,
                issuer: r.issuer,
                user_public_id: r.user_public_id,
                success: r.success,
                detail: r.detail,
            },
        })
        .collect())
}
