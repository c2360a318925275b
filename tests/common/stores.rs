//! Every implementation of the store traits, as one bundle of ports: in memory, on SQLite,
//! and on PostgreSQL when `TEST_DATABASE_URL` is set (one fresh schema each). A contract test
//! is a function over the ports it needs (`&dyn Trait`); `contract_tests!` runs each one on
//! every implementation.
#![allow(unused_imports, unused_macros)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};

use saml_idp::accounts::api_tokens::ApiTokenStore;
use saml_idp::accounts::roles::RoleStore;
use saml_idp::accounts::security_keys::SecurityKeyStore;
use saml_idp::accounts::tokens::TokenStore;
use saml_idp::accounts::{AccountStore, NewUser};
use saml_idp::clock::{Clock, ManualClock};
use saml_idp::idp::sso::pending::PendingStore;
use saml_idp::mail::queue::MailQueue;
use saml_idp::registry::SpRegistry;
use saml_idp::sessions::purge::Purger;
use saml_idp::sessions::signed_in::SignedInReads;
use saml_idp::sessions::{
    AuditLog, IdentityStore, RateLimiter, ReplayCache, SessionRecord, SessionStore,
};
use saml_idp::store::memory::MemoryStores;
use saml_idp::store::{
    Backend, Database, DieselAccountStore, DieselMailQueue, DieselPendingStore, DieselPurger,
    DieselSecurityKeyStore, DieselSessionStore, DieselSpRegistry, DieselTokenStore,
};

use super::TestDb;

/// One of each store over the same data.
pub struct Stores {
    /// "memory", "sqlite" or "postgres".
    pub name: &'static str,
    pub registry: Arc<dyn SpRegistry>,
    pub accounts: Arc<dyn AccountStore>,
    pub roles: Arc<dyn RoleStore>,
    pub api_tokens: Arc<dyn ApiTokenStore>,
    pub tokens: Arc<dyn TokenStore>,
    pub security_keys: Arc<dyn SecurityKeyStore>,
    pub sessions: Arc<dyn SessionStore>,
    pub identities: Arc<dyn IdentityStore>,
    pub signed_in: Arc<dyn SignedInReads>,
    pub audit: Arc<dyn AuditLog>,
    pub limiter: Arc<dyn RateLimiter>,
    pub replay: Arc<dyn ReplayCache>,
    pub pending: Arc<dyn PendingStore>,
    pub purger: Arc<dyn Purger>,
    pub mail_queue: Arc<dyn MailQueue>,
    /// What the registry stamps its writes with; starts at `common::clock()`'s instant.
    pub clock: Arc<ManualClock>,
    backing: Backing,
}

enum Backing {
    Memory(MemoryStores),
    /// Kept alive (and its PostgreSQL schema with it) as long as any node uses it.
    Sql(Arc<TestDb>),
}

/// Runs `contract` on every implementation; a failure says which one failed.
pub fn on_every_store(contract: impl Fn(&Stores)) {
    for (name, stores) in super::every_store() {
        let _naming = Naming(name);
        contract(&stores);
    }
}

struct Naming(&'static str);

impl Drop for Naming {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the contract failed on the {} store", self.0);
        }
    }
}

/// One `#[test]` per contract function, in a module `on_every_store`: `name(port, …);` calls
/// `name(stores.port(), …)` on every implementation (`stores` passes the whole bundle).
macro_rules! contract_tests {
    ($($name:ident($($port:ident),+);)+) => {
        mod on_every_store {
            $(
                #[test]
                fn $name() {
                    $crate::common::stores::on_every_store(|s| super::$name($(s.$port()),+));
                }
            )+
        }
    };
}
pub(crate) use contract_tests;

fn start() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(super::clock().now()))
}

pub fn memory() -> Stores {
    let clock = start();
    memory_node(MemoryStores::new(clock.clone()), clock)
}

fn memory_node(m: MemoryStores, clock: Arc<ManualClock>) -> Stores {
    Stores {
        name: "memory",
        registry: m.registry.clone(),
        accounts: m.accounts.clone(),
        roles: m.accounts.clone(),
        api_tokens: m.accounts.clone(),
        tokens: m.tokens.clone(),
        security_keys: m.security_keys.clone(),
        sessions: m.sessions.clone(),
        identities: m.sessions.clone(),
        signed_in: m.sessions.clone(),
        audit: m.sessions.clone(),
        limiter: m.sessions.clone(),
        replay: m.sessions.clone(),
        pending: m.pending.clone(),
        purger: m.purger.clone(),
        mail_queue: m.mail_queue.clone(),
        clock,
        backing: Backing::Memory(m),
    }
}

/// The Diesel stores on every backend (for what only SQL has: batches, the CLI, raw SQL).
pub fn every_sql_store() -> Vec<(&'static str, Stores)> {
    let backends = super::every_backend().into_iter();
    backends
        .map(|(name, db)| (name, sql(name, Arc::new(db))))
        .collect()
}

/// The Diesel stores over `db`'s own pool.
pub fn sql(name: &'static str, db: Arc<TestDb>) -> Stores {
    let pool = db.db.clone();
    sql_node(name, db, pool, start())
}

