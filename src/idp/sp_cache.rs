//! The in-memory copy of the SP registry that request handling reads. It reloads when the
//! registry's revision changes, so an SP added by another process (the CLI, another node)
//! is seen within one refresh interval (SPEC 11).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::registry::{RegistryError, ServiceProvider, SpRegistry};

#[derive(Debug, Default)]
struct Snapshot {
    revision: Option<i64>,
    by_issuer: HashMap<String, Arc<ServiceProvider>>,
}

pub struct SpCache {
    registry: Arc<dyn SpRegistry>,
    snapshot: RwLock<Arc<Snapshot>>,
}

/// What a refresh did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    Unchanged,
    Reloaded { revision: i64, count: usize },
}

impl SpCache {
    /// An empty cache; call `refresh` before serving.
    pub fn new(registry: Arc<dyn SpRegistry>) -> Self {
        SpCache {
            registry,
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
        }
    }

    /// The registry this cache reads (the CLI, the console and tests write through it).
    pub fn registry(&self) -> Arc<dyn SpRegistry> {
        self.registry.clone()
    }

    /// The same registry, borrowed.
    pub fn registry_ref(&self) -> &dyn SpRegistry {
        self.registry.as_ref()
    }

    fn current(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn get(&self, issuer: &str) -> Option<Arc<ServiceProvider>> {
        self.current().by_issuer.get(issuer).cloned()
    }

    /// (active, inactive) counts, for metrics.
    pub fn counts(&self) -> (usize, usize) {
        let snap = self.current();
        let active = snap.by_issuer.values().filter(|sp| sp.active).count();
        (active, snap.by_issuer.len() - active)
    }

    pub fn revision(&self) -> Option<i64> {
        self.current().revision
    }

    /// Blocking: asks the registry for its revision and reloads everything if it moved. On
    /// error the previous snapshot stays in service.
    pub fn refresh(&self) -> Result<Refresh, RegistryError> {
        let revision = self.registry.revision()?;
        if self.current().revision == Some(revision) {
            return Ok(Refresh::Unchanged);
        }
        let by_issuer: HashMap<_, _> = self
            .registry
            .list()?
            .into_iter()
            .map(|sp| (sp.issuer.clone(), Arc::new(sp)))
            .collect();
        let count = by_issuer.len();
        let fresh = Arc::new(Snapshot {
            revision: Some(revision),
            by_issuer,
        });
        match self.snapshot.write() {
            Ok(mut guard) => *guard = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(Refresh::Reloaded { revision, count })
    }
}
