//! Sign-in (SPEC 7): the password step and the second factor, with one lock for every step.
//! Failures at any step count towards the account's lock: every 10th consecutive failure
//! locks it, each lock longer than the one before (`[sign_in] lock_seconds`: 10 minutes,
//! 1 hour, 24 hours), and 100 lock it until the password is reset by email; every lock is
//! emailed to the account's addresses. While locked every step refuses (and counts nothing),
//! and locking ends the user's half-signed-in sessions. Unknown, locked and wrong get one
//! answer after the same work (an Argon2 verification each). The failure count resets only
//! when a sign-in completes (second factor, or a remembered browser) or the password is
//! reset, never by a lock. Audit events carry the user's public id, never an email.

use chrono::{DateTime, Duration, Utc};

use super::notice;
use super::session::{self, Proof};
use super::throttle::{self, Bucket};
use super::token::{Token, TokenHash};
use super::{Deps, Error};
use crate::accounts::{backup_codes, password, totp, UserRecord, UserStatus};
use crate::mail::Mail;
use crate::sessions::{AuditEvent, AuditKind, MfaMethod, SessionRecord};

/// Consecutive failures (any step) that lock an account; each further `LOCK_AFTER` lock it
/// again, for longer.
pub const LOCK_AFTER: i32 = 10;
/// Consecutive failures that lock an account until its password is reset by email.
pub const HARD_LOCK_AFTER: i32 = 100;
/// Wrong codes one browser session may enter before it is ended.
pub const SESSION_FAILURE_LIMIT: i32 = 5;

/// A password form, with who sent it.
pub struct PasswordAttempt<'a> {
    pub email: &'a str,
    pub password: &'a str,
    /// The client address bucket key (see `web`'s client address).
    pub client: &'a str,
    /// The hashed remember-this-browser token, if the browser sent one.
    pub remembered: Option<&'a str>,
    /// The browser's current session, replaced by the new one (no session fixation).
    pub replace: Option<&'a TokenHash>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordOutcome {
    /// The password is right: this session was started for the user (its cookie's token).
    Accepted {
        user_id: i64,
        session: Token,
    },
    /// Unknown email, wrong password or locked account: one answer.
    Refused,
    /// The password is right but the account is suspended.
    Suspended,
    RateLimited,
}

/// The password step.
pub fn password(deps: &Deps<'_>, attempt: &PasswordAttempt<'_>) -> Result<PasswordOutcome, Error> {
    let lookup = deps.crypto.email_lookup(attempt.email).map(|(_, l)| l);
    // Malformed emails are counted under one key of their own, like any unknown account.
    let account_key = lookup.clone().unwrap_or_else(|| "malformed".into());
    let buckets = [
        Bucket::address(attempt.client),
        Bucket::account(&account_key),
    ];
    if !throttle::allow(deps, &buckets)? {
        return Ok(PasswordOutcome::RateLimited);
    }
    let user = match lookup {
        Some(lookup) => deps.accounts.find_by_email(&lookup)?,
        None => None,
    };
    let Some(user) = user else {
        password::verify_dummy(attempt.password);
        audit(deps, None, false, "unknown_account")?;
        return Ok(PasswordOutcome::Refused);
    };
    // Verified whether or not the account is locked: the same work for every refusal.
    let right = password::verify_password(attempt.password, &user.password_hash);
    if is_locked(deps, &user) {
        audit(deps, Some(&user), false, "locked")?;
        return Ok(PasswordOutcome::Refused);
    }
    if !right {
        fail(deps, &user)?;
        audit(deps, Some(&user), false, "wrong_password")?;
        return Ok(PasswordOutcome::Refused);
    }
    if user.status == UserStatus::Suspended {
        audit(deps, Some(&user), false, "suspended")?;
        return Ok(PasswordOutcome::Suspended);
    }
    if let Some(hash) = attempt.remembered {
        // Password + remembered browser is a complete sign-in at the default AAL.
        if deps.sessions.is_remembered(hash, user.id, deps.now)? {
            deps.accounts.reset_failures(user.id)?;
        }
    }
    audit(deps, Some(&user), true, "password")?;
    let session = session::start(
        deps.sessions,
        deps.ids,
        user.id,
        Proof::Password,
        attempt.replace,
        deps.now,
    )?;
    Ok(PasswordOutcome::Accepted {
        user_id: user.id,
        session,
    })
}

/// A second-factor form from a session past the password step.
pub struct CodeAttempt<'a> {
    pub session: &'a SessionRecord,
    pub code: &'a str,
    pub client: &'a str,
    /// Remember this browser under this (hashed) token for `REMEMBER_DAYS`.
    pub remember: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeOutcome {
    /// The step passed: the session continues under a new token (its cookie's).
    Accepted {
        method: MfaMethod,
        session: Token,
    },
    Wrong,
    /// The account is locked: this session and the user's other unfinished ones ended.
    Locked,
    /// Too many wrong codes in this session, or its user is gone: the session ended.
    SessionEnded,
    RateLimited,
}

