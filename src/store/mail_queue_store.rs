//! `MailQueue` on Diesel (SPEC 17): one row per queued message. Queueing checks the caps in
//! the transaction that inserts (on PostgreSQL under a transaction-scoped advisory lock on
//! the recipient, so two nodes cannot both pass a cap with room for one; on SQLite the
//! INSERT comes first and holds the write lock). A claim is one UPDATE that leases due rows
//! to a claimer id (PostgreSQL picks them `FOR UPDATE SKIP LOCKED`, so concurrent claimers
//! neither wait for nor take each other's rows), then a read of the rows leased to that id.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use super::schema::mail_queue as q;
use super::time::{db_time, utc};
use super::{Backend, Database, DbConnection};
use crate::mail::queue::{
    Caps, Enqueued, MailQueue, NewQueuedMail, QueueError, QueueStats, QueuedMail,
};

pub struct DieselMailQueue {
    db: Database,
}

impl DieselMailQueue {
    pub fn new(db: Database) -> Self {
        DieselMailQueue { db }
    }

    fn conn(&self) -> Result<super::Conn, QueueError> {
        self.db.conn().map_err(queue_err)
    }
}

fn queue_err(e: impl std::fmt::Display) -> QueueError {
    QueueError(e.to_string())
}

/// Why an enqueue transaction ends: over a cap (rolled back on purpose) or a database error.
enum TxEnd {
    Over(Enqueued),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for TxEnd {
    fn from(e: diesel::result::Error) -> Self {
        TxEnd::Db(e)
    }
}

/// The advisory-lock key of a recipient: the first 16 hex digits of its lookup hash.
fn lock_key(recipient_key: &str) -> i64 {
    let digits: String = recipient_key.chars().take(16).collect();
    u64::from_str_radix(&digits, 16).map_or(0, |n| n as i64)
}

/// Rows of `recipient_key` created after `since` (the new one included).
fn created_since(c: &mut DbConnection, key: &str, since: NaiveDateTime) -> QueryResult<i64> {
    q::table
        .filter(q::recipient_key.eq(key))
        .filter(q::created_at.gt(since))
        .count()
        .get_result(c)
}

fn enqueue_tx(
    c: &mut DbConnection,
    backend: Backend,
    mail: &NewQueuedMail,
    caps: Caps,
) -> Result<Enqueued, TxEnd> {
    if backend == Backend::Postgres {
        let key = lock_key(&mail.recipient_key);
        c.batch_execute(&format!("SELECT pg_advisory_xact_lock({key})"))?;
    }
    let created = db_time(mail.created_at);
    diesel::insert_into(q::table)
        .values((
            q::id.eq(&mail.id),
            q::recipient_key.eq(&mail.recipient_key),
            q::kind.eq(&mail.kind),
            q::payload.eq(&mail.payload),
            q::attempts.eq(0),
            q::created_at.eq(created),
            q::next_attempt_at.eq(created),
        ))
        .execute(c)?;
    let key = mail.recipient_key.as_str();
    let hour = created_since(c, key, created - chrono::Duration::hours(1))?;
    if hour > i64::from(caps.per_hour) {
        return Err(TxEnd::Over(Enqueued::OverHourlyCap));
    }
    let day = created_since(c, key, created - chrono::Duration::days(1))?;
    if day > i64::from(caps.per_day) {
        return Err(TxEnd::Over(Enqueued::OverDailyCap));
    }
    Ok(Enqueued::Queued)
}

/// Leases up to `limit` due rows to `owner`: one statement per backend.
const CLAIM_POSTGRES: &str = "UPDATE mail_queue SET lease_until = $1, lease_owner = $2 \
     WHERE id IN (SELECT id FROM mail_queue WHERE sent_at IS NULL AND next_attempt_at <= $3 \
     AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_attempt_at, id LIMIT $4 \
     FOR UPDATE SKIP LOCKED)";
const CLAIM_SQLITE: &str = "UPDATE mail_queue SET lease_until = ?, lease_owner = ? \
     WHERE id IN (SELECT id FROM mail_queue WHERE sent_at IS NULL AND next_attempt_at <= ? \
     AND (lease_until IS NULL OR lease_until <= ?) ORDER BY next_attempt_at, id LIMIT ?)";

type Row = (String, String, String, Option<String>, i32, NaiveDateTime);

impl MailQueue for DieselMailQueue {
    fn enqueue(&self, mail: &NewQueuedMail, caps: Caps) -> Result<Enqueued, QueueError> {
        let mut conn = self.conn()?;
        let backend = self.db.backend();
        match conn.transaction(|c| enqueue_tx(c, backend, mail, caps)) {
            Ok(done) => Ok(done),
            Err(TxEnd::Over(cap)) => Ok(cap),
            Err(TxEnd::Db(e)) => Err(queue_err(e)),
        }
    }

