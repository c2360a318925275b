//! `TokenStore` on Diesel: one row per one-time token, keyed by the token's hash.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::errors::account_err;
use super::schema::one_time_tokens as t;
use super::time::{db_time, utc};
use super::Database;
use crate::accounts::tokens::{TokenPurpose, TokenRecord, TokenStore};
use crate::accounts::AccountError;

pub struct DieselTokenStore {
    db: Database,
}

impl DieselTokenStore {
    pub fn new(db: Database) -> Self {
        DieselTokenStore { db }
    }
}

type Row = (
    String,
    String,
    Option<i64>,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
);

fn record(row: Row, purpose: TokenPurpose) -> TokenRecord {
    TokenRecord {
        token_hash: row.0,
        purpose,
        user_id: row.2,
        payload: row.3,
        created_at: utc(row.4),
        expires_at: utc(row.5),
    }
}

impl TokenStore for DieselTokenStore {
    fn insert(&self, token: &TokenRecord) -> Result<(), AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        diesel::insert_into(t::table)
            .values((
                t::token_hash.eq(&token.token_hash),
                t::purpose.eq(token.purpose.as_str()),
                t::user_id.eq(token.user_id),
                t::payload.eq(&token.payload),
                t::created_at.eq(db_time(token.created_at)),
                t::expires_at.eq(db_time(token.expires_at)),
            ))
            .execute(&mut *conn)
            .map(|_| ())
            .map_err(account_err)
    }

    fn find(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        let row: Option<Row> = t::table
            .filter(t::token_hash.eq(token_hash))
            .filter(t::purpose.eq(purpose.as_str()))
            .filter(t::expires_at.gt(db_time(now)))
            .select((
                t::token_hash,
                t::purpose,
                t::user_id,
                t::payload,
                t::created_at,
                t::expires_at,
            ))
            .first(&mut *conn)
            .optional()
            .map_err(account_err)?;
        Ok(row.map(|r| record(r, purpose)))
    }

    fn take(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, AccountError> {
        let Some(found) = self.find(token_hash, purpose, now)? else {
            return Ok(None);
        };
        // The conditional delete decides the race: only the caller that deletes the row
        // gets the token.
        let mut conn = self.db.conn().map_err(account_err)?;
        let deleted = diesel::delete(
            t::table
                .filter(t::token_hash.eq(token_hash))
                .filter(t::purpose.eq(purpose.as_str()))
                .filter(t::expires_at.gt(db_time(now))),
        )
        .execute(&mut *conn)
        .map_err(account_err)?;
        Ok((deleted == 1).then_some(found))
    }

    fn update_payload(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        diesel::update(
            t::table
                .filter(t::token_hash.eq(token_hash))
                .filter(t::purpose.eq(purpose.as_str()))
                .filter(t::expires_at.gt(db_time(now))),
        )
        .set(t::payload.eq(payload))
        .execute(&mut *conn)
        .map(|n| n == 1)
        .map_err(account_err)
    }

    fn keep_newest(
        &self,
        user_id: i64,
        purpose: TokenPurpose,
        keep: usize,
    ) -> Result<usize, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        let owned = t::user_id.eq(user_id).and(t::purpose.eq(purpose.as_str()));
        let newest: Vec<String> = t::table
            .filter(owned)
            .order((t::created_at.desc(), t::token_hash.desc()))
            .limit(i64::try_from(keep).unwrap_or(i64::MAX))
            .select(t::token_hash)
            .load(&mut *conn)
            .map_err(account_err)?;
        diesel::delete(t::table.filter(owned).filter(t::token_hash.ne_all(newest)))
            .execute(&mut *conn)
            .map_err(account_err)
    }

    fn delete_for_user(&self, user_id: i64, purpose: TokenPurpose) -> Result<usize, AccountError> {
        let mut conn = self.db.conn().map_err(account_err)?;
        diesel::delete(
            t::table
                .filter(t::user_id.eq(user_id))
                .filter(t::purpose.eq(purpose.as_str())),
        )
        .execute(&mut *conn)
        .map_err(account_err)
    }
}
