//! The WebAuthn relying party this server is (SPEC 18): its ID is the host of `base_url`,
//! its origin `base_url`, its name the organization's display name.

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// The relying party this server is: `None` inside when `base_url`'s host is not a domain
/// name (an IP address is not a valid RP ID), and then no ceremony can start.
pub struct RelyingParty {
    webauthn: Option<Webauthn>,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RelyingParty(available: {})", self.webauthn.is_some())
    }
}

impl RelyingParty {
    /// ID = host of `base_url`, origin = `base_url`, name = the organization's display name.
    pub fn new(base_url: &str, name: &str) -> RelyingParty {
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
        RelyingParty { webauthn }
    }

    /// The WebAuthn service, when a ceremony can run.
    pub fn webauthn(&self) -> Option<&Webauthn> {
        self.webauthn.as_ref()
    }

    pub fn is_available(&self) -> bool {
        self.webauthn.is_some()
    }
}
