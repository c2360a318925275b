//! [`SignedInReads`] in one SELECT: the session joined to its user, the user's consent to
//! the SP and UUID at its agency (left joins: either may not exist yet), and one row per
//! email (left join, in `user_emails.id` order as `AccountStore::emails` gives them).

use diesel::prelude::*;

use super::rows::SessionRow;
use super::DieselSessionStore;
use crate::accounts::EmailRecord;
use crate::sessions::signed_in::{SignedInQuery, SignedInRead, SignedInReads};
use crate::sessions::SessionError;
use crate::store::accounts::rows::UserRow;
use crate::store::errors::session_err;
use crate::store::per_backend;
use crate::store::schema::{agency_identities, browser_sessions, sp_consents, user_emails, users};
use crate::store::time::db_time;

type Row = (
    SessionRow,
    UserRow,
    Option<String>,
    Option<String>,
    Option<(String, String, bool)>,
);

impl SignedInReads for DieselSessionStore {
    fn signed_in(&self, q: &SignedInQuery<'_>) -> Result<Option<SignedInRead>, SessionError> {
        // Diesel's loading binds owned values.
        let (token_hash, issuer, agency_key) = (
            q.token_hash.to_string(),
            q.issuer.to_string(),
            q.agency_key.to_string(),
        );
        let mut conn = self.conn()?;
        let rows: Vec<Row> = per_backend!(&mut *conn, |c| {
            browser_sessions::table
                .inner_join(users::table.on(browser_sessions::user_id.eq(users::id.nullable())))
                .left_join(
                    sp_consents::table.on(sp_consents::user_id
                        .eq(users::id)
                        .and(sp_consents::issuer.eq(issuer))),
                )
                .left_join(
                    agency_identities::table.on(agency_identities::user_id
                        .eq(users::id)
                        .and(agency_identities::agency_key.eq(agency_key))),
                )
                .left_join(user_emails::table.on(user_emails::user_id.eq(users::id)))
                .filter(browser_sessions::token_hash.eq(token_hash))
                .filter(browser_sessions::expires_at.gt(db_time(q.now)))
                .filter(browser_sessions::last_seen_at.gt(db_time(q.idle_cutoff)))
                .order(user_emails::id)
                .select((
                    SessionRow::as_select(),
                    UserRow::as_select(),
                    sp_consents::attributes.nullable(),
                    agency_identities::uuid.nullable(),
                    (
                        user_emails::email_lookup,
                        user_emails::email_sealed,
                        user_emails::for_sign_in,
                    )
                        .nullable(),
                ))
                .load::<Row>(c)
        })
        .map_err(session_err)?;
        let mut rows = rows.into_iter();
        let Some((session, user, consent, agency_uuid, email)) = rows.next() else {
            return Ok(None);
        };
        let emails = std::iter::once(email)
            .chain(rows.map(|row| row.4))
            .flatten()
            .map(|(lookup, sealed, for_sign_in)| EmailRecord {
                lookup,
                sealed,
                for_sign_in,
            })
            .collect();
        let consent = consent
            .map(|text| serde_json::from_str(&text).map_err(session_err))
            .transpose()?;
        Ok(Some(SignedInRead {
            session: session.into_domain()?,
            user: user.into_domain().map_err(session_err)?,
            consent,
            agency_uuid,
            emails,
        }))
    }
}
