//! `IdentityStore` in memory: one persistent UUID per (user, agency), unique across users,
//! and what each user consented to share with each SP.

use chrono::{DateTime, Duration, Utc};

use super::rows::{micros, no_such_user, taken, Consent};
use super::sessions::MemorySessionStore;
use crate::sessions::{
    ConsentRecord, IdentityStore, SessionError, AUTHENTICATED_AT_PRECISION_SECONDS,
};

fn key(user_id: i64, name: &str) -> (i64, String) {
    (user_id, name.to_string())
}

impl IdentityStore for MemorySessionStore {
    fn agency_uuid(
        &self,
        user_id: i64,
        agency_key: &str,
        new_uuid: &str,
        _now: DateTime<Utc>,
    ) -> Result<String, SessionError> {
        self.change(|t| {
            let uuids = &t.identities.uuids;
            if let Some(uuid) = uuids.get(&key(user_id, agency_key)) {
                return Ok(uuid.clone());
            }
            // The unique key answers before the foreign key, as in both databases.
            if uuids.values().any(|uuid| uuid == new_uuid) {
                return Err(SessionError(taken("agency_identities.uuid")));
            }
            if !t.user_exists(user_id) {
                return Err(SessionError(no_such_user("agency_identities", user_id)));
            }
            let uuids = &mut t.identities.uuids;
            uuids.insert(key(user_id, agency_key), new_uuid.to_string());
            Ok(new_uuid.to_string())
        })
    }

    fn user_for_agency_uuid(
        &self,
        agency_key: &str,
        uuid: &str,
    ) -> Result<Option<i64>, SessionError> {
        let tables = self.db.lock();
        let mut uuids = tables.identities.uuids.iter();
        let found = uuids.find(|((_, agency), stored)| agency == agency_key && *stored == uuid);
        Ok(found.map(|((user, _), _)| *user))
    }

    fn consent(&self, user_id: i64, issuer: &str) -> Result<Option<Vec<String>>, SessionError> {
        let tables = self.db.lock();
        let consent = tables.identities.consents.get(&key(user_id, issuer));
        Ok(consent.map(|c| c.attributes.clone()))
    }

    /// Replaces the attributes and time of an earlier consent, keeping when the user last
    /// signed in to the SP.
    fn save_consent(
        &self,
        user_id: i64,
        issuer: &str,
        attributes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.change(|t| {
            let exists = t.user_exists(user_id);
            let consents = &mut t.identities.consents;
            if let Some(c) = consents.get_mut(&key(user_id, issuer)) {
                c.attributes = attributes.to_vec();
                c.consented_at = micros(now);
                return Ok(());
            }
            if !exists {
                return Err(SessionError(no_such_user("sp_consents", user_id)));
            }
            let consent = Consent {
                attributes: attributes.to_vec(),
                consented_at: micros(now),
                last_authenticated_at: None,
            };
            consents.insert(key(user_id, issuer), consent);
            Ok(())
        })
    }

    /// Stamps only an existing consent (a new row would read as consent to nothing), and
    /// only a time older than the precision.
    fn record_authentication(
        &self,
        user_id: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        let stale = micros(now - Duration::seconds(AUTHENTICATED_AT_PRECISION_SECONDS));
        let mut tables = self.db.lock();
        let consent = tables.identities.consents.get_mut(&key(user_id, issuer));
        if let Some(c) = consent.filter(|c| c.last_authenticated_at.is_none_or(|at| at < stale)) {
            c.last_authenticated_at = Some(micros(now));
        }
        Ok(())
    }

    /// Oldest consent first; among consents of one instant, by issuer.
    fn consents_for_user(&self, user_id: i64) -> Result<Vec<ConsentRecord>, SessionError> {
        let tables = self.db.lock();
        let mut listed: Vec<ConsentRecord> = tables
            .identities
            .consents
            .range(key(user_id, "")..)
            .take_while(|((user, _), _)| *user == user_id)
            .map(|((_, issuer), c)| ConsentRecord {
                issuer: issuer.clone(),
                attributes: c.attributes.clone(),
                consented_at: c.consented_at,
                last_authenticated_at: c.last_authenticated_at,
            })
            .collect();
        // Stable: issuers are already in order within one instant.
        listed.sort_by_key(|c| c.consented_at);
        Ok(listed)
    }

    fn revoke_consent(&self, user_id: i64, issuer: &str) -> Result<bool, SessionError> {
        let mut tables = self.db.lock();
        Ok(tables
            .identities
            .consents
            .remove(&key(user_id, issuer))
            .is_some())
    }
}
