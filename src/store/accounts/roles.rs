//! `RoleStore` on Diesel: one `user_roles` row per (user, role, agency); `admin` is stored
//! with the agency `''`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::DieselAccountStore;
use crate::accounts::roles::{Role, RoleStore};
use crate::accounts::AccountError;
use crate::store::errors::{account_err, is_unique_violation};
use crate::store::schema::user_roles as r;
use crate::store::time::db_time;

impl RoleStore for DieselAccountStore {
    fn grant(&self, user_id: i64, role: &Role, now: DateTime<Utc>) -> Result<bool, AccountError> {
        let (kind, agency) = role.to_row();
        let mut conn = self.conn()?;
        let inserted = diesel::insert_into(r::table)
            .values((
                r::user_id.eq(user_id),
                r::role.eq(kind),
                r::agency.eq(agency),
                r::granted_at.eq(db_time(now)),
            ))
            .execute(&mut *conn);
        // Held already: the primary key says so (on any node, without a read first).
        if is_unique_violation(&inserted) {
            return Ok(false);
        }
        inserted.map(|n| n == 1).map_err(account_err)
    }

    fn revoke(&self, user_id: i64, role: &Role) -> Result<bool, AccountError> {
        let (kind, agency) = role.to_row();
        let mut conn = self.conn()?;
        diesel::delete(
            r::table
                .filter(r::user_id.eq(user_id))
                .filter(r::role.eq(kind))
                .filter(r::agency.eq(agency)),
        )
        .execute(&mut *conn)
        .map(|n| n == 1)
        .map_err(account_err)
    }

    fn roles_of(&self, user_id: i64) -> Result<Vec<Role>, AccountError> {
        let mut conn = self.conn()?;
        let rows: Vec<(String, String)> = r::table
            .filter(r::user_id.eq(user_id))
            .select((r::role, r::agency))
            .load(&mut *conn)
            .map_err(account_err)?;
        let mut roles: Vec<Role> = rows
            .iter()
            .filter_map(|(kind, agency)| Role::from_row(kind, agency))
            .collect();
        roles.sort();
        Ok(roles)
    }

    fn holders_of(&self, role: &Role) -> Result<Vec<i64>, AccountError> {
        let (kind, agency) = role.to_row();
        let mut conn = self.conn()?;
        r::table
            .filter(r::role.eq(kind))
            .filter(r::agency.eq(agency))
            .select(r::user_id)
            .order(r::user_id)
            .load(&mut *conn)
            .map_err(account_err)
    }
}