fn sql_node(
    name: &'static str,
    db: Arc<TestDb>,
    pool: Database,
    clock: Arc<ManualClock>,
) -> Stores {
    let sessions = Arc::new(DieselSessionStore::new(pool.clone()));
    let accounts = Arc::new(DieselAccountStore::new(pool.clone()));
    Stores {
        name,
        registry: Arc::new(DieselSpRegistry::new(pool.clone(), clock.clone())),
        accounts: accounts.clone(),
        roles: accounts.clone(),
        api_tokens: accounts,
        tokens: Arc::new(DieselTokenStore::new(pool.clone())),
        security_keys: Arc::new(DieselSecurityKeyStore::new(pool.clone())),
        sessions: sessions.clone(),
        identities: sessions.clone(),
        signed_in: sessions.clone(),
        audit: sessions.clone(),
        limiter: sessions.clone(),
        replay: sessions,
        pending: Arc::new(DieselPendingStore::new(pool.clone())),
        purger: Arc::new(DieselPurger::new(pool.clone())),
        mail_queue: Arc::new(DieselMailQueue::new(pool)),
        clock,
        backing: Backing::Sql(db),
    }
}

impl Stores {
    /// The same data through a second set of stores, as another server process sees it: its
    /// own connection pool, or another handle on the same in-memory tables. Same clock.
    pub fn another_node(&self) -> Stores {
        match &self.backing {
            Backing::Memory(m) => memory_node(m.clone(), self.clock.clone()),
            Backing::Sql(db) => {
                let pool = Database::connect(&db.url).expect("a second connection pool");
                sql_node(self.name, db.clone(), pool, self.clock.clone())
            }
        }
    }

    /// The rows of `table` (named as in SQL), counted behind the stores' back.
    pub fn count(&self, table: &str) -> i64 {
        match &self.backing {
            Backing::Memory(m) => m
                .row_counts()
                .into_iter()
                .find(|(t, _)| *t == table)
                .map(|(_, n)| i64::try_from(n).expect("count"))
                .unwrap_or_else(|| panic!("no table {table}")),
            Backing::Sql(db) => count_table(db, table),
        }
    }

    /// The database under the SQL stores; `None` in memory.
    pub fn sql_db(&self) -> Option<&TestDb> {
        match &self.backing {
            Backing::Memory(_) => None,
            Backing::Sql(db) => Some(db),
        }
    }

    // The ports as the contract functions take them (see `contract_tests!`).

    pub fn stores(&self) -> &Stores {
        self
    }
    pub fn registry(&self) -> &dyn SpRegistry {
        &*self.registry
    }
    pub fn accounts(&self) -> &dyn AccountStore {
        &*self.accounts
    }
    pub fn tokens(&self) -> &dyn TokenStore {
        &*self.tokens
    }
    pub fn security_keys(&self) -> &dyn SecurityKeyStore {
        &*self.security_keys
    }
    pub fn sessions(&self) -> &dyn SessionStore {
        &*self.sessions
    }
    pub fn identities(&self) -> &dyn IdentityStore {
        &*self.identities
    }
    pub fn signed_in(&self) -> &dyn SignedInReads {
        &*self.signed_in
    }
    pub fn audit(&self) -> &dyn AuditLog {
        &*self.audit
    }
    pub fn limiter(&self) -> &dyn RateLimiter {
        &*self.limiter
    }
    pub fn replay(&self) -> &dyn ReplayCache {
        &*self.replay
    }
    pub fn pending(&self) -> &dyn PendingStore {
        &*self.pending
    }
    pub fn purger(&self) -> &dyn Purger {
        &*self.purger
    }
    pub fn mail_queue(&self) -> &dyn MailQueue {
        &*self.mail_queue
    }
}

/// `SELECT COUNT(*)` of a table, through a connection of its own.
pub fn count_table(db: &TestDb, table: &str) -> i64 {
    count_where(db, table, "1 = 1")
}

/// `SELECT COUNT(*) … WHERE condition`, through a connection of its own.
pub fn count_where(db: &TestDb, table: &str, condition: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let query = diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM {table} WHERE {condition}"
    ));
    let rows: Vec<Count> = match Backend::from_url(&db.url) {
        (Backend::Sqlite, path) => {
            let mut c = SqliteConnection::establish(&path).expect("sqlite");
            query.load(&mut c).expect("count")
        }
        (Backend::Postgres, url) => {
            let mut c = PgConnection::establish(&url).expect("postgres");
            query.load(&mut c).expect("count")
        }
    };
    rows.first().map_or(0, |r| r.n)
}

/// Runs `f(port, i)` on `n` threads released at once, and collects the answers in order.
pub fn concurrently<P, T>(
    port: &Arc<P>,
    n: usize,
    f: impl Fn(&P, usize) -> T + Send + Sync + Clone + 'static,
) -> Vec<T>
where
    P: ?Sized + Send + Sync + 'static,
    T: Send + 'static,
{
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let (port, barrier, f) = (port.clone(), barrier.clone(), f.clone());
            std::thread::spawn(move || {
                barrier.wait();
                f(&*port, i)
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect()
}

/// A user with only a public id and a password hash: no address, no second factor.
pub fn bare_user(public_id: &str) -> NewUser {
    NewUser {
        public_id: public_id.into(),
        password_hash: "$argon2id$hash".into(),
        totp_secret_sealed: None,
        locale: "en".into(),
        emails: Vec::new(),
        backup_code_hashes: Vec::new(),
        verified_profile_sealed: None,
        verified_at: None,
        piv_record_sealed: None,
    }
}

/// The contracts' instant, 2026-03-15T12:00:00Z (`common::clock()`'s), plus `secs`.
pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
        .single()
        .expect("time")
        + Duration::seconds(secs)
}

/// A session started at `at(0)`, past nothing yet, ending after 12 hours.
pub fn fresh_session(token: &str, user_id: Option<i64>) -> SessionRecord {
    SessionRecord {
        token_hash: token.into(),
        user_id,
        csrf_token: format!("csrf-{token}"),
        password_at: None,
        mfa_at: None,
        mfa_method: None,
        created_at: at(0),
        last_seen_at: at(0),
        expires_at: at(12 * 3600),
        failed_attempts: 0,
    }
}
