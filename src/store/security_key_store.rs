//! `SecurityKeyStore` on Diesel: one row per registered WebAuthn credential.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::errors::account_err;
use super::schema::security_keys as k;
use super::time::{db_time, utc};
use super::Database;
use crate::accounts::security_keys::{
    Attestation, NewSecurityKey, SecurityKeyRecord, SecurityKeyStore,
};
use crate::accounts::AccountError;

pub struct DieselSecurityKeyStore {
    db: Database,
}

impl DieselSecurityKeyStore {
    pub fn new(db: Database) -> Self {
        DieselSecurityKeyStore { db }
    }
}

type Row = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    bool,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn record(row: Row) -> Result<SecurityKeyRecord, AccountError> {
    let attestation = Attestation::parse(&row.5).ok_or_else(|| {
        AccountError::Storage(format!("security key {}: unknown attestation", row.0))
    })?;
    Ok(SecurityKeyRecord {
        id: row.0,
        user_id: row.1,
        name: row.2,
        credential_id: row.3,
        credential: row.4,
        attestation,
        backup_eligible: row.6,
        created_at: utc(row.7),
        last_used_at: row.8.map(utc),
    })
}

impl SecurityKeyStore for DieselSecurityKeyStore {
    fn list_for_user(&self, user_id: i64) -> Result<Vec<SecurityKeyRecord>, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        let rows: Vec<Row> = k::table
            .filter(k::user_id.eq(user_id))
            .order(k::id.asc())
            .select((
                k::id,
                k::user_id,
                k::name,
                k::credential_id,
                k::credential,
                k::attestation,
                k::backup_eligible,
                k::created_at,
                k::last_used_at,
            ))
            .load(&mut *conn)
            .map_err(account_err)?;
        rows.into_iter().map(record).collect()
    }

    fn add(&self, key: &NewSecurityKey, now: DateTime<Utc>) -> Result<Option<i64>, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        let inserted = diesel::insert_into(k::table)
            .values((
                k::user_id.eq(key.user_id),
                k::name.eq(&key.name),
                k::credential_id.eq(&key.credential_id),
                k::credential.eq(&key.credential),
                k::attestation.eq(key.attestation.as_str()),
                k::backup_eligible.eq(key.backup_eligible),
                k::created_at.eq(db_time(now)),
                k::last_used_at.eq(None::<NaiveDateTime>),
            ))
            .execute(&mut *conn);
        match inserted {
            Ok(_) => {}
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                return Ok(None)
            }
            Err(DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)) => {
                return Err(AccountError::NotFound(key.user_id.to_string()))
            }
            Err(e) => return Err(account_err(e)),
        }
        // The credential id is unique: it finds the row just written.
        k::table
            .filter(k::credential_id.eq(&key.credential_id))
            .select(k::id)
            .first(&mut *conn)
            .map(Some)
            .map_err(account_err)
    }

    fn remove(&self, id: i64, user_id: i64) -> Result<bool, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        diesel::delete(k::table.filter(k::id.eq(id)).filter(k::user_id.eq(user_id)))
            .execute(&mut *conn)
            .map(|n| n == 1)
            .map_err(account_err)
    }

    fn record_use(
        &self,
        id: i64,
        credential: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        diesel::update(k::table.filter(k::id.eq(id)))
            .set((
                k::credential.eq(credential),
                k::last_used_at.eq(Some(db_time(now))),
            ))
            .execute(&mut *conn)
            .map(|n| n == 1)
            .map_err(account_err)
    }

    fn count_for_user(&self, user_id: i64) -> Result<i64, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        k::table
            .filter(k::user_id.eq(user_id))
            .count()
            .get_result(&mut *conn)
            .map_err(account_err)
    }
}
