//! [`SignedInReads`] in memory: the same facts as the SQL join, under one lock.

use super::rows::micros;
use super::sessions::MemorySessionStore;
use crate::sessions::signed_in::{SignedInQuery, SignedInRead, SignedInReads};
use crate::sessions::SessionError;

impl SignedInReads for MemorySessionStore {
    fn signed_in(&self, q: &SignedInQuery<'_>) -> Result<Option<SignedInRead>, SessionError> {
        let (now, idle_cutoff) = (micros(q.now), micros(q.idle_cutoff));
        let tables = self.db.lock();
        let session = tables.sessions.sessions.get(q.token_hash);
        let Some(session) = session.filter(|s| s.expires_at > now && s.last_seen_at > idle_cutoff)
        else {
            return Ok(None);
        };
        let user = session
            .user_id
            .and_then(|id| tables.accounts.users.get(&id));
        let Some(user) = user else {
            return Ok(None);
        };
        let key = |name: &str| (user.id, name.to_string());
        let identities = &tables.identities;
        Ok(Some(SignedInRead {
            session: session.clone(),
            user: user.clone(),
            consent: identities
                .consents
                .get(&key(q.issuer))
                .map(|c| c.attributes.clone()),
            agency_uuid: identities.uuids.get(&key(q.agency_key)).cloned(),
            emails: tables
                .accounts
                .stored_emails(user.id)
                .into_iter()
                .map(|e| e.record)
                .collect(),
        }))
    }
}
