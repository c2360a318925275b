//! The demo SP itself: its identity, key and registration record.

use std::path::{Path, PathBuf};

use openssl::pkey::PKey;

use crate::config::SigningKeyConfig;
use crate::crypto::cert::Certificate;
use crate::crypto::dev_keys::{self, DevKeyOutcome, Validity};
use crate::crypto::keyring::SigningKey;
use crate::registry::SpRecord;
use crate::saml::SamlYear;

use super::error::DemoSpError;
use super::idp_view::IdpView;

/// The path under `base_url` where the demo SP lives.
pub const PATH: &str = "/demo-sp";

/// The demo SP: its identity and key, and what it knows of the IdP.
pub struct DemoSp {
    pub issuer: String,
    pub acs_url: String,
    pub logout_url: String,
    pub home_url: String,
    pub(super) key: SigningKey,
    pub idp: IdpView,
}

impl std::fmt::Debug for DemoSp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DemoSp({})", self.issuer)
    }
}

impl DemoSp {
    /// The demo SP of the IdP at `base_url`, with `key`, reading the IdP's `metadata`.
    pub fn new(base_url: &str, key: SigningKey, metadata: &[u8]) -> Result<DemoSp, DemoSpError> {
        let home = format!("{base_url}{PATH}");
        Ok(DemoSp {
            acs_url: format!("{home}/acs"),
            logout_url: format!("{home}/slo"),
            home_url: format!("{home}/"),
            issuer: home,
            key,
            idp: IdpView::from_metadata(metadata)?,
        })
    }

    /// How the demo SP is registered: signed requests required, a signed Response with an
    /// encrypted, signed assertion, up to IAL2, the attributes every account has.
    pub fn record(&self) -> SpRecord {
        SpRecord {
            issuer: self.issuer.clone(),
            friendly_name: Some("Demo SP".into()),
            agency: Some("Demo agency".into()),
            active: true,
            acs_urls: vec![self.acs_url.clone()],
            logout_url: Some(self.logout_url.clone()),
            certs: vec![self.key.certificate().to_pem()],
            block_encryption: Some("aes256-gcm".into()),
            signed_response_message_requested: true,
            require_signed_requests: true,
            ial: Some(2),
            default_aal: None,
            attribute_bundle: ["email", "all_emails", "locale", "ial", "aal"]
                .map(String::from)
                .to_vec(),
            email_nameid_format_allowed: false,
            ialmax_allowed: false,
            return_to_sp_url: Some(self.home_url.clone()),
            failure_to_proof_url: None,
            created_at: None,
            updated_at: None,
        }
    }

    pub fn certificate(&self) -> &Certificate {
        self.key.certificate()
    }
}

/// Where the demo SP's development key and certificate live under the data directory.
fn key_files(data_dir: &Path, year: SamlYear) -> SigningKeyConfig {
    let mut config = dev_keys::config_for(data_dir, year);
    config.certificate = sibling(&config.certificate, "demo-sp.crt");
    config.private_key = sibling(&config.private_key, "demo-sp.key");
    config
}

fn sibling(path: &Path, name: &str) -> PathBuf {
    path.with_file_name(name)
}

/// The demo SP's development key, created like the signing keys on first use (RSA-2048,
/// self-signed, valid from 1 January of `year` for three years).
pub fn ensure_key(
    data_dir: &Path,
    year: SamlYear,
) -> Result<(SigningKey, DevKeyOutcome), DemoSpError> {
    let files = key_files(data_dir, year);
    let outcome = if files.certificate.exists() && files.private_key.exists() {
        DevKeyOutcome::Reused(files.certificate.clone())
    } else {
        if let Some(dir) = files.certificate.parent() {
            std::fs::create_dir_all(dir).map_err(|e| DemoSpError::Key(e.to_string()))?;
        }
        let validity = Validity {
            not_before: format!("{year}0101000000Z"),
            not_after: format!("{}0101000000Z", year.value() + 3),
        };
        let name = "saml-idp demo SP (development only)";
        dev_keys::write_pair(&files, name, &validity, false)
            .map_err(|e| DemoSpError::Key(e.to_string()))?;
        DevKeyOutcome::Created(files.certificate.clone())
    };
    let read = |path: &Path| std::fs::read(path).map_err(|e| DemoSpError::Key(e.to_string()));
    let certificate = Certificate::from_pem(&read(&files.certificate)?)
        .map_err(|e| DemoSpError::Key(e.to_string()))?;
    let private_key = PKey::private_key_from_pem(&read(&files.private_key)?)
        .map_err(|e| DemoSpError::Key(e.to_string()))?;
    let key = SigningKey::new(year, certificate, private_key)
        .ok_or_else(|| DemoSpError::Key("the key does not match its certificate".into()))?;
    Ok((key, outcome))
}
