//! `AccountStore` on Diesel: users, their emails (found by keyed hash) and backup codes. The
//! replay guards are single conditional UPDATEs, so they hold across server processes. The
//! account page's changes are in `changes`; rows and shared inserts in `rows`.

mod bearer_tokens;
mod changes;
mod roles;
pub(super) mod rows;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use self::rows::{
    email_taken, insert_backup_code, insert_email, insert_user, user_id_of, TxError, UserRow,
};
use super::errors::account_err;
use super::schema::{
    agency_identities, api_tokens, backup_codes, browser_sessions, remembered_browsers,
    security_keys, sp_consents, user_emails, user_roles, users,
};
use super::time::db_time;
use super::{Database, DbConnection};
use crate::accounts::{
    AccountError, AccountStore, EmailRecord, EmailRemoval, NewUser, StoredEmail, UserRecord,
    UserStatus,
};

/// Deletes every row that belongs to the user, then the user; false if there was no user.
/// The foreign keys cascade too, but saying it here does not depend on them being enforced.
/// The first statement writes, so on SQLite the transaction holds the write lock before it
/// reads the id.
fn delete_user(c: &mut DbConnection, public_id: &str) -> Result<bool, DieselError> {
    diesel::delete(user_emails::table.filter(user_emails::user_id.eq_any(user_id_of(public_id))))
        .execute(c)?;
    let Some(id) = user_id_of(public_id).first::<i64>(c).optional()? else {
        return Ok(false);
    };
    diesel::delete(backup_codes::table.filter(backup_codes::user_id.eq(id))).execute(c)?;
    diesel::delete(browser_sessions::table.filter(browser_sessions::user_id.eq(id))).execute(c)?;
    diesel::delete(remembered_browsers::table.filter(remembered_browsers::user_id.eq(id)))
        .execute(c)?;
    diesel::delete(agency_identities::table.filter(agency_identities::user_id.eq(id)))
        .execute(c)?;
    diesel::delete(sp_consents::table.filter(sp_consents::user_id.eq(id))).execute(c)?;
    diesel::delete(security_keys::table.filter(security_keys::user_id.eq(id))).execute(c)?;
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id))).execute(c)?;
    diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(id))).execute(c)?;
    diesel::delete(users::table.find(id)).execute(c)?;
    Ok(true)
}

/// Counts one failure and reads the new count. The UPDATE comes first so the row
/// (PostgreSQL) or database (SQLite) is locked before the read: concurrent failures each see
/// their own count.
fn count_failure(c: &mut DbConnection, user_id: i64) -> Result<i32, TxError> {
    let n = diesel::update(users::table.find(user_id))
        .set(users::failed_attempts.eq(users::failed_attempts + 1))
        .execute(c)?;
    if n == 0 {
        return Err(TxError::Account(AccountError::NotFound(
            user_id.to_string(),
        )));
    }
    Ok(users::table
        .find(user_id)
        .select(users::failed_attempts)
        .first(c)?)
}

/// The Diesel-backed account store.
pub struct DieselAccountStore {
    db: Database,
}

impl DieselAccountStore {
    pub fn new(db: Database) -> Self {
        DieselAccountStore { db }
    }

    fn conn(&self) -> Result<super::Conn, AccountError> {
        self.db.conn().map_err(account_err)
    }

    fn one_user(
        &self,
        query: impl FnOnce(&mut DbConnection) -> QueryResult<Option<UserRow>>,
    ) -> Result<Option<UserRecord>, AccountError> {
        let mut conn = self.conn()?;
        query(&mut conn)
            .map_err(account_err)?
            .map(UserRow::into_domain)
            .transpose()
    }
}

impl AccountStore for DieselAccountStore {
    fn create(&self, user: &NewUser, now: DateTime<Utc>) -> Result<i64, AccountError> {
        let now = db_time(now);
        let mut conn = self.conn()?;
        conn.transaction(|c| {
            let id = insert_user(c, user, now)?;
            if email_taken(c, &user.emails)? {
                return Err(TxError::Account(AccountError::DuplicateEmail));
            }
            for email in &user.emails {
                insert_email(c, id, email, now)?;
            }
            for hash in &user.backup_code_hashes {
                insert_backup_code(c, id, hash)?;
            }
            Ok(id)
        })
        .map_err(TxError::into_account)
    }

    fn find_by_email(&self, lookup: &str) -> Result<Option<UserRecord>, AccountError> {
        self.one_user(|c| {
            users::table
                .inner_join(user_emails::table)
                .filter(user_emails::email_lookup.eq(lookup))
                .select(UserRow::as_select())
                .first(c)
                .optional()
        })
    }

    fn get(&self, id: i64) -> Result<Option<UserRecord>, AccountError> {
        self.one_user(|c| {
            users::table
                .find(id)
                .select(UserRow::as_select())
                .first(c)
                .optional()
        })
    }

    fn find_by_public_id(&self, public_id: &str) -> Result<Option<UserRecord>, AccountError> {
        self.one_user(|c| {
            users::table
                .filter(users::public_id.eq(public_id))
                .select(UserRow::as_select())
                .first(c)
                .optional()
        })
    }

