//! `AccountStore` on Diesel: users, their emails (found by keyed hash) and backup codes. The
//! replay guards are single conditional UPDATEs, so they hold across server processes.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::dsl;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::account_changes;
use super::schema::{
    agency_identities, backup_codes, browser_sessions, remembered_browsers, security_keys,
    sp_consents, user_emails, users,
};
use super::{Database, DbConnection};
use crate::accounts::{
    AccountError, AccountStore, EmailRecord, EmailRemoval, NewUser, StoredEmail, UserRecord,
    UserStatus,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    public_id: String,
    password_hash: String,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    locale: String,
    status: String,
    failed_attempts: i32,
    locked_until: Option<NaiveDateTime>,
    verified_profile: Option<String>,
    verified_at: Option<NaiveDateTime>,
    piv_record: Option<String>,
    created_at: NaiveDateTime,
}

impl UserRow {
    /// A status this code does not know is reported, not guessed.
    fn into_domain(self) -> Result<UserRecord, AccountError> {
        let status = UserStatus::parse(&self.status).ok_or_else(|| {
            AccountError::Storage(format!(
                "user {} has an unknown status {:?}",
                self.public_id, self.status
            ))
        })?;
        Ok(UserRecord {
            id: self.id,
            public_id: self.public_id,
            password_hash: self.password_hash,
            totp_secret_sealed: self.totp_secret,
            totp_last_step: self.totp_last_step,
            locale: self.locale,
            status,
            failed_attempts: self.failed_attempts,
            locked_until: self.locked_until.map(utc),
            verified_profile_sealed: self.verified_profile,
            verified_at: self.verified_at.map(utc),
            piv_record_sealed: self.piv_record,
            created_at: utc(self.created_at),
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct UserWrite<'a> {
    public_id: &'a str,
    password_hash: &'a str,
    totp_secret: Option<&'a str>,
    totp_last_step: Option<i64>,
    locale: &'a str,
    status: &'static str,
    failed_attempts: i32,
    locked_until: Option<NaiveDateTime>,
    verified_profile: Option<&'a str>,
    verified_at: Option<NaiveDateTime>,
    piv_record: Option<&'a str>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl<'a> UserWrite<'a> {
    fn new(user: &'a NewUser, now: NaiveDateTime) -> Self {
        UserWrite {
            public_id: &user.public_id,
            password_hash: &user.password_hash,
            totp_secret: user.totp_secret_sealed.as_deref(),
            totp_last_step: None,
            locale: &user.locale,
            status: UserStatus::Active.as_str(),
            failed_attempts: 0,
            locked_until: None,
            verified_profile: user.verified_profile_sealed.as_deref(),
            verified_at: user.verified_at.map(db_time),
            piv_record: user.piv_record_sealed.as_deref(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// UTC as stored, cut to whole microseconds: both backends keep exactly that much, so
/// values read back compare equal to what was written.
pub(super) fn db_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

pub(super) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

pub(super) fn storage(e: impl std::fmt::Display) -> AccountError {
    AccountError::Storage(e.to_string())
}

/// Errors inside a transaction: the domain's own, or the database's (both roll it back).
pub(super) enum TxError {
    Account(AccountError),
    Db(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

impl TxError {
    pub(super) fn into_account(self) -> AccountError {
        match self {
            TxError::Account(e) => e,
            TxError::Db(e) => storage(e),
        }
    }
}

type UserIdOf<'a> =
    dsl::Select<dsl::Filter<users::table, dsl::Eq<users::public_id, &'a str>>, users::id>;

/// The id of the user with `public_id`, as a subquery.
fn user_id_of(public_id: &str) -> UserIdOf<'_> {
    users::table
        .filter(users::public_id.eq(public_id))
        .select(users::id)
}

/// Inserts the users row and reads its id back. Written first so that, on SQLite, the
/// transaction holds the write lock before it reads anything.
fn insert_user(c: &mut DbConnection, user: &NewUser, now: NaiveDateTime) -> Result<i64, TxError> {
    diesel::insert_into(users::table)
        .values(UserWrite::new(user, now))
        .execute(c)?;
    Ok(user_id_of(&user.public_id).first(c)?)
}

fn email_taken(c: &mut DbConnection, emails: &[EmailRecord]) -> Result<bool, DieselError> {
    if emails.is_empty() {
        return Ok(false);
    }
    let lookups: Vec<&str> = emails.iter().map(|e| e.lookup.as_str()).collect();
    let n: i64 = user_emails::table
        .filter(user_emails::email_lookup.eq_any(lookups))
        .select(dsl::count_star())
        .first(c)?;
    Ok(n > 0)
}

pub(super) fn insert_email(
    c: &mut DbConnection,
    user_id: i64,
    email: &EmailRecord,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    let result = diesel::insert_into(user_emails::table)
        .values((
            user_emails::user_id.eq(user_id),
            user_emails::email_lookup.eq(&email.lookup),
            user_emails::email_sealed.eq(&email.sealed),
            user_emails::for_sign_in.eq(email.for_sign_in),
            user_emails::confirmed_at.eq(now),
        ))
        .execute(c);
    match result {
        Ok(_) => Ok(()),
        // Another process registered the address between our check and this insert.
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(TxError::Account(AccountError::DuplicateEmail))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) fn insert_backup_code(
    c: &mut DbConnection,
    user_id: i64,
    hash: &str,
) -> Result<(), DieselError> {
    diesel::insert_into(backup_codes::table)
        .values((
            backup_codes::user_id.eq(user_id),
            backup_codes::code_hash.eq(hash),
            backup_codes::used_at.eq(None::<NaiveDateTime>),
        ))
        .execute(c)
        .map(|_| ())
}

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
    diesel::delete(users::table.find(id)).execute(c)?;
    Ok(true)
}

/// Counts one failure and locks the account once the count reaches `lock_after`. The UPDATE
/// comes first so the row (PostgreSQL) or database (SQLite) is locked before the read.
fn count_failure(
    c: &mut DbConnection,
    user_id: i64,
    lock_after: i32,
    lock_until: NaiveDateTime,
) -> Result<i32, TxError> {
    let n = diesel::update(users::table.find(user_id))
        .set(users::failed_attempts.eq(users::failed_attempts + 1))
        .execute(c)?;
    if n == 0 {
        return Err(TxError::Account(AccountError::NotFound(
            user_id.to_string(),
        )));
    }
    let count: i32 = users::table
        .find(user_id)
        .select(users::failed_attempts)
        .first(c)?;
    if count >= lock_after {
        diesel::update(users::table.find(user_id))
            .set((
                users::locked_until.eq(Some(lock_until)),
                users::failed_attempts.eq(0),
            ))
            .execute(c)?;
    }
    Ok(count)
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
        self.db.conn().map_err(storage)
    }

    fn one_user(
        &self,
        query: impl FnOnce(&mut DbConnection) -> QueryResult<Option<UserRow>>,
    ) -> Result<Option<UserRecord>, AccountError> {
        let mut conn = self.conn()?;
        query(&mut conn)
            .map_err(storage)?
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
            .map_err(storage)?;
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
            .map_err(storage)?;
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
            .map_err(storage)?;
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

    fn record_failure(
        &self,
        user_id: i64,
        lock_after: i32,
        lock_until: DateTime<Utc>,
    ) -> Result<i32, AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| count_failure(c, user_id, lock_after, db_time(lock_until)))
            .map_err(TxError::into_account)
    }

    fn set_password_hash(&self, user_id: i64, password_hash: &str) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        let n = diesel::update(users::table.find(user_id))
            .set(users::password_hash.eq(password_hash))
            .execute(&mut *conn)
            .map_err(storage)?;
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
            .map_err(storage)?;
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
            .map_err(storage)?;
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
            .map_err(storage)
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
        .map_err(storage)?;
        Ok(n == 1)
    }

    fn stored_emails(&self, user_id: i64) -> Result<Vec<StoredEmail>, AccountError> {
        account_changes::stored_emails(&mut *self.conn()?, user_id).map_err(storage)
    }

    fn add_email(
        &self,
        user_id: i64,
        email: &EmailRecord,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| account_changes::add_email(c, user_id, email, db_time(now)))
            .map_err(TxError::into_account)
    }

    fn remove_email(
        &self,
        user_id: i64,
        email_id: i64,
        now: DateTime<Utc>,
    ) -> Result<EmailRemoval, AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| account_changes::remove_email(c, user_id, email_id, db_time(now)))
            .map_err(TxError::into_account)
    }

    fn set_sp_email(
        &self,
        user_id: i64,
        email_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| account_changes::set_sp_email(c, user_id, email_id, db_time(now)))
            .map_err(TxError::into_account)
    }

    fn set_totp(
        &self,
        user_id: i64,
        sealed: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        account_changes::set_totp(&mut conn, user_id, sealed, db_time(now))
            .map_err(TxError::into_account)
    }

    fn replace_backup_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| {
            account_changes::replace_backup_codes(c, user_id, hashes, db_time(now))
        })
        .map_err(TxError::into_account)
    }
}
