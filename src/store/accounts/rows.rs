//! The account tables' rows and the statements more than one account change shares:
//! inserting a user, an address or a backup code, and the error type of their transactions.

use chrono::NaiveDateTime;
use diesel::dsl;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use crate::accounts::{AccountError, EmailRecord, NewUser, UserRecord, UserStatus};
use crate::store::errors::account_err;
use crate::store::schema::{backup_codes, user_emails, users};
use crate::store::time::{db_time, utc};
use crate::store::DbConnection;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(in crate::store) struct UserRow {
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
    pub(in crate::store) fn into_domain(self) -> Result<UserRecord, AccountError> {
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
            TxError::Db(e) => account_err(e),
        }
    }
}

pub(super) type UserIdOf<'a> =
    dsl::Select<dsl::Filter<users::table, dsl::Eq<users::public_id, &'a str>>, users::id>;

/// The id of the user with `public_id`, as a subquery.
pub(super) fn user_id_of(public_id: &str) -> UserIdOf<'_> {
    users::table
        .filter(users::public_id.eq(public_id))
        .select(users::id)
}

/// Inserts the users row and reads its id back. Written first so that, on SQLite, the
/// transaction holds the write lock before it reads anything.
pub(super) fn insert_user(
    c: &mut DbConnection,
    user: &NewUser,
    now: NaiveDateTime,
) -> Result<i64, TxError> {
    diesel::insert_into(users::table)
        .values(UserWrite::new(user, now))
        .execute(c)?;
    Ok(user_id_of(&user.public_id).first(c)?)
}

pub(super) fn email_taken(
    c: &mut DbConnection,
    emails: &[EmailRecord],
) -> Result<bool, DieselError> {
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
