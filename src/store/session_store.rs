//! `SessionStore`, `IdentityStore`, `AuditLog` and `RateLimiter` on Diesel: browser sessions,
//! remembered browsers, agency identities, consent, audit events and rate-limit counters.
//! Writes that may race between processes let the database's unique keys decide.

use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::dsl;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{
    agency_identities, audit_events, browser_sessions, rate_limits, remembered_browsers,
    sp_consents,
};
use super::{account_history, Database, DbConnection};
use crate::sessions::{
    AuditEvent, AuditLog, ConsentRecord, IdentityStore, MfaMethod, RateLimiter, RecordedEvent,
    ReplayCache, SessionError, SessionRecord, SessionStore, AUTHENTICATED_AT_PRECISION_SECONDS,
    FORGET_EVERY_SECONDS,
};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = browser_sessions, treat_none_as_default_value = false)]
struct SessionRow {
    token_hash: String,
    user_id: Option<i64>,
    csrf_token: String,
    password_at: Option<NaiveDateTime>,
    mfa_at: Option<NaiveDateTime>,
    mfa_method: Option<String>,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    failed_attempts: i32,
}

impl SessionRow {
    fn new(s: &SessionRecord) -> Self {
        SessionRow {
            token_hash: s.token_hash.clone(),
            user_id: s.user_id,
            csrf_token: s.csrf_token.clone(),
            password_at: s.password_at.map(db_time),
            mfa_at: s.mfa_at.map(db_time),
            mfa_method: s.mfa_method.map(|m| m.as_str().to_string()),
            created_at: db_time(s.created_at),
            last_seen_at: db_time(s.last_seen_at),
            expires_at: db_time(s.expires_at),
            failed_attempts: s.failed_attempts,
        }
    }