/// What a second-factor check found: the method that passed, or why it failed (the audit
/// detail, fixed words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    Passed(MfaMethod),
    Failed(&'static str),
}

/// The second-factor step: a TOTP code (once per step, ±1 step) or an unused backup code.
pub fn second_factor(deps: &Deps<'_>, attempt: &CodeAttempt<'_>) -> Result<CodeOutcome, Error> {
    let step = SecondFactorStep {
        session: attempt.session,
        client: attempt.client,
        remember: attempt.remember,
    };
    run_second_factor(deps, &step, |user| {
        Ok(match check_code(deps, user, attempt.code)? {
            Some(method) => Check::Passed(method),
            None => Check::Failed("wrong_code"),
        })
    })
}

/// Who is at the second factor, from where, and whether to remember the browser.
pub struct SecondFactorStep<'a> {
    pub session: &'a SessionRecord,
    pub client: &'a str,
    pub remember: Option<&'a str>,
}

/// The rules every second factor shares (SPEC 7): rate limits per address, account and
/// session; a locked account refuses and ends the user's half-signed-in sessions; a failed
/// `check` counts towards the account lock and the session's limit; success marks the
/// session's second factor, clears the failure count and may remember the browser. `check`
/// runs only for an existing, unlocked user within the limits.
pub fn run_second_factor(
    deps: &Deps<'_>,
    step: &SecondFactorStep<'_>,
    check: impl FnOnce(&UserRecord) -> Result<Check, Error>,
) -> Result<CodeOutcome, Error> {
    let session = step.session;
    let user = match session.user_id {
        Some(id) => deps.accounts.get(id)?,
        None => None,
    };
    let Some(user) = user else {
        deps.sessions.delete(&session.token_hash)?;
        return Ok(CodeOutcome::SessionEnded);
    };
    let buckets = [
        Bucket::address(step.client),
        Bucket::account(&user.public_id),
        Bucket::session(&session.token_hash),
    ];
    if !throttle::allow(deps, &buckets)? {
        return Ok(CodeOutcome::RateLimited);
    }
    if is_locked(deps, &user) {
        end_unfinished(deps, &user, &session.token_hash)?;
        audit(deps, Some(&user), false, "locked")?;
        return Ok(CodeOutcome::Locked);
    }
    let method = match check(&user)? {
        Check::Passed(method) => method,
        Check::Failed(detail) => {
            audit(deps, Some(&user), false, detail)?;
            if fail(deps, &user)? {
                end_unfinished(deps, &user, &session.token_hash)?;
                return Ok(CodeOutcome::Locked);
            }
            if deps.sessions.record_failure(&session.token_hash)? >= SESSION_FAILURE_LIMIT {
                deps.sessions.delete(&session.token_hash)?;
                return Ok(CodeOutcome::SessionEnded);
            }
            return Ok(CodeOutcome::Wrong);
        }
    };
    // A new token for the session that now has its second factor (no fixation across the
    // step).
    let token = super::session::rotate(deps.sessions, deps.ids, session)?;
    deps.sessions.set_mfa(&token.hash(), method, deps.now)?;
    deps.accounts.reset_failures(user.id)?;
    if let Some(token_hash) = step.remember {
        let until = deps.now + Duration::days(crate::sessions::REMEMBER_DAYS);
        deps.sessions.remember_browser(token_hash, user.id, until)?;
    }
    audit(deps, Some(&user), true, method.as_str())?;
    Ok(CodeOutcome::Accepted {
        method,
        session: token,
    })
}

/// The answer to a password or code typed again by a user who is already signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recheck {
    Right,
    Wrong,
    Locked,
    RateLimited,
}

/// The password of a signed-in user, typed again (the account page's re-authentication, a
/// password change, deleting the account): the same rate limits, lock, failure count and
/// audit events as the password step, so the account page is no way around the lock.
pub fn recheck_password(
    deps: &Deps<'_>,
    user: &UserRecord,
    typed: &str,
    client: &str,
) -> Result<Recheck, Error> {
    let buckets = [Bucket::address(client), Bucket::account(&user.public_id)];
    if !throttle::allow(deps, &buckets)? {
        return Ok(Recheck::RateLimited);
    }
    // Verified whether or not the account is locked: the same work for every refusal.
    let right = password::verify_password(typed, &user.password_hash);
    if is_locked(deps, user) {
        audit(deps, Some(user), false, "locked")?;
        return Ok(Recheck::Locked);
    }
    if !right {
        fail(deps, user)?;
        audit(deps, Some(user), false, "wrong_password")?;
        return Ok(Recheck::Wrong);
    }
    Ok(Recheck::Right)
}

