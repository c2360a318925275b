//! `PendingStore` on Diesel: one row per pending request, the payload as JSON.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::errors::retry_once_if_raced;
use super::schema::pending_requests;
use super::time::db_time;
use super::Database;
use crate::idp::sso::pending::{PendingError, PendingRequest, PendingStore};

pub struct DieselPendingStore {
    db: Database,
}

impl DieselPendingStore {
    pub fn new(db: Database) -> Self {
        DieselPendingStore { db }
    }
}

fn err(e: impl std::fmt::Display) -> PendingError {
    PendingError(e.to_string())
}

impl PendingStore for DieselPendingStore {
    /// A replayed request (same issuer and ID) takes over its row, on any node: the UPDATE
    /// comes first, the INSERT only when there is no row, and a lost insert race (the
    /// unique `(issuer, request_id)` index) runs both again.
    fn put(&self, token_hash: &str, pending: &PendingRequest) -> Result<(), PendingError> {
        use pending_requests as p;
        let payload = serde_json::to_string(pending).map_err(err)?;
        let mut conn = self.db.conn().map_err(err)?;
        let created_at = db_time(pending.received_at);
        let expires_at = db_time(pending.expires_at());
        let fields = (
            p::token_hash.eq(token_hash),
            p::payload.eq(&payload),
            p::created_at.eq(created_at),
            p::expires_at.eq(expires_at),
        );
        let mut put = || {
            conn.transaction(|c| {
                let same = p::table
                    .filter(p::issuer.eq(&pending.issuer))
                    .filter(p::request_id.eq(&pending.request_id));
                if diesel::update(same).set(fields).execute(c)? == 0 {
                    diesel::insert_into(p::table)
                        .values((
                            fields,
                            p::issuer.eq(&pending.issuer),
                            p::request_id.eq(&pending.request_id),
                        ))
                        .execute(c)?;
                }
                Ok::<_, diesel::result::Error>(())
            })
        };
        retry_once_if_raced(&mut put).map_err(err)
    }

    fn get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<PendingRequest>, PendingError> {
        let mut conn = self.db.conn().map_err(err)?;
        let payload: Option<String> = pending_requests::table
            .filter(pending_requests::token_hash.eq(token_hash))
            .filter(pending_requests::expires_at.gt(db_time(now)))
            .select(pending_requests::payload)
            .first(&mut *conn)
            .optional()
            .map_err(err)?;
        payload
            .map(|p| serde_json::from_str(&p).map_err(err))
            .transpose()
    }

    fn take(&self, token_hash: &str) -> Result<bool, PendingError> {
        let mut conn = self.db.conn().map_err(err)?;
        diesel::delete(pending_requests::table.filter(pending_requests::token_hash.eq(token_hash)))
            .execute(&mut *conn)
            .map(|n| n > 0)
            .map_err(err)
    }

    fn count(&self) -> Result<i64, PendingError> {
        let mut conn = self.db.conn().map_err(err)?;
        pending_requests::table
            .count()
            .get_result(&mut *conn)
            .map_err(err)
    }
}
