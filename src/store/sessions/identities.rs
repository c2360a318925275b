//! `IdentityStore` on Diesel: agency UUIDs (one per user and agency, the unique keys decide a
//! race) and consent per SP, with when the user last signed in to it.

use crate::sessions::AUTHENTICATED_AT_PRECISION_SECONDS;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::{history, DieselSessionStore};
use crate::sessions::{ConsentRecord, IdentityStore, SessionError};
use crate::store::errors::retry_once_if_raced;
use crate::store::errors::session_err;
use crate::store::per_backend;
use crate::store::schema::{agency_identities, sp_consents};
use crate::store::time::db_time;
use crate::store::DbConnection;

/// Entries kept in `authenticated` before it starts again from empty.
const AUTHENTICATED_CACHE_MAX: usize = 50_000;

fn find_agency_uuid(
    c: &mut DbConnection,
    user_id: i64,
    agency_key: &str,
) -> Result<Option<String>, DieselError> {
    agency_identities::table
        .filter(agency_identities::user_id.eq(user_id))
        .filter(agency_identities::agency_key.eq(agency_key))
        .select(agency_identities::uuid)
        .first(c)
        .optional()
}

/// Replaces the consent of (user, issuer), creating the row if needed. Update first, so the
/// row (PostgreSQL) or database (SQLite) is locked before anything is read.
fn upsert_consent(
    c: &mut DbConnection,
    user_id: i64,
    issuer: &str,
    attributes: &str,
    now: NaiveDateTime,
) -> Result<(), DieselError> {
    let n = diesel::update(sp_consents::table.find((user_id, issuer)))
        .set((
            sp_consents::attributes.eq(attributes),
            sp_consents::consented_at.eq(now),
        ))
        .execute(c)?;
    if n == 0 {
        diesel::insert_into(sp_consents::table)
            .values((
                sp_consents::user_id.eq(user_id),
                sp_consents::issuer.eq(issuer),
                sp_consents::attributes.eq(attributes),
                sp_consents::consented_at.eq(now),
                sp_consents::last_authenticated_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
    }
    Ok(())
}

impl IdentityStore for DieselSessionStore {
    /// Select, else insert. No transaction around the two: the INSERT alone is atomic and
    /// the unique keys decide a race; the loser reads the winner's UUID. (On SQLite a
    /// read-then-write transaction could fail with SQLITE_BUSY instead.)
    fn agency_uuid(
        &self,
        user_id: i64,
        agency_key: &str,
        new_uuid: &str,
        now: DateTime<Utc>,
    ) -> Result<String, SessionError> {
        let mut conn = self.conn()?;
        if let Some(uuid) = find_agency_uuid(&mut conn, user_id, agency_key).map_err(session_err)? {
            return Ok(uuid);
        }
        let inserted = diesel::insert_into(agency_identities::table)
            .values((
                agency_identities::user_id.eq(user_id),
                agency_identities::agency_key.eq(agency_key),
                agency_identities::uuid.eq(new_uuid),
                agency_identities::created_at.eq(db_time(now)),
            ))
            .execute(&mut *conn);
        match inserted {
            Ok(_) => Ok(new_uuid.to_string()),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                find_agency_uuid(&mut conn, user_id, agency_key)
                    .map_err(session_err)?
                    .ok_or_else(|| session_err(info.message()))
            }
            Err(e) => Err(session_err(e)),
        }
    }

    fn user_for_agency_uuid(
        &self,
        agency_key: &str,
        uuid: &str,
    ) -> Result<Option<i64>, SessionError> {
        let mut conn = self.conn()?;
        per_backend!(&mut *conn, |c| {
            agency_identities::table
                .filter(agency_identities::agency_key.eq(agency_key))
                .filter(agency_identities::uuid.eq(uuid))
                .select(agency_identities::user_id)
                .first(c)
                .optional()
        })
        .map_err(session_err)
    }

    fn consent(&self, user_id: i64, issuer: &str) -> Result<Option<Vec<String>>, SessionError> {
        let mut conn = self.conn()?;
        let text: Option<String> = sp_consents::table
            .find((user_id, issuer))
            .select(sp_consents::attributes)
            .first(&mut *conn)
            .optional()
            .map_err(session_err)?;
        text.map(|t| serde_json::from_str(&t).map_err(session_err))
            .transpose()
    }

    fn save_consent(
        &self,
        user_id: i64,
        issuer: &str,
        attributes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.authenticated().remove(&(user_id, issuer.to_string()));
        let text = serde_json::to_string(attributes).map_err(session_err)?;
        let now = db_time(now);
        let mut conn = self.conn()?;
        retry_once_if_raced(|| conn.transaction(|c| upsert_consent(c, user_id, issuer, &text, now)))
            .map_err(session_err)
    }

    /// Only an existing consent row is stamped: creating one here would read as consent to
    /// nothing. Rows are created by `save_consent`.
    fn record_authentication(
        &self,
        user_id: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        let key = (user_id, issuer.to_string());
        let recorded = self.authenticated().get(&key).copied();
        if recorded.is_some_and(|at| now.timestamp() - at < AUTHENTICATED_AT_PRECISION_SECONDS) {
            return Ok(());
        }
        let stale = db_time(now - chrono::Duration::seconds(AUTHENTICATED_AT_PRECISION_SECONDS));
        self.execute(|c| {
            diesel::update(
                sp_consents::table.find((user_id, issuer)).filter(
                    sp_consents::last_authenticated_at
                        .is_null()
                        .or(sp_consents::last_authenticated_at.lt(stale)),
                ),
            )
            .set(sp_consents::last_authenticated_at.eq(Some(db_time(now))))
            .execute(c)
        })?;
        let mut cache = self.authenticated();
        if cache.len() >= AUTHENTICATED_CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, now.timestamp());
        Ok(())
    }

    fn consents_for_user(&self, user_id: i64) -> Result<Vec<ConsentRecord>, SessionError> {
        history::consents_for_user(&mut *self.conn()?, user_id)
    }

    fn revoke_consent(&self, user_id: i64, issuer: &str) -> Result<bool, SessionError> {
        self.authenticated().remove(&(user_id, issuer.to_string()));
        let n = self
            .execute(|c| diesel::delete(sp_consents::table.find((user_id, issuer))).execute(c))?;
        Ok(n == 1)
    }
}
