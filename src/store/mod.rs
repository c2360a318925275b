//! Persistence with Diesel: one connection type over SQLite and PostgreSQL (the URL decides),
//! an r2d2 pool, embedded migrations, and the Diesel implementations of the domain traits;
//! `memory` implements the same traits without a database. `diesel` is named nowhere outside
//! this module.

pub mod memory;

mod accounts;
mod composition;
mod errors;
mod mail_queue_store;
mod pending_store;
mod purge_store;
mod schema;
mod security_key_store;
mod sessions;
mod sp_store;
mod sqlite_wait;
mod time;
mod token_store;

use std::path::Path;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use thiserror::Error;

pub use self::accounts::DieselAccountStore;
pub use self::sessions::{events, DieselSessionStore, EventFilter};
pub use composition::compose;
pub use mail_queue_store::DieselMailQueue;
pub use pending_store::DieselPendingStore;
pub use purge_store::DieselPurger;
pub use security_key_store::DieselSecurityKeyStore;
pub use sp_store::DieselSpRegistry;
pub use token_store::DieselTokenStore;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Serialises migrations when several nodes start against one PostgreSQL at once.
const MIGRATION_LOCK_KEY: i64 = 0x5a4d_4c49_4450;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("database query failed: {0}")]
    Query(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::Query(e.to_string())
    }
}

