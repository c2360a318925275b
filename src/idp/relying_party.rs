//! The WebAuthn relying party this server is (SPEC 18): its ID is the host of `base_url`,
//! its origin `base_url`, its name the organization's display name; and the attestation
//! roots of `[webauthn] aal3_attestation_roots`, the vendors whose keys may reach AAL3.

use std::path::{Path, PathBuf};

use openssl::x509::X509;
use thiserror::Error;
use webauthn_rs::prelude::{AttestationCaList, Url, Webauthn, WebauthnBuilder};

/// The relying party this server is: `None` inside when `base_url`'s host is not a domain
/// name (an IP address is not a valid RP ID), and then no ceremony can start.
pub struct RelyingParty {
    webauthn: Option<Webauthn>,
    /// `None` when no root is configured: then nothing is AAL3.
    aal3_roots: Option<AttestationCaList>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "RelyingParty(available: {}, aal3: {})",
            self.webauthn.is_some(),
            self.offers_aal3()
        )
    }
}

/// An attestation root that cannot be used, named by its file.
#[derive(Debug, Error)]
#[error("{}: {detail}", path.display())]
pub struct RootError {
    pub path: PathBuf,
    pub detail: String,
}

/// Reads the PEM certificates of `[webauthn] aal3_attestation_roots` (every certificate of
/// every file); `None` when no file is named. `Config::load` calls it to refuse a missing
/// or unreadable file at start-up.
pub fn load_aal3_roots(paths: &[PathBuf]) -> Result<Option<AttestationCaList>, RootError> {
    let mut roots = AttestationCaList::default();
    for path in paths {
        roots.union(&read_roots(path)?);
    }
    Ok((!roots.is_empty()).then_some(roots))
}

fn read_roots(path: &Path) -> Result<AttestationCaList, RootError> {
    let fail = |detail: String| RootError {
        path: path.to_path_buf(),
        detail,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let certificates =
        X509::stack_from_pem(&pem).map_err(|e| fail(format!("not PEM certificates ({e})")))?;
    if certificates.is_empty() {
        return Err(fail("holds no certificate".into()));
    }
    let mut roots = AttestationCaList::default();
    for certificate in certificates {
        let one = certificate
            .to_pem()
            .and_then(|pem| AttestationCaList::try_from(pem.as_slice()))
            .map_err(|e| fail(format!("not a usable certificate ({e})")))?;
        roots.union(&one);
    }
    Ok(roots)
}

impl RelyingParty {
    /// ID = host of `base_url`, origin = `base_url`, name = the organization's display name;
    /// the AAL3 roots read from `aal3_roots` (checked by `Config::load` already: a file that
    /// went bad since is logged, and then nothing is AAL3).
    pub fn new(base_url: &str, name: &str, aal3_roots: &[PathBuf]) -> RelyingParty {
        let webauthn = Url::parse(base_url).ok().and_then(|origin| {
            let id = origin.domain()?.to_string();
            WebauthnBuilder::new(&id, &origin)
                .ok()?
                .rp_name(name)
                .build()
                .ok()
        });
        if webauthn.is_none() {
            tracing::warn!("base_url has no domain name: security keys are unavailable");
        }
        let aal3_roots = load_aal3_roots(aal3_roots).unwrap_or_else(|e| {
            tracing::error!(error = %e, "an AAL3 attestation root cannot be read: no AAL3");
            None
        });
        RelyingParty {
            webauthn,
            aal3_roots,
        }
    }

    /// The WebAuthn service, when a ceremony can run.
    pub fn webauthn(&self) -> Option<&Webauthn> {
        self.webauthn.as_ref()
    }

    pub fn is_available(&self) -> bool {
        self.webauthn.is_some()
    }

    /// The roots an attestation must chain to for AAL3, when keys can be used at all.
    pub fn aal3_roots(&self) -> Option<&AttestationCaList> {
        self.aal3_roots.as_ref().filter(|_| self.is_available())
    }

    /// Some key could sign in at AAL3 here (SPEC 18).
    pub fn offers_aal3(&self) -> bool {
        self.aal3_roots().is_some()
    }
}
