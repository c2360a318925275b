//! The account page's changes in memory (SPEC 17): addresses, the TOTP secret and backup
//! codes. Each change fails with `NotFound` when the user is gone, before anything else, as
//! the SQL transactions (whose first statement stamps the user) do. The stamp itself,
//! `users.updated_at`, is read by no trait method and not kept.

use super::rows::AccountTables;
use crate::accounts::{AccountError, EmailRecord, EmailRemoval, StoredEmail};

impl AccountTables {
    /// `NotFound` unless the user exists: the first step of every change.
    fn require_user(&mut self, user_id: i64) -> Result<(), AccountError> {
        self.user_mut(user_id).map(|_| ())
    }

    /// The user's addresses with their ids, oldest first.
    pub fn stored_emails(&self, user_id: i64) -> Vec<StoredEmail> {
        self.emails
            .iter()
            .filter(|(_, e)| e.user_id == user_id)
            .map(|(id, e)| StoredEmail {
                id: *id,
                record: e.record.clone(),
            })
            .collect()
    }

    pub fn add_email(&mut self, user_id: i64, email: &EmailRecord) -> Result<(), AccountError> {
        self.require_user(user_id)?;
        self.insert_email(user_id, email)
    }

    pub fn remove_email(
        &mut self,
        user_id: i64,
        email_id: i64,
    ) -> Result<EmailRemoval, AccountError> {
        self.require_user(user_id)?;
        let Some(removed) = self.emails.get(&email_id).filter(|e| e.user_id == user_id) else {
            return Ok(EmailRemoval::NotFound);
        };
        let was_for_sign_in = removed.record.for_sign_in;
        if self.stored_emails(user_id).len() <= 1 {
            return Ok(EmailRemoval::LastOne);
        }
        self.emails.remove(&email_id);
        if was_for_sign_in {
            // The oldest remaining address takes the role.
            let next = self.emails.values_mut().find(|e| e.user_id == user_id);
            if let Some(next) = next {
                next.record.for_sign_in = true;
            }
        }
        Ok(EmailRemoval::Removed { was_for_sign_in })
    }

    pub fn set_sp_email(&mut self, user_id: i64, email_id: i64) -> Result<bool, AccountError> {
        self.require_user(user_id)?;
        let owned = self
            .emails
            .get(&email_id)
            .is_some_and(|e| e.user_id == user_id);
        if owned {
            for (id, e) in self.emails.iter_mut().filter(|(_, e)| e.user_id == user_id) {
                e.record.for_sign_in = *id == email_id;
            }
        }
        Ok(owned)
    }

    /// The secret and the forgotten last step together.
    pub fn set_totp(&mut self, user_id: i64, sealed: Option<&str>) -> Result<(), AccountError> {
        let user = self.user_mut(user_id)?;
        user.totp_secret_sealed = sealed.map(str::to_string);
        user.totp_last_step = None;
        Ok(())
    }

    /// Every code of the user, used or not, replaced by `hashes` (new ids).
    pub fn replace_backup_codes(
        &mut self,
        user_id: i64,
        hashes: &[String],
    ) -> Result<(), AccountError> {
        self.require_user(user_id)?;
        self.codes.retain(|_, c| c.user_id != user_id);
        for hash in hashes {
            self.insert_code(user_id, hash);
        }
        Ok(())
    }
}