    fn claim(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<QueuedMail>, QueueError> {
        let mut conn = self.conn()?;
        let (now, lease) = (db_time(now), db_time(lease_until));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match &mut *conn {
            DbConnection::Postgresql(c) => diesel::sql_query(CLAIM_POSTGRES)
                .bind::<Timestamp, _>(lease)
                .bind::<Text, _>(owner)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .execute(c),
            DbConnection::Sqlite(c) => diesel::sql_query(CLAIM_SQLITE)
                .bind::<Timestamp, _>(lease)
                .bind::<Text, _>(owner)
                .bind::<Timestamp, _>(now)
                .bind::<Timestamp, _>(now)
                .bind::<BigInt, _>(limit)
                .execute(c),
        }
        .map_err(queue_err)?;
        let rows: Vec<Row> = q::table
            .filter(q::lease_owner.eq(owner))
            .filter(q::sent_at.is_null())
            .order((q::next_attempt_at, q::id))
            .select((
                q::id,
                q::recipient_key,
                q::kind,
                q::payload,
                q::attempts,
                q::created_at,
            ))
            .load(&mut *conn)
            .map_err(queue_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, recipient_key, kind, payload, attempts, created_at)| QueuedMail {
                    id,
                    recipient_key,
                    kind,
                    payload: payload.unwrap_or_default(),
                    attempts,
                    created_at: utc(created_at),
                },
            )
            .collect())
    }

    fn mark_sent(&self, id: &str, now: DateTime<Utc>) -> Result<(), QueueError> {
        let mut conn = self.conn()?;
        diesel::update(q::table.find(id))
            .set((
                q::sent_at.eq(Some(db_time(now))),
                q::payload.eq(None::<String>),
                q::lease_until.eq(None::<NaiveDateTime>),
                q::lease_owner.eq(None::<String>),
            ))
            .execute(&mut *conn)
            .map(|_| ())
            .map_err(queue_err)
    }

    fn retry(&self, id: &str, next_attempt_at: DateTime<Utc>) -> Result<(), QueueError> {
        let mut conn = self.conn()?;
        diesel::update(q::table.find(id))
            .set((
                q::attempts.eq(q::attempts + 1),
                q::next_attempt_at.eq(db_time(next_attempt_at)),
                q::lease_until.eq(None::<NaiveDateTime>),
                q::lease_owner.eq(None::<String>),
            ))
            .execute(&mut *conn)
            .map(|_| ())
            .map_err(queue_err)
    }

    fn release(&self, id: &str) -> Result<(), QueueError> {
        let mut conn = self.conn()?;
        diesel::update(q::table.find(id))
            .set((
                q::lease_until.eq(None::<NaiveDateTime>),
                q::lease_owner.eq(None::<String>),
            ))
            .execute(&mut *conn)
            .map(|_| ())
            .map_err(queue_err)
    }

    fn stats(&self) -> Result<QueueStats, QueueError> {
        let mut conn = self.conn()?;
        let unsent = q::table.filter(q::sent_at.is_null());
        let waiting: i64 = unsent.count().get_result(&mut *conn).map_err(queue_err)?;
        let failing: i64 = unsent
            .filter(q::attempts.gt(0))
            .count()
            .get_result(&mut *conn)
            .map_err(queue_err)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(QueueStats {
            waiting: count(waiting),
            failing: count(failing),
        })
    }

    fn purge_sent(&self, before: DateTime<Utc>) -> Result<usize, QueueError> {
        let mut conn = self.conn()?;
        diesel::delete(
            q::table
                .filter(q::sent_at.is_not_null())
                .filter(q::created_at.lt(db_time(before))),
        )
        .execute(&mut *conn)
        .map_err(queue_err)
    }
}
