//! `ApiTokenStore` on Diesel: one `api_tokens` row per token, found by its hash.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::DieselAccountStore;
use crate::accounts::api_tokens::{ApiTokenRecord, ApiTokenStore};
use crate::accounts::AccountError;
use crate::store::errors::account_err;
use crate::store::schema::api_tokens as t;
use crate::store::time::{db_time, utc};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
struct Row {
    id: String,
    user_id: i64,
    name: String,
    token_hash: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

fn record(row: Row) -> ApiTokenRecord {
    ApiTokenRecord {
        id: row.id,
        user_id: row.user_id,
        name: row.name,
        token_hash: row.token_hash,
        created_at: utc(row.created_at),
        expires_at: row.expires_at.map(utc),
        revoked_at: row.revoked_at.map(utc),
    }
}

impl ApiTokenStore for DieselAccountStore {
    fn insert(&self, token: &ApiTokenRecord) -> Result<(), AccountError> {
        let mut conn = self.conn()?;
        diesel::insert_into(t::table)
            .values((
                t::id.eq(&token.id),
                t::user_id.eq(token.user_id),
                t::name.eq(&token.name),
                t::token_hash.eq(&token.token_hash),
                t::created_at.eq(db_time(token.created_at)),
                t::expires_at.eq(token.expires_at.map(db_time)),
                t::revoked_at.eq(token.revoked_at.map(db_time)),
            ))
            .execute(&mut *conn)
            .map(|_| ())
            .map_err(account_err)
    }

    fn find_by_hash(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, AccountError> {
        let mut conn = self.conn()?;
        let row: Option<Row> = t::table
            .filter(t::token_hash.eq(token_hash))
            .select(Row::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(account_err)?;
        Ok(row.map(record))
    }

    fn list(&self, user_id: Option<i64>) -> Result<Vec<ApiTokenRecord>, AccountError> {
        let mut conn = self.conn()?;
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(user_id) = user_id {
            query = query.filter(t::user_id.eq(user_id));
        }
        let rows: Vec<Row> = query
            .order((t::created_at.asc(), t::id.asc()))
            .load(&mut *conn)
            .map_err(account_err)?;
        Ok(rows.into_iter().map(record).collect())
    }

    fn revoke(&self, id: &str, now: DateTime<Utc>) -> Result<Option<i64>, AccountError> {
        let mut conn = self.conn()?;
        let live = t::table
            .filter(t::id.eq(id))
            .filter(t::revoked_at.is_null());
        let revoked = diesel::update(live)
            .set(t::revoked_at.eq(Some(db_time(now))))
            .execute(&mut *conn)
            .map_err(account_err)?;
        if revoked == 0 {
            return Ok(None);
        }
        t::table
            .filter(t::id.eq(id))
            .select(t::user_id)
            .first(&mut *conn)
            .optional()
            .map_err(account_err)
    }
}
