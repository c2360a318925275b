//! The account page's changes on Diesel (SPEC 17): addresses, the TOTP secret and backup
//! codes. A change of more than one statement runs in one transaction (the caller opens it)
//! whose first statement writes — it stamps the user's `updated_at` — so on SQLite the
//! transaction holds the write lock before it reads anything, and on PostgreSQL the user's
//! row is locked against a concurrent change of the same account (two removals racing for
//! the last two addresses cannot both pass the "not the last one" check).

use chrono::NaiveDateTime;
use diesel::dsl;
use diesel::prelude::*;

use super::rows::{insert_backup_code, insert_email, TxError};
use crate::accounts::{AccountError, EmailRecord, EmailRemoval, StoredEmail};
use crate::store::schema::{backup_codes, user_emails, users};
use crate::store::DbConnection;

/// The user's addresses with their ids, oldest first.
pub(super) fn stored_emails(c: &mut DbConnection, user_id: i64) -> QueryResult<Vec<StoredEmail>> {
    let rows: Vec<(i64, String, String, bool)> = user_emails::table
        .filter(user_emails::user_id.eq(user_id))
        .order(user_emails::id)
        .select((
            user_emails::id,
            user_emails::email_lookup,
            user_emails::email_sealed,
            user_emails::for_sign_in,
        ))
        .load(c)?;
    Ok(rows
        .into_iter()
        .map(|(id, lookup, sealed, for_sign_in)| StoredEmail {
            id,
            record: EmailRecord {
                lookup,
                sealed,
                for_sign_in,
            },
        })
        .collect())
}

/// Stamps the user's `updated_at`: the first, writing, statement of every change.
fn stamp_user(c: &mut DbConnection, user_id: i64, now: NaiveDateTime) -> Result<(), TxError> {
    let n = diesel::update(users::table.find(user_id))
        .set(users::updated_at.eq(now))
        .execute(c)?;
    match n {
        0 => Err(TxError::Account(AccountError::NotFound(
            user_id.to_string(),
        ))),
        _ => Ok(()),
    }
}

pub(super) fn add_email(
    c: &mut DbConnection,
    user_id: i64,
    email: &EmailRecord,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    stamp_user(c, user_id, now)?;
    insert_email(c, user_id, email, now)
}

pub(super) fn remove_email(
    c: &mut DbConnection,
    user_id: i64,
    email_id: i64,
    now: NaiveDateTime,
) -> Result<EmailRemoval, TxError> {
    stamp_user(c, user_id, now)?;
    let of_user = || user_emails::table.filter(user_emails::user_id.eq(user_id));
    let was_for_sign_in: Option<bool> = of_user()
        .filter(user_emails::id.eq(email_id))
        .select(user_emails::for_sign_in)
        .first(c)
        .optional()?;
    let Some(was_for_sign_in) = was_for_sign_in else {
        return Ok(EmailRemoval::NotFound);
    };
    let count: i64 = of_user().select(dsl::count_star()).first(c)?;
    if count <= 1 {
        return Ok(EmailRemoval::LastOne);
    }
    diesel::delete(user_emails::table.find(email_id)).execute(c)?;
    if was_for_sign_in {
        let next: i64 = of_user()
            .order(user_emails::id)
            .select(user_emails::id)
            .first(c)?;
        diesel::update(user_emails::table.find(next))
            .set(user_emails::for_sign_in.eq(true))
            .execute(c)?;
    }
    Ok(EmailRemoval::Removed { was_for_sign_in })
}

pub(super) fn set_sp_email(
    c: &mut DbConnection,
    user_id: i64,
    email_id: i64,
    now: NaiveDateTime,
) -> Result<bool, TxError> {
    stamp_user(c, user_id, now)?;
    let of_user = || user_emails::table.filter(user_emails::user_id.eq(user_id));
    let n = diesel::update(of_user().filter(user_emails::id.eq(email_id)))
        .set(user_emails::for_sign_in.eq(true))
        .execute(c)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::update(of_user().filter(user_emails::id.ne(email_id)))
        .set(user_emails::for_sign_in.eq(false))
        .execute(c)?;
    Ok(true)
}

/// One statement: the secret, the forgotten last step and the stamp together.
pub(super) fn set_totp(
    c: &mut DbConnection,
    user_id: i64,
    sealed: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    let n = diesel::update(users::table.find(user_id))
        .set((
            users::totp_secret.eq(sealed),
            users::totp_last_step.eq(None::<i64>),
            users::updated_at.eq(now),
        ))
        .execute(c)?;
    match n {
        0 => Err(TxError::Account(AccountError::NotFound(
            user_id.to_string(),
        ))),
        _ => Ok(()),
    }
}

pub(super) fn replace_backup_codes(
    c: &mut DbConnection,
    user_id: i64,
    hashes: &[String],
    now: NaiveDateTime,
) -> Result<(), TxError> {
    stamp_user(c, user_id, now)?;
    diesel::delete(backup_codes::table.filter(backup_codes::user_id.eq(user_id))).execute(c)?;
    for hash in hashes {
        insert_backup_code(c, user_id, hash)?;
    }
    Ok(())
}
