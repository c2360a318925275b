//! `PendingStore` on Diesel: one row per pending request, the payload as JSON.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

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
    fn put(&self, token_hash: &str, pending: &PendingRequest) -> Result<(), PendingError> {
        let payload = serde_json::to_string(pending).map_err(err)?;
        let mut conn = self.db.conn().map_err(err)?;
        diesel::insert_into(pending_requests::table)
            .values((
                pending_requests::token_hash.eq(token_hash),
                pending_requests::issuer.eq(&pending.issuer),
                pending_requests::payload.eq(payload),
                pending_requests::created_at.eq(db_time(pending.received_at)),
                pending_requests::expires_at.eq(db_time(pending.expires_at())),
            ))
            .execute(&mut *conn)
            .map(|_| ())
            .map_err(err)
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
