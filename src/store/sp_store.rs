//! `SpRegistry` on Diesel: one row per SP, list fields as JSON text, a revision counter
//! bumped in the same transaction as every write.

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::schema::{registry_revision, service_providers};
use super::time::{db_time, utc};
use super::{Database, DbConnection, StoreError};
use crate::clock::Clock;
use crate::crypto::Certificate;
use crate::registry::{BlockEncryption, RegistryError, ServiceProvider, SpRegistry, UpsertCounts};

#[derive(Queryable, Selectable)]
#[diesel(table_name = service_providers)]
struct SpRow {
    issuer: String,
    friendly_name: String,
    agency: Option<String>,
    active: bool,
    acs_urls: String,
    logout_url: Option<String>,
    certs: String,
    block_encryption: String,
    signed_response_message_requested: bool,
    require_signed_requests: bool,
    ial: i16,
    default_aal: Option<i16>,
    attribute_bundle: String,
    email_nameid_format_allowed: bool,
    ialmax_allowed: bool,
    return_to_sp_url: Option<String>,
    failure_to_proof_url: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = service_providers, treat_none_as_null = true)]
struct SpWrite<'a> {
    issuer: &'a str,
    friendly_name: &'a str,
    agency: Option<&'a str>,
    active: bool,
    acs_urls: String,
    logout_url: Option<&'a str>,
    certs: String,
    block_encryption: &'static str,
    signed_response_message_requested: bool,
    require_signed_requests: bool,
    ial: i16,
    default_aal: Option<i16>,
    attribute_bundle: String,
    email_nameid_format_allowed: bool,
    ialmax_allowed: bool,
    return_to_sp_url: Option<&'a str>,
    failure_to_proof_url: Option<&'a str>,
    updated_at: NaiveDateTime,
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

impl<'a> SpWrite<'a> {
    fn new(sp: &'a ServiceProvider, now: NaiveDateTime) -> Self {
        let pems: Vec<String> = sp.certs.iter().map(Certificate::to_pem).collect();
        SpWrite {
            issuer: &sp.issuer,
            friendly_name: &sp.friendly_name,
            agency: sp.agency.as_deref(),
            active: sp.active,
            acs_urls: json(&sp.acs_urls),
            logout_url: sp.logout_url.as_deref(),
            certs: json(&pems),
            block_encryption: sp.block_encryption.as_str(),
            signed_response_message_requested: sp.signed_response_message_requested,
            require_signed_requests: sp.require_signed_requests,
            ial: i16::from(sp.ial),
            default_aal: sp.default_aal.map(i16::from),
            attribute_bundle: json(&sp.attribute_bundle),
            email_nameid_format_allowed: sp.email_nameid_format_allowed,
            ialmax_allowed: sp.ialmax_allowed,
            return_to_sp_url: sp.return_to_sp_url.as_deref(),
            failure_to_proof_url: sp.failure_to_proof_url.as_deref(),
            updated_at: now,
        }
    }
}