    /// A second-factor method this code does not know is reported, not guessed.
    fn into_domain(self) -> Result<SessionRecord, SessionError> {
        let mfa_method =
            match self.mfa_method.as_deref() {
                None => None,
                Some(m) => Some(MfaMethod::parse(m).ok_or_else(|| {
                    SessionError(format!("session has an unknown mfa_method {m:?}"))
                })?),
            };
        Ok(SessionRecord {
            token_hash: self.token_hash,
            user_id: self.user_id,
            csrf_token: self.csrf_token,
            password_at: self.password_at.map(utc),
            mfa_at: self.mfa_at.map(utc),
            mfa_method,
            created_at: utc(self.created_at),
            last_seen_at: utc(self.last_seen_at),
            expires_at: utc(self.expires_at),
            failed_attempts: self.failed_attempts,
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    event: String,
    issuer: Option<String>,
    user_public_id: Option<String>,
    success: bool,
    detail: Option<String>,
}

/// UTC as stored, cut to whole microseconds: both backends keep exactly that much, so
/// values read back compare equal to what was written.
pub(super) fn db_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

pub(super) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

pub(super) fn err(e: impl std::fmt::Display) -> SessionError {
    SessionError(e.to_string())
}

fn is_unique_violation<T>(result: &Result<T, DieselError>) -> bool {
    matches!(
        result,
        Err(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

/// Runs `attempt` again once if it lost an insert race to another process: the second run
/// sees the winner's row and updates it instead.
fn retry_once_if_raced<T>(
    mut attempt: impl FnMut() -> Result<T, DieselError>,
) -> Result<T, DieselError> {
    let first = attempt();
    if is_unique_violation(&first) {
        return attempt();
    }
    first
}

fn find_agency_uuid(
    c: &mut DbConnection,
    user_id: i64,
    agency_key: &str,
) -> Result<Option<String>, DieselError> {
    agency_identities::table
        .filter(agency_identities::user_id.eq(user_id))
        .filter(agency_identities::agency_key.eq(agency_key))
        .select(agency_identities::uuid)
        .first(c)
        .optional()
}

/// Replaces the consent of (user, issuer), creating the row if needed. Update first, so the
/// row (PostgreSQL) or database (SQLite) is locked before anything is read.
fn upsert_consent(
    c: &mut DbConnection,
    user_id: i64,
    issuer: &str,
    attributes: &str,
    now: NaiveDateTime,
) -> Result<(), DieselError> {
    let n = diesel::update(sp_consents::table.find((user_id, issuer)))
        .set((
            sp_consents::attributes.eq(attributes),
            sp_consents::consented_at.eq(now),
        ))
        .execute(c)?;
    if n == 0 {
        diesel::insert_into(sp_consents::table)
            .values((
                sp_consents::user_id.eq(user_id),
                sp_consents::issuer.eq(issuer),
                sp_consents::attributes.eq(attributes),
                sp_consents::consented_at.eq(now),
                sp_consents::last_authenticated_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// Counts a hit in the bucket's window and returns the count: +1 in the same window, else
/// the window restarts at 1. Writes come before the read, as in `upsert_consent`, and each
/// UPDATE says which window it expects, so none can undo a concurrent count.
fn count_hit(
    c: &mut DbConnection,
    bucket: &str,
    window_start: NaiveDateTime,
) -> Result<i32, DieselError> {
    let same_window = rate_limits::table
        .find(bucket)
        .filter(rate_limits::window_start.eq(window_start));
    let mut n = diesel::update(same_window)
        .set(rate_limits::hits.eq(rate_limits::hits + 1))
        .execute(c)?;
    if n == 0 {
        // Only another window is restarted: a row of this window that another process
        // committed since the first UPDATE keeps its count (the insert below then fails
        // and the caller runs this again).
        let other_window = rate_limits::table
            .find(bucket)
            .filter(rate_limits::window_start.ne(window_start));
        n = diesel::update(other_window)
            .set((
                rate_limits::window_start.eq(window_start),
                rate_limits::hits.eq(1),
            ))
            .execute(c)?;
    }
    if n == 0 {
        diesel::insert_into(rate_limits::table)
            .values((
                rate_limits::bucket.eq(bucket),
                rate_limits::window_start.eq(window_start),
                rate_limits::hits.eq(1),
            ))
            .execute(c)?;
    }
    rate_limits::table
        .find(bucket)
        .select(rate_limits::hits)
        .first(c)
}

/// The Diesel-backed sessions, identities, consent, audit log and rate limiter.
pub struct DieselSessionStore {
    db: Database,
    /// When this process last dropped old replay-cache entries (Unix seconds; at most every
    /// `FORGET_EVERY_SECONDS`, in between `first_use` is a single INSERT).
    replay_forgotten_at: std::sync::atomic::AtomicI64,
    /// (user, SP) → when this process last wrote their connected-service time (Unix
    /// seconds): a signed-in browser's next Response within
    /// `AUTHENTICATED_AT_PRECISION_SECONDS` writes nothing. A consent given or revoked
    /// through this process forgets the entry; through another node the time may lag by up
    /// to the precision.
    authenticated: std::sync::Mutex<std::collections::HashMap<(i64, String), i64>>,
}

/// Entries kept in `authenticated` before it starts again from empty.
const AUTHENTICATED_CACHE_MAX: usize = 50_000;

impl DieselSessionStore {
    pub fn new(db: Database) -> Self {
        DieselSessionStore {
            db,
            replay_forgotten_at: std::sync::atomic::AtomicI64::new(i64::MIN),
            authenticated: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn conn(&self) -> Result<super::Conn, SessionError> {
        self.db.conn().map_err(err)
    }

    fn authenticated(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(i64, String), i64>> {
        self.authenticated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs one statement that changes rows and returns how many.
    fn execute(
        &self,
        statement: impl FnOnce(&mut DbConnection) -> QueryResult<usize>,
    ) -> Result<usize, SessionError> {
        let mut conn = self.conn()?;
        statement(&mut conn).map_err(err)
    }
}

impl SessionStore for DieselSessionStore {
    fn create(&self, session: &SessionRecord) -> Result<(), SessionError> {
        let row = SessionRow::new(session);
        self.execute(|c| {
            diesel::insert_into(browser_sessions::table)
                .values(&row)
                .execute(c)
        })
        .map(|_| ())
    }

    fn get(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, SessionError> {
        let mut conn = self.conn()?;
        let row: Option<SessionRow> = browser_sessions::table
            .find(token_hash)
            .filter(browser_sessions::expires_at.gt(db_time(now)))
            .filter(browser_sessions::last_seen_at.gt(db_time(idle_cutoff)))
            .select(SessionRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(err)?;
        row.map(SessionRow::into_domain).transpose()
    }

    fn touch(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), SessionError> {
        self.execute(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set(browser_sessions::last_seen_at.eq(db_time(now)))
                .execute(c)
        })
        .map(|_| ())
    }

    fn set_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.execute(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set((
                    browser_sessions::user_id.eq(Some(user_id)),
                    browser_sessions::password_at.eq(Some(db_time(at))),
                    browser_sessions::mfa_at.eq(None::<NaiveDateTime>),
                    browser_sessions::mfa_method.eq(None::<&str>),
                ))
                .execute(c)
        })
        .map(|_| ())
    }

    fn set_mfa(
        &self,
        token_hash: &str,
        method: MfaMethod,
        at: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.execute(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set((
                    browser_sessions::mfa_at.eq(Some(db_time(at))),
                    browser_sessions::mfa_method.eq(Some(method.as_str())),
                ))
                .execute(c)
        })
        .map(|_| ())
    }

    fn delete(&self, token_hash: &str) -> Result<(), SessionError> {
        self.execute(|c| diesel::delete(browser_sessions::table.find(token_hash)).execute(c))
            .map(|_| ())
    }

    fn refresh_password(
        &self,
        token_hash: &str,
        user_id: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let n = self.execute(|c| {
            diesel::update(
                browser_sessions::table
                    .find(token_hash)
                    .filter(browser_sessions::user_id.eq(user_id)),
            )
            .set(browser_sessions::password_at.eq(Some(db_time(at))))
            .execute(c)
        })?;
        Ok(n == 1)
    }

    fn delete_others_for_user(&self, user_id: i64, keep: &str) -> Result<usize, SessionError> {
        self.execute(|c| {
            diesel::delete(
                browser_sessions::table
                    .filter(browser_sessions::user_id.eq(user_id))
                    .filter(browser_sessions::token_hash.ne(keep)),
            )
            .execute(c)
        })
    }

    /// Update first, then read: the row is locked before the count is read (as in
    /// `count_hit`), so concurrent failures each see their own increment.
    fn record_failure(&self, token_hash: &str) -> Result<i32, SessionError> {
        let mut conn = self.conn()?;
        conn.transaction(|c| {
            diesel::update(browser_sessions::table.find(token_hash))
                .set(browser_sessions::failed_attempts.eq(browser_sessions::failed_attempts + 1))
                .execute(c)?;
            browser_sessions::table
                .find(token_hash)
                .select(browser_sessions::failed_attempts)
                .first::<i32>(c)
                .optional()
        })
        .map(|n| n.unwrap_or(0))
        .map_err(err)
    }

    fn delete_unfinished_for_user(&self, user_id: i64) -> Result<usize, SessionError> {
        self.execute(|c| {
            diesel::delete(
                browser_sessions::table
                    .filter(browser_sessions::user_id.eq(user_id))
                    .filter(browser_sessions::mfa_at.is_null()),
            )
            .execute(c)
        })
    }

    fn delete_for_user(&self, user_id: i64) -> Result<usize, SessionError> {
        self.execute(|c| {
            diesel::delete(browser_sessions::table.filter(browser_sessions::user_id.eq(user_id)))
                .execute(c)
        })
    }

    fn forget_browsers(&self, user_id: i64) -> Result<usize, SessionError> {
        self.execute(|c| {
            diesel::delete(
                remembered_browsers::table.filter(remembered_browsers::user_id.eq(user_id)),
            )
            .execute(c)
        })
    }

    fn remember_browser(
        &self,
        token_hash: &str,
        user_id: i64,
        until: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        let mut conn = self.conn()?;
        retry_once_if_raced(|| {
            conn.transaction(|c| {
                diesel::delete(remembered_browsers::table.find(token_hash)).execute(c)?;
                diesel::insert_into(remembered_browsers::table)
                    .values((
                        remembered_browsers::token_hash.eq(token_hash),
                        remembered_browsers::user_id.eq(user_id),
                        remembered_browsers::expires_at.eq(db_time(until)),
                    ))
                    .execute(c)
            })
        })
        .map(|_| ())
        .map_err(err)
    }

    fn is_remembered(
        &self,
        token_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        let mut conn = self.conn()?;
        let n: i64 = remembered_browsers::table
            .find(token_hash)
            .filter(remembered_browsers::user_id.eq(user_id))
            .filter(remembered_browsers::expires_at.gt(db_time(now)))
            .select(dsl::count_star())
            .first(&mut *conn)
            .map_err(err)?;
        Ok(n > 0)
    }
}

impl IdentityStore for DieselSessionStore {
    /// Select, else insert. No transaction around the two: the INSERT alone is atomic and
    /// the unique keys decide a race; the loser reads the winner's UUID. (On SQLite a
    /// read-then-write transaction could fail with SQLITE_BUSY instead.)
    fn agency_uuid(
        &self,
        user_id: i64,
        agency_key: &str,
        new_uuid: &str,
        now: DateTime<Utc>,
    ) -> Result<String, SessionError> {
        let mut conn = self.conn()?;
        if let Some(uuid) = find_agency_uuid(&mut conn, user_id, agency_key).map_err(err)? {
            return Ok(uuid);
        }
        let inserted = diesel::insert_into(agency_identities::table)
            .values((
                agency_identities::user_id.eq(user_id),
                agency_identities::agency_key.eq(agency_key),
                agency_identities::uuid.eq(new_uuid),
                agency_identities::created_at.eq(db_time(now)),
            ))
            .execute(&mut *conn);
        match inserted {
            Ok(_) => Ok(new_uuid.to_string()),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) => {
                find_agency_uuid(&mut conn, user_id, agency_key)
                    .map_err(err)?
                    .ok_or_else(|| err(info.message()))
            }
            Err(e) => Err(err(e)),
        }
    }

    fn user_for_agency_uuid(
        &self,
        agency_key: &str,
        uuid: &str,
    ) -> Result<Option<i64>, SessionError> {
        let mut conn = self.conn()?;
        agency_identities::table
            .filter(agency_identities::agency_key.eq(agency_key))
            .filter(agency_identities::uuid.eq(uuid))
            .select(agency_identities::user_id)
            .first(&mut *conn)
            .optional()
            .map_err(err)
    }

    fn consent(&self, user_id: i64, issuer: &str) -> Result<Option<Vec<String>>, SessionError> {
        let mut conn = self.conn()?;
        let text: Option<String> = sp_consents::table
            .find((user_id, issuer))
            .select(sp_consents::attributes)
            .first(&mut *conn)
            .optional()
            .map_err(err)?;
        text.map(|t| serde_json::from_str(&t).map_err(err))
            .transpose()
    }

    fn save_consent(
        &self,
        user_id: i64,
        issuer: &str,
        attributes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        self.authenticated().remove(&(user_id, issuer.to_string()));
        let text = serde_json::to_string(attributes).map_err(err)?;
        let now = db_time(now);
        let mut conn = self.conn()?;
        retry_once_if_raced(|| conn.transaction(|c| upsert_consent(c, user_id, issuer, &text, now)))
            .map_err(err)
    }

    /// Only an existing consent row is stamped: creating one here would read as consent to
    /// nothing. Rows are created by `save_consent`.
    fn record_authentication(
        &self,
        user_id: i64,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SessionError> {
        let key = (user_id, issuer.to_string());
        let recorded = self.authenticated().get(&key).copied();
        if recorded.is_some_and(|at| now.timestamp() - at < AUTHENTICATED_AT_PRECISION_SECONDS) {
            return Ok(());
        }
        let stale = db_time(now - chrono::Duration::seconds(AUTHENTICATED_AT_PRECISION_SECONDS));
        self.execute(|c| {
            diesel::update(
                sp_consents::table.find((user_id, issuer)).filter(
                    sp_consents::last_authenticated_at
                        .is_null()
                        .or(sp_consents::last_authenticated_at.lt(stale)),
                ),
            )
            .set(sp_consents::last_authenticated_at.eq(Some(db_time(now))))
            .execute(c)
        })?;
        let mut cache = self.authenticated();
        if cache.len() >= AUTHENTICATED_CACHE_MAX {
            cache.clear();
        }
        cache.insert(key, now.timestamp());
        Ok(())
    }

    fn consents_for_user(&self, user_id: i64) -> Result<Vec<ConsentRecord>, SessionError> {
        account_history::consents_for_user(&mut *self.conn()?, user_id)
    }

    fn revoke_consent(&self, user_id: i64, issuer: &str) -> Result<bool, SessionError> {
        self.authenticated().remove(&(user_id, issuer.to_string()));
        let n = self
            .execute(|c| diesel::delete(sp_consents::table.find((user_id, issuer))).execute(c))?;
        Ok(n == 1)
    }
}

fn insert_audit(
    c: &mut DbConnection,
    event: &AuditEvent,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::event.eq(&event.event),
            audit_events::issuer.eq(event.issuer.as_deref()),
            audit_events::user_public_id.eq(event.user_public_id.as_deref()),
            audit_events::success.eq(event.success),
            audit_events::detail.eq(event.detail.as_deref()),
            audit_events::created_at.eq(db_time(now)),
        ))
        .execute(c)
}

impl AuditLog for DieselSessionStore {
    fn record(&self, event: &AuditEvent, now: DateTime<Utc>) -> Result<(), SessionError> {
        self.execute(|c| insert_audit(c, event, now)).map(|_| ())
    }

    fn record_many(&self, events: &[(AuditEvent, DateTime<Utc>)]) -> Result<(), SessionError> {
        // One transaction (one commit) for the batch; the multi-backend connection has no
        // multi-row INSERT, so one prepared statement per row.
        let mut conn = self.conn()?;
        conn.transaction(|c| {
            events
                .iter()
                .try_for_each(|(event, now)| insert_audit(c, event, *now).map(|_| ()))
        })
        .map_err(err)
    }

    fn recent(&self, limit: i64) -> Result<Vec<AuditEvent>, SessionError> {
        let mut conn = self.conn()?;
        let rows: Vec<AuditRow> = audit_events::table
            .order(audit_events::id.desc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(&mut *conn)
            .map_err(err)?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEvent {
                event: r.event,
                issuer: r.issuer,
                user_public_id: r.user_public_id,
                success: r.success,
                detail: r.detail,
            })
            .collect())
    }

    fn recent_for_user(
        &self,
        public_id: &str,
        limit: i64,
    ) -> Result<Vec<RecordedEvent>, SessionError> {
        account_history::recent_for_user(&mut *self.conn()?, public_id, limit)
    }
}

impl RateLimiter for DieselSessionStore {
    fn hit(
        &self,
        bucket: &str,
        window_start: DateTime<Utc>,
        limit: i32,
    ) -> Result<bool, SessionError> {
        let window_start = db_time(window_start);
        let mut conn = self.conn()?;
        let hits = retry_once_if_raced(|| conn.transaction(|c| count_hit(c, bucket, window_start)))
            .map_err(err)?;
        Ok(hits <= limit)
    }
}

impl ReplayCache for DieselSessionStore {
    fn first_use(
        &self,
        issuer: &str,
        request_id: &str,
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<bool, SessionError> {
        use super::schema::seen_requests;
        let mut conn = self.conn()?;
        let last = self.replay_forgotten_at.load(Ordering::Relaxed);
        let due = now.timestamp().saturating_sub(last) >= FORGET_EVERY_SECONDS;
        if due
            && self
                .replay_forgotten_at
                .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            diesel::delete(
                seen_requests::table.filter(seen_requests::seen_at.lt(db_time(forget_before))),
            )
            .execute(&mut *conn)
            .map_err(err)?;
        }
        let inserted = diesel::insert_into(seen_requests::table)
            .values((
                seen_requests::issuer.eq(issuer),
                seen_requests::request_id.eq(request_id),
                seen_requests::seen_at.eq(db_time(now)),
            ))
            .execute(&mut *conn);
        match inserted {
            Ok(_) => Ok(true),
            Err(_) if is_unique_violation(&inserted) => Ok(false),
            Err(e) => Err(err(e)),
        }
    }
}
