//! Injected identifier source: SAML `ID` values (`_` + UUID v4) in production, a counter in
//! tests so that outputs are reproducible.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub trait IdSource: Send + Sync {
    /// A fresh XML `ID` (an NCName: it starts with `_`).
    fn new_id(&self) -> String;
    /// A fresh UUID v4 in its hyphenated form (agency UUIDs, public ids, mail ids).
    fn uuid(&self) -> String;
    /// A fresh 256-bit secret, base64url without padding (cookie tokens). `None` if the
    /// system's random generator fails: callers refuse the request rather than go on.
    fn secret_token(&self) -> Option<String>;
}

#[derive(Debug, Default)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn new_id(&self) -> String {
        format!("_{}", self.uuid())
    }

    // The one place that draws a random UUID (clippy.toml disallows it elsewhere).
    #[allow(clippy::disallowed_methods)]
    fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    fn secret_token(&self) -> Option<String> {
        let mut bytes = [0u8; 32];
        openssl::rand::rand_bytes(&mut bytes).ok()?;
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// `_00000000-0000-4000-8000-000000000001`, `…02`, … (`uuid` gives the same without `_`;
/// every value, whichever method draws it, takes the next number).
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn new_id(&self) -> String {
        format!("_{}", self.uuid())
    }

    fn uuid(&self) -> String {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        format!("00000000-0000-4000-8000-{n:012x}")
    }

    fn secret_token(&self) -> Option<String> {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        Some(URL_SAFE_NO_PAD.encode(format!("test-token-{n:021}")))
    }
}
