//! `AuditLog` on Diesel: one row per audit event (the buffer in `sessions::audit_buffer`
//! writes them in batches, one transaction each).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{history, DieselSessionStore};
use crate::sessions::{AuditEvent, AuditLog, RecordedEvent, SessionError};
use crate::store::errors::session_err;
use crate::store::per_backend;
use crate::store::schema::audit_events;
use crate::store::time::db_time;
use crate::store::DbConnection;

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    event: String,
    issuer: Option<String>,
    user_public_id: Option<String>,
    success: bool,
    detail: Option<String>,
    count: i32,
    binding: Option<String>,
    reference: Option<String>,
}

fn insert_audit(
    c: &mut DbConnection,
    event: &AuditEvent,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    per_backend!(c, |c| {
        diesel::insert_into(audit_events::table)
            .values((
                audit_events::event.eq(event.event.as_str()),
                audit_events::issuer.eq(event.issuer.as_deref()),
                audit_events::user_public_id.eq(event.user_public_id.as_deref()),
                audit_events::success.eq(event.success),
                audit_events::detail.eq(event.detail.as_deref()),
                audit_events::created_at.eq(db_time(now)),
                audit_events::count.eq(stored_count(event)),
                audit_events::binding.eq(event.binding.map(|b| b.as_str())),
                audit_events::reference.eq(event.reference.as_deref()),
            ))
            .execute(c)
    })
}

/// The event's count as the column holds it (a count past `i32::MAX` is stored as the maximum).
fn stored_count(event: &AuditEvent) -> i32 {
    i32::try_from(event.count).unwrap_or(i32::MAX)
}

/// The batch as one INSERT over arrays, one per column (the same text whatever the batch's
/// size, so one prepared statement); rows are numbered in the batch's order.
fn insert_batch_postgres(
    c: &mut diesel::PgConnection,
    events: &[(AuditEvent, DateTime<Utc>)],
) -> QueryResult<usize> {
    use diesel::sql_types::{Array, Bool, Integer, Nullable, Text, Timestamp};
    let texts = |f: fn(&AuditEvent) -> Option<&str>| -> Vec<Option<&str>> {
        events.iter().map(|(e, _)| f(e)).collect()
    };
    diesel::sql_query(
        "INSERT INTO audit_events \
         (event, issuer, user_public_id, success, detail, created_at, count, binding, reference) \
         SELECT event, issuer, user_public_id, success, detail, created_at, count, binding, \
         reference FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9) WITH ORDINALITY \
         AS batch(event, issuer, user_public_id, success, detail, created_at, count, binding, \
         reference, position) ORDER BY position",
    )
    .bind::<Array<Text>, _>(
        events
            .iter()
            .map(|(e, _)| e.event.as_str())
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Text>>, _>(texts(|e| e.issuer.as_deref()))
    .bind::<Array<Nullable<Text>>, _>(texts(|e| e.user_public_id.as_deref()))
    .bind::<Array<Bool>, _>(events.iter().map(|(e, _)| e.success).collect::<Vec<_>>())
    .bind::<Array<Nullable<Text>>, _>(texts(|e| e.detail.as_deref()))
    .bind::<Array<Timestamp>, _>(events.iter().map(|(_, t)| db_time(*t)).collect::<Vec<_>>())
    .bind::<Array<Integer>, _>(
        events
            .iter()
            .map(|(e, _)| stored_count(e))
            .collect::<Vec<_>>(),
    )
    .bind::<Array<Nullable<Text>>, _>(texts(|e| e.binding.map(|b| b.as_str())))
    .bind::<Array<Nullable<Text>>, _>(texts(|e| e.reference.as_deref()))
    .execute(c)
}

impl AuditLog for DieselSessionStore {
    fn record(&self, event: &AuditEvent, now: DateTime<Utc>) -> Result<(), SessionError> {
        self.execute(|c| insert_audit(c, event, now)).map(|_| ())
    }

    fn record_many(&self, events: &[(AuditEvent, DateTime<Utc>)]) -> Result<(), SessionError> {
        let mut conn = self.conn()?;
        match &mut *conn {
            // One statement for the whole batch: a row's INSERT was a round trip of its own,
            // 9 % of the IdP's CPU under single sign-on (issue 23).
            DbConnection::Postgresql(c) => insert_batch_postgres(c, events).map(drop),
            // In the process, a statement costs no round trip: one transaction (one commit)
            // and one prepared statement per row.
            c => c.transaction(|c| {
                events
                    .iter()
                    .try_for_each(|(event, now)| insert_audit(c, event, *now).map(drop))
            }),
        }
        .map_err(session_err)
    }

    fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, SessionError> {
        let mut conn = self.conn()?;
        let rows: Vec<AuditRow> = audit_events::table
            .order(audit_events::id.desc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(&mut *conn)
            .map_err(session_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(AuditEvent {
                    event: history::known_kind(&r.event)?,
                    issuer: r.issuer,
                    user_public_id: r.user_public_id,
                    success: r.success,
                    detail: r.detail,
                    count: u32::try_from(r.count).unwrap_or(1),
                    binding: r
                        .binding
                        .as_deref()
                        .and_then(crate::sessions::Binding::parse),
                    reference: r.reference,
                })
            })
            .collect())
    }

    fn recent_for_user(
        &self,
        public_id: &str,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, SessionError> {
        history::recent_for_user(&mut *self.conn()?, public_id, limit)
    }

    fn refused_for_sp(&self, issuer: &str, limit: i64) -> Result<Vec<RecordedEvent>, SessionError> {
        history::refused_for_sp(&mut *self.conn()?, issuer, limit)
    }
}