    fn list(&self) -> Result<Vec<UserRecord>, AccountError> {
        let mut conn = self.conn()?;
        let rows: Vec<UserRow> = users::table
            .order(users::id)
            .select(UserRow::as_select())
            .load(&mut *conn)
            .map_err(account_err)?;
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    fn emails(&self, user_id: i64) -> Result<Vec<EmailRecord>, AccountError> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, String, bool)> = user_emails::table
            .filter(user_emails::user_id.eq(user_id))
            .order(user_emails::id)
            .select((
                user_emails::email_lookup,
                user_emails::email_sealed,
                user_emails::for_sign_in,
            ))
            .load(&mut *conn)
            .map_err(account_err)?;
        Ok(rows
            .into_iter()
            .map(|(lookup, sealed, for_sign_in)| EmailRecord {
                lookup,
                sealed,
                for_sign_in,
            })
            .collect())
    }

    fn set_status(&self, public_id: &str, status: UserStatus) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        let n = diesel::update(users::table.filter(users::public_id.eq(public_id)))
            .set(users::status.eq(status.as_str()))
            .execute(&mut *conn)
            .map_err(account_err)?;
        match n {
            0 => Err(AccountError::NotFound(public_id.to_string())),
            _ => Ok(()),
        }
    }

    fn remove(&self, public_id: &str) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| match delete_user(c, public_id)? {
            true => Ok(()),
            false => Err(TxError::Account(AccountError::NotFound(
                public_id.to_string(),
            ))),
        })
        .map_err(TxError::into_account)
    }

    fn record_failure(&self, user_id: i64) -> Result<i32, AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| count_failure(c, user_id))
            .map_err(TxError::into_account)
    }

    fn lock_until(&self, user_id: i64, until: DateTime<Utc>) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        let n = diesel::update(users::table.find(user_id))
            .set(users::locked_until.eq(Some(db_time(until))))
            .execute(&mut *conn)
            .map_err(account_err)?;
        match n {
            0 => Err(AccountError::NotFound(user_id.to_string())),
            _ => Ok(()),
        }
    }

    fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        let n = diesel::update(users::table.find(user_id))
            .set(users::password_hash.eq(password_hash))
            .execute(&mut *conn)
            .map_err(account_err)?;
        match n {
            0 => Err(AccountError::NotFound(user_id.to_string())),
            _ => Ok(()),
        }
    }

    fn reset_failures(&self, user_id: i64) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        let n = diesel::update(users::table.find(user_id))
            .set((
                users::failed_attempts.eq(0),
                users::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(&mut *conn)
            .map_err(account_err)?;
        match n {
            0 => Err(AccountError::NotFound(user_id.to_string())),
            _ => Ok(()),
        }
    }

    fn claim_totp_step(&self, user_id: i64, step: i64) -> Result<bool, AccountError> {
        let mut conn = self.conn()?;
        let newer = users::totp_last_step
            .is_null()
            .or(users::totp_last_step.lt(step));
        let n = diesel::update(users::table.find(user_id).filter(newer))
            .set(users::totp_last_step.eq(Some(step)))
            .execute(&mut *conn)
            .map_err(account_err)?;
        Ok(n == 1)
    }

    fn unused_backup_codes(&self, user_id: i64) -> Result<Vec<(i64, String)>, AccountError> {
        let mut conn = self.conn()?;
        backup_codes::table
            .filter(backup_codes::user_id.eq(user_id))
            .filter(backup_codes::used_at.is_null())
            .order(backup_codes::id)
            .select((backup_codes::id, backup_codes::code_hash))
            .load(&mut *conn)
            .map_err(account_err)
    }

    fn claim_backup_code(&self, code_id: i64, now: DateTime<Utc>) -> Result<bool, AccountError> {
        let mut conn = self.conn()?;
        let n = diesel::update(
            backup_codes::table
                .find(code_id)
                .filter(backup_codes::used_at.is_null()),
        )
        .set(backup_codes::used_at.eq(Some(db_time(now))))
        .execute(&mut *conn)
        .map_err(account_err)?;
        Ok(n == 1)
    }

    fn stored_emails(&self, user_id: i64) -> Result<Vec<StoredEmail>, AccountError> {
        changes::stored_emails(&mut *self.conn()?, user_id).map_err(account_err)
    }

    fn add_email(
        &self,
        user_id: i64,
        email: &EmailRecord,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| changes::add_email(c, user_id, email, db_time(now)))
            .map_err(TxError::into_account)
    }

    fn remove_email(
        &self,
        user_id: i64,
        email_id: i64,
        now: DateTime<Utc>,
    ) -> Result<EmailRemoval, AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| changes::remove_email(c, user_id, email_id, db_time(now)))
            .map_err(TxError::into_account)
    }

    fn set_sp_email(
        &self,
        user_id: i64,
        email_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| changes::set_sp_email(c, user_id, email_id, db_time(now)))
            .map_err(TxError::into_account)
    }

    fn set_totp(
        &self,
        user_id: i64,
        sealed: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        changes::set_totp(&mut conn, user_id, sealed, db_time(now)).map_err(TxError::into_account)
    }

    fn replace_backup_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| changes::replace_backup_codes(c, user_id, hashes, db_time(now)))
            .map_err(TxError::into_account)
    }
}
