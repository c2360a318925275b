//! Injected identifier source: SAML `ID` values (`_` + UUID v4) in production, a counter in
//! tests so that outputs are reproducible.

use std::sync::atomic::{AtomicU64, Ordering};

pub trait IdSource: Send + Sync {
    /// A fresh XML `ID` (an NCName: it starts with `_`).
    fn new_id(&self) -> String;
}

#[derive(Debug, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_id(&self) -> String {
        format!("_{}", uuid::Uuid::new_v4())
    }
}

/// `_00000000-0000-4000-8000-000000000001`, `…02`, …
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn new_id(&self) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("_00000000-0000-4000-8000-{n:012x}")
    }
}