/// A second-factor code of a signed-in user, typed again (deleting the account): a TOTP
/// code once per step or an unused backup code (used up by this), counted towards the lock
/// like the second-factor step. Call it after [`recheck_password`], which counted the
/// attempt in the rate limits.
pub fn recheck_code(deps: &Deps<'_>, user: &UserRecord, code: &str) -> Result<Recheck, Error> {
    if is_locked(deps, user) {
        audit(deps, Some(user), false, "locked")?;
        return Ok(Recheck::Locked);
    }
    if check_code(deps, user, code)?.is_none() {
        audit(deps, Some(user), false, "wrong_code")?;
        return Ok(if fail(deps, user)? {
            Recheck::Locked
        } else {
            Recheck::Wrong
        });
    }
    Ok(Recheck::Right)
}

fn is_locked(deps: &Deps<'_>, user: &UserRecord) -> bool {
    user.failed_attempts >= HARD_LOCK_AFTER
        || user.locked_until.is_some_and(|until| until > deps.now)
}

/// When the lock that `failures` consecutive failures set ends: `None` until a password
/// reset. The n-th lock lasts the n-th of `lock_seconds`, the last one repeating.
pub fn lock_end(failures: i32, lock_seconds: &[u64], now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if failures >= HARD_LOCK_AFTER {
        return None;
    }
    let nth = usize::try_from(failures / LOCK_AFTER).unwrap_or(1).max(1);
    let length = lock_seconds
        .get(nth - 1)
        .or(lock_seconds.last())
        .and_then(|s| i64::try_from(*s).ok())
        .and_then(Duration::try_seconds)
        .unwrap_or_else(|| Duration::minutes(10));
    Some(now.checked_add_signed(length).unwrap_or(now))
}

/// Counts a failure on the account; true when this failure locked it (the user's
/// half-signed-in sessions were ended and the account's addresses told).
fn fail(deps: &Deps<'_>, user: &UserRecord) -> Result<bool, Error> {
    let count = deps.accounts.record_failure(user.id)?;
    if count < LOCK_AFTER || count % LOCK_AFTER != 0 {
        return Ok(false);
    }
    let until = lock_end(count, deps.lock_seconds, deps.now);
    if let Some(until) = until {
        deps.accounts.lock_until(user.id, until)?;
    }
    deps.sessions.delete_unfinished_for_user(user.id)?;
    let detail = match until {
        Some(_) => "account_locked",
        None => "account_locked_until_reset",
    };
    audit(deps, Some(user), false, detail)?;
    let mail = Mail::AccountLocked {
        until: until.map(|u| u.format("%Y-%m-%d %H:%M UTC").to_string()),
        reset_link: format!("{}/forgot-password", deps.base_url),
    };
    notice::to_account(deps, user, &mail, None)?;
    Ok(true)
}

fn end_unfinished(deps: &Deps<'_>, user: &UserRecord, this: &str) -> Result<(), Error> {
    deps.sessions.delete_unfinished_for_user(user.id)?;
    deps.sessions.delete(this)?;
    Ok(())
}

/// TOTP first (claimed atomically, so a code works once across nodes), then backup codes.
fn check_code(deps: &Deps<'_>, user: &UserRecord, code: &str) -> Result<Option<MfaMethod>, Error> {
    let step = user
        .totp_secret_sealed
        .as_deref()
        .and_then(|sealed| deps.crypto.open_totp(&user.public_id, sealed))
        .and_then(|secret| totp::verify(&secret, code, deps.now.timestamp(), user.totp_last_step));
    if let Some(step) = step {
        if deps.accounts.claim_totp_step(user.id, step)? {
            return Ok(Some(MfaMethod::Totp));
        }
    }
    let codes = deps.accounts.unused_backup_codes(user.id)?;
    let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
    match backup_codes::find(code, &hashes).and_then(|i| codes.get(i)) {
        Some((id, _)) if deps.accounts.claim_backup_code(*id, deps.now)? => {
            Ok(Some(MfaMethod::BackupCode))
        }
        _ => Ok(None),
    }
}

fn audit(
    deps: &Deps<'_>,
    user: Option<&UserRecord>,
    success: bool,
    detail: &str,
) -> Result<(), Error> {
    let event = AuditEvent {
        event: if success {
            AuditKind::SignInSuccess
        } else {
            AuditKind::SignInFailure
        },
        issuer: None,
        user_public_id: user.map(|u| u.public_id.clone()),
        success,
        detail: Some(detail.to_string()),
        count: 1,
        binding: None,
        reference: None,
    };
    Ok(deps.audit.record(&event, deps.now)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_lock_lasts_its_entry_the_last_repeating_and_a_hundred_have_no_end() {
        let now = Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap();
        let lengths = [600, 3600, 86_400];
        let end = |failures| lock_end(failures, &lengths, now).map(|t| (t - now).num_seconds());
        assert_eq!(end(10), Some(600));
        assert_eq!(end(20), Some(3600));
        assert_eq!(end(30), Some(86_400));
        assert_eq!(end(90), Some(86_400));
        assert_eq!(end(HARD_LOCK_AFTER), None);
        assert_eq!(end(HARD_LOCK_AFTER + 7), None);
        assert_eq!(lock_end(10, &[], now), Some(now + Duration::minutes(10)));
    }
}