/// Runs `$body` with `$c` bound to the backend's own connection (the body is compiled once
/// per backend). Through the multi-backend connection Diesel builds a statement's SQL text
/// at every execution, even when the prepared statement is cached; on the backend's own
/// connection a cached statement is found by the query's type. For the statements every
/// request runs (issue 23).
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Postgresql($c) => $body,
            $crate::store::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use per_backend;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` are PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// plain path is an SQLite file. Returns the backend and what to hand its driver.
    pub fn from_url(url: &str) -> (Backend, String) {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return (Backend::Postgres, url.to_string());
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        (Backend::Sqlite, path.to_string())
    }
}

/// Opens connections of the backend the URL names (never "try one, then the other").
#[derive(Debug)]
pub struct Manager {
    backend: Backend,
    target: String,
}

/// A PostgreSQL connection checked with `SELECT 1` less than this long ago is handed out
/// without a new check: under load each connection costs one check a second, not one per
/// checkout. After a server restart a dead connection may fail its requests (503) for at most
/// this long before its next check replaces it.
const RECHECK_AFTER: Duration = Duration::from_secs(1);

/// SQLite's own checkpoint threshold on every connection (pages of 4 KiB: 40 MiB of log),
/// reached only when [`Database::checkpoint`] does not run.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// A connection in the pool, with when it was last known to answer.
pub struct Pooled {
    conn: DbConnection,
    checked_at: Instant,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = StoreError;

    fn connect(&self) -> Result<Pooled, StoreError> {
        Ok(Pooled {
            conn: self.open()?,
            checked_at: Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), StoreError> {
        if pooled.checked_at.elapsed() < RECHECK_AFTER {
            return Ok(());
        }
        pooled.conn.batch_execute("SELECT 1")?;
        pooled.checked_at = Instant::now();
        Ok(())
    }

    fn has_broken(&self, _conn: &mut Pooled) -> bool {
        false
    }
}

impl Manager {
    fn open(&self) -> Result<DbConnection, StoreError> {
        let connect_err = |e: diesel::ConnectionError| StoreError::Connect(e.to_string());
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.target)
                .map(DbConnection::Postgresql)
                .map_err(connect_err),
            Backend::Sqlite => {
                // The busy handler comes with the connection (`sqlite_wait`): switching to WAL
                // itself may have to wait for the lock (DESIGN). The write-ahead log is copied
                // back into the database by the server's own thread (`Database::checkpoint`,
                // every second: `web::server`), not by whichever request's commit crosses
                // SQLite's 1,000 pages: that took 6 % of a remote logout (issue 23), and pages
                // written again within a second are copied once. The threshold stays as the
                // bound when nothing else checkpoints (a CLI command, a stalled server thread).
                let wait = match sqlite_wait::install() {
                    true => String::new(),
                    false => format!(
                        "PRAGMA busy_timeout = {}; ",
                        sqlite_wait::GIVE_UP_AFTER.as_millis()
                    ),
                };
                let mut conn = SqliteConnection::establish(&self.target).map_err(connect_err)?;
                conn.batch_execute(&format!(
                    "{wait}PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES};"
                ))
                .map_err(|e| StoreError::Connect(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

/// A pooled connection that reports how long it was held when it goes back.
pub(crate) struct Conn {
    pooled: PooledConnection<Manager>,
    taken: Instant,
}

impl std::ops::Deref for Conn {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.pooled.conn
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.pooled.conn
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        crate::metrics::METRICS.db_held(self.taken.elapsed());
    }
}

/// The pool every part of the process shares.
#[derive(Clone)]
pub struct Database {
    pool: Pool<Manager>,
    backend: Backend,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({:?})", self.backend)
    }
}

impl Database {
    /// Connects (failing fast when the database cannot be reached); an SQLite file's
    /// directory is created if needed.
    pub fn connect(url: &str) -> Result<Database, StoreError> {
        let (backend, target) = Backend::from_url(url);
        if backend == Backend::Sqlite {
            if let Some(dir) = Path::new(&target)
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Connect(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let pool = Pool::builder()
            .max_size(if backend == Backend::Sqlite { 4 } else { 10 })
            .connection_timeout(Duration::from_secs(5))
            // An SQLite file cannot drop its connections; a PostgreSQL server can restart, and
            // then this check (`SELECT 1` at checkout, at most once a second per connection:
            // `RECHECK_AFTER`) is what replaces the dead connections.
            .test_on_check_out(backend != Backend::Sqlite)
            .build(Manager { backend, target })
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        Ok(Database { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection from the pool; the wait for it and the time it is held are measured
    /// (`saml_idp_db_pool_wait_seconds`, `saml_idp_db_connection_held_seconds`).
    pub(crate) fn conn(&self) -> Result<Conn, StoreError> {
        let asked = Instant::now();
        let pooled = self
            .pool
            .get()
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        crate::metrics::METRICS.db_wait(asked.elapsed());
        Ok(Conn {
            pooled,
            taken: Instant::now(),
        })
    }

    /// The pool's (connections open, of which idle, most allowed), for `/metrics`.
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (
            state.connections,
            state.idle_connections,
            self.pool.max_size(),
        )
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let applied = match &mut *conn {
            DbConnection::Sqlite(c) => c
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect()),
            DbConnection::Postgresql(c) => {
                c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
                let result = c
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|v| v.iter().map(ToString::to_string).collect());
                c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
                result
            }
        };
        applied.map_err(|e| StoreError::Migration(e.to_string()))
    }

    /// Readiness: can a connection run a query now?
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn()?
            .batch_execute("SELECT 1")
            .map_err(StoreError::from)
    }

    /// SQLite: copies what the write-ahead log holds into the database without waiting for
    /// readers or writers (`PASSIVE`: what cannot be copied now is copied next time), and
    /// says how far it got. PostgreSQL manages its own log: nothing to do (`None`).
    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        if self.backend == Backend::Postgres {
            return Ok(None);
        }
        let mut conn = self.conn()?;
        let DbConnection::Sqlite(c) = &mut *conn else {
            return Ok(None);
        };
        let row: CheckpointRow = diesel::RunQueryDsl::get_result(
            diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)"),
            c,
        )?;
        Ok(Some(Checkpoint {
            frames_in_log: row.log,
            frames_copied: row.checkpointed,
        }))
    }
}

/// What one SQLite checkpoint did: the log's frames, and how many are now in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub frames_in_log: i64,
    pub frames_copied: i64,
}

/// The row `PRAGMA wal_checkpoint` answers.
#[derive(diesel::QueryableByName)]
struct CheckpointRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checkpointed: i64,
}