impl SpRow {
    /// Rows were validated when written; a row that no longer parses is reported, not
    /// silently skipped.
    fn into_domain(self) -> Result<ServiceProvider, RegistryError> {
        let corrupt = |detail: String| RegistryError::Corrupt {
            issuer: self.issuer.clone(),
            detail,
        };
        let list = |field: &str, text: &str| {
            serde_json::from_str::<Vec<String>>(text).map_err(|e| corrupt(format!("{field}: {e}")))
        };
        let certs = list("certs", &self.certs)?
            .iter()
            .map(|pem| {
                Certificate::from_pem(pem.as_bytes()).map_err(|e| corrupt(format!("certs: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let block_encryption = BlockEncryption::parse(&self.block_encryption)
            .ok_or_else(|| corrupt(format!("block_encryption {:?}", self.block_encryption)))?;
        let small = |v: i16| u8::try_from(v).map_err(|_| corrupt(format!("level {v}")));
        Ok(ServiceProvider {
            acs_urls: list("acs_urls", &self.acs_urls)?,
            attribute_bundle: list("attribute_bundle", &self.attribute_bundle)?,
            certs,
            block_encryption,
            ial: small(self.ial)?,
            default_aal: self.default_aal.map(small).transpose()?,
            friendly_name: self.friendly_name,
            agency: self.agency,
            active: self.active,
            logout_url: self.logout_url,
            signed_response_message_requested: self.signed_response_message_requested,
            require_signed_requests: self.require_signed_requests,
            email_nameid_format_allowed: self.email_nameid_format_allowed,
            ialmax_allowed: self.ialmax_allowed,
            return_to_sp_url: self.return_to_sp_url,
            failure_to_proof_url: self.failure_to_proof_url,
            created_at: Some(utc(self.created_at)),
            updated_at: Some(utc(self.updated_at)),
            version: self.version,
            issuer: self.issuer,
        })
    }
}

/// The Diesel-backed registry.
pub struct DieselSpRegistry {
    db: Database,
    clock: Arc<dyn Clock>,
}

impl DieselSpRegistry {
    pub fn new(db: Database, clock: Arc<dyn Clock>) -> Self {
        DieselSpRegistry { db, clock }
    }

    fn now(&self) -> NaiveDateTime {
        db_time(self.clock.now())
    }

    fn write<T>(
        &self,
        f: impl FnOnce(&mut DbConnection, NaiveDateTime) -> Result<T, TxError>,
    ) -> Result<T, RegistryError> {
        let now = self.now();
        let mut conn = self.db.conn().map_err(storage)?;
        let result = conn.transaction(|c| {
            let value = f(c, now)?;
            diesel::update(registry_revision::table)
                .set(registry_revision::revision.eq(registry_revision::revision + 1))
                .execute(c)?;
            Ok(value)
        });
        result.map_err(TxError::into_registry)
    }
}

/// Errors inside a transaction: the domain's own, or the database's (which roll it back).
enum TxError {
    Registry(RegistryError),
    Db(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

impl TxError {
    fn into_registry(self) -> RegistryError {
        match self {
            TxError::Registry(e) => e,
            TxError::Db(e) => storage(StoreError::from(e)),
        }
    }
}

fn storage(e: StoreError) -> RegistryError {
    RegistryError::Storage(e.to_string())
}

fn exists(c: &mut DbConnection, issuer: &str) -> Result<bool, DieselError> {
    use diesel::dsl::count_star;
    let n: i64 = service_providers::table
        .filter(service_providers::issuer.eq(issuer))
        .select(count_star())
        .first(c)?;
    Ok(n > 0)
}

fn insert(c: &mut DbConnection, sp: &ServiceProvider, now: NaiveDateTime) -> Result<(), TxError> {
    let row = SpWrite::new(sp, now);
    let result = diesel::insert_into(service_providers::table)
        .values((&row, service_providers::created_at.eq(now)))
        .execute(c);
    match result {
        Ok(_) => Ok(()),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(
            TxError::Registry(RegistryError::Duplicate(sp.issuer.clone())),
        ),
        Err(e) => Err(e.into()),
    }
}

/// Replaces the row of `sp.issuer` (only at `version`, when given) and bumps its version;
/// how many rows changed.
fn replace(
    c: &mut DbConnection,
    sp: &ServiceProvider,
    version: Option<i64>,
    now: NaiveDateTime,
) -> Result<usize, DieselError> {
    use service_providers::dsl;
    let changes = (SpWrite::new(sp, now), dsl::version.eq(dsl::version + 1));
    let this = dsl::service_providers.filter(dsl::issuer.eq(&sp.issuer));
    match version {
        Some(version) => diesel::update(this.filter(dsl::version.eq(version)))
            .set(changes)
            .execute(c),
        None => diesel::update(this).set(changes).execute(c),
    }
}

impl SpRegistry for DieselSpRegistry {
    fn list(&self) -> Result<Vec<ServiceProvider>, RegistryError> {
        let mut conn = self.db.conn().map_err(storage)?;
        let rows: Vec<SpRow> = service_providers::table
            .select(SpRow::as_select())
            .load(&mut *conn)
            .map_err(|e| storage(e.into()))?;
        // Sorted here, by bytes: database collations differ between backends and locales.
        let mut sps = rows
            .into_iter()
            .map(SpRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        sps.sort_by(|a, b| a.issuer.cmp(&b.issuer));
        Ok(sps)
    }

    fn find(&self, issuer: &str) -> Result<Option<ServiceProvider>, RegistryError> {
        let mut conn = self.db.conn().map_err(storage)?;
        let row: Option<SpRow> = service_providers::table
            .filter(service_providers::issuer.eq(issuer))
            .select(SpRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(|e| storage(e.into()))?;
        row.map(SpRow::into_domain).transpose()
    }

    fn add(&self, sp: &ServiceProvider) -> Result<(), RegistryError> {
        self.write(|c, now| {
            if exists(c, &sp.issuer)? {
                return Err(TxError::Registry(RegistryError::Duplicate(
                    sp.issuer.clone(),
                )));
            }
            insert(c, sp, now)
        })
    }

    fn update(&self, sp: &ServiceProvider) -> Result<(), RegistryError> {
        self.write(|c, now| match replace(c, sp, Some(sp.version), now)? {
            0 if exists(c, &sp.issuer)? => {
                Err(TxError::Registry(RegistryError::Stale(sp.issuer.clone())))
            }
            0 => Err(TxError::Registry(RegistryError::NotFound(
                sp.issuer.clone(),
            ))),
            _ => Ok(()),
        })
    }

    fn upsert_all(&self, sps: &[ServiceProvider]) -> Result<UpsertCounts, RegistryError> {
        self.write(|c, now| {
            let mut counts = UpsertCounts::default();
            for sp in sps {
                if replace(c, sp, None, now)? == 0 {
                    insert(c, sp, now)?;
                    counts.created += 1;
                } else {
                    counts.updated += 1;
                }
            }
            Ok(counts)
        })
    }

    fn remove(&self, issuer: &str) -> Result<(), RegistryError> {
        self.write(|c, _| {
            let n = diesel::delete(
                service_providers::table.filter(service_providers::issuer.eq(issuer)),
            )
            .execute(c)?;
            match n {
                0 => Err(TxError::Registry(RegistryError::NotFound(
                    issuer.to_string(),
                ))),
                _ => Ok(()),
            }
        })
    }

    fn revision(&self) -> Result<i64, RegistryError> {
        let mut conn = self.db.conn().map_err(storage)?;
        registry_revision::table
            .select(registry_revision::revision)
            .first(&mut *conn)
            .map_err(|e| storage(e.into()))
    }
}
