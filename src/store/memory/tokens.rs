//! `TokenStore` in memory: one-time tokens by hash, found only with their purpose and
//! before they expire, taken by exactly one caller. Times are kept as given (the SQL store
//! does not cut them either).

use chrono::{DateTime, Utc};

use super::rows::{delete_where, no_such_user, taken};
use super::tables::Shared;
use crate::accounts::tokens::{TokenPurpose, TokenRecord, TokenStore};
use crate::accounts::AccountError;

/// The in-memory one-time tokens.
pub struct MemoryTokenStore {
    db: Shared,
}

impl MemoryTokenStore {
    pub(super) fn new(db: Shared) -> Self {
        MemoryTokenStore { db }
    }
}

impl TokenStore for MemoryTokenStore {
    fn insert(&self, token: &TokenRecord) -> Result<(), AccountError> {
        let mut tables = self.db.lock();
        if tables.tokens.tokens.contains_key(&token.token_hash) {
            return Err(AccountError::Storage(taken("one_time_tokens.token_hash")));
        }
        if let Some(user_id) = token.user_id.filter(|id| !tables.user_exists(*id)) {
            let missing = no_such_user("one_time_tokens", user_id);
            return Err(AccountError::Storage(missing));
        }
        let tokens = &mut tables.tokens.tokens;
        tokens.insert(token.token_hash.clone(), token.clone());
        Ok(())
    }

    fn find(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, AccountError> {
        let mut tables = self.db.lock();
        Ok(tables.tokens.live(token_hash, purpose, now).cloned())
    }

    fn take(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, AccountError> {
        let mut tables = self.db.lock();
        if tables.tokens.live(token_hash, purpose, now).is_none() {
            return Ok(None);
        }
        Ok(tables.tokens.tokens.remove(token_hash))
    }

    fn update_payload(
        &self,
        token_hash: &str,
        purpose: TokenPurpose,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AccountError> {
        let mut tables = self.db.lock();
        let token = tables.tokens.live(token_hash, purpose, now);
        Ok(token
            .map(|t| t.payload = Some(payload.to_string()))
            .is_some())
    }

    fn keep_newest(
        &self,
        user_id: i64,
        purpose: TokenPurpose,
        keep: usize,
    ) -> Result<usize, AccountError> {
        let mut tables = self.db.lock();
        let tokens = &mut tables.tokens.tokens;
        let mut owned: Vec<(DateTime<Utc>, String)> = tokens
            .values()
            .filter(|t| t.user_id == Some(user_id) && t.purpose == purpose)
            .map(|t| (t.created_at, t.token_hash.clone()))
            .collect();
        owned.sort_by(|a, b| b.cmp(a));
        let doomed: Vec<String> = owned.into_iter().skip(keep).map(|(_, h)| h).collect();
        for hash in &doomed {
            tokens.remove(hash);
        }
        Ok(doomed.len())
    }

    fn delete_for_user(&self, user_id: i64, purpose: TokenPurpose) -> Result<usize, AccountError> {
        let mut tables = self.db.lock();
        let doomed = |t: &TokenRecord| t.user_id == Some(user_id) && t.purpose == purpose;
        Ok(delete_where(&mut tables.tokens.tokens, doomed))
    }
}
