//! `SpRegistry` in memory: SPs by issuer and the revision every successful write bumps.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::rows::{micros, SpTable};
use super::tables::Shared;
use crate::clock::Clock;
use crate::registry::{RegistryError, ServiceProvider, SpRegistry, UpsertCounts};

/// The in-memory registry; writes are stamped with its clock, cut to microseconds.
pub struct MemorySpRegistry {
    db: Shared,
    clock: Arc<dyn Clock>,
}

impl MemorySpRegistry {
    pub(super) fn new(db: Shared, clock: Arc<dyn Clock>) -> Self {
        MemorySpRegistry { db, clock }
    }

    /// Runs `change` on the table; bumps the revision only if it succeeds (a failed write,
    /// like a rolled-back transaction, leaves everything as it was).
    fn write<T>(
        &self,
        change: impl FnOnce(&mut SpTable, DateTime<Utc>) -> Result<T, RegistryError>,
    ) -> Result<T, RegistryError> {
        let now = micros(self.clock.now());
        let mut tables = self.db.lock();
        let value = change(&mut tables.registry, now)?;
        tables.registry.revision += 1;
        Ok(value)
    }
}

impl SpRegistry for MemorySpRegistry {
    fn list(&self) -> Result<Vec<ServiceProvider>, RegistryError> {
        Ok(self.db.lock().registry.sps.values().cloned().collect())
    }

    fn find(&self, issuer: &str) -> Result<Option<ServiceProvider>, RegistryError> {
        Ok(self.db.lock().registry.sps.get(issuer).cloned())
    }

    fn add(&self, sp: &ServiceProvider) -> Result<(), RegistryError> {
        self.write(|table, now| {
            if table.sps.contains_key(&sp.issuer) {
                return Err(RegistryError::Duplicate(sp.issuer.clone()));
            }
            table.insert(sp, now);
            Ok(())
        })
    }

    fn update(&self, sp: &ServiceProvider) -> Result<(), RegistryError> {
        self.write(
            |table, now| match table.replace(sp, Some(sp.version), now)? {
                true => Ok(()),
                false => Err(RegistryError::NotFound(sp.issuer.clone())),
            },
        )
    }

    fn upsert_all(&self, sps: &[ServiceProvider]) -> Result<UpsertCounts, RegistryError> {
        self.write(|table, now| {
            let mut counts = UpsertCounts::default();
            for sp in sps {
                if table.replace(sp, None, now)? {
                    counts.updated += 1;
                } else {
                    table.insert(sp, now);
                    counts.created += 1;
                }
            }
            Ok(counts)
        })
    }

    fn remove(&self, issuer: &str) -> Result<(), RegistryError> {
        self.write(|table, _| match table.sps.remove(issuer) {
            Some(_) => Ok(()),
            None => Err(RegistryError::NotFound(issuer.to_string())),
        })
    }

    fn revision(&self) -> Result<i64, RegistryError> {
        Ok(self.db.lock().registry.revision)
    }
}
