//! The text form of a service provider: what `sp import FILE.toml` reads and `sp show`
//! prints, so a shown SP can be imported again. Certificates are inline PEM or paths.

use serde::{Deserialize, Serialize};

use super::service_provider::ServiceProvider;

/// A TOML file of SPs: `[[service_provider]]` tables.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordFile {
    #[serde(default)]
    pub service_provider: Vec<SpRecord>,
}

/// One SP as written by a person; `validate` turns it into a `ServiceProvider`. The same
/// fields are the console API's JSON (its schema derived here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpRecord {
    pub issuer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub friendly_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub acs_urls: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logout_url: Option<String>,
    /// Inline PEM (`-----BEGIN CERTIFICATE-----…`) or a path relative to the file.
    #[serde(default)]
    pub certs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_encryption: Option<String>,
    #[serde(default)]
    pub signed_response_message_requested: bool,
    #[serde(default)]
    pub require_signed_requests: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ial: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_aal: Option<u8>,
    #[serde(default)]
    pub attribute_bundle: Vec<String>,
    #[serde(default)]
    pub email_nameid_format_allowed: bool,
    #[serde(default)]
    pub ialmax_allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_to_sp_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_to_proof_url: Option<String>,
    /// Written by `sp show`, ignored on import (the store keeps its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

impl SpRecord {
    /// What an SP's metadata says, over this record: its ACS URLs and certificates replace
    /// the record's, its logout URL and name when it gives them; an SP that says it signs its
    /// requests gets them required (re-importing never relaxes that).
    pub fn apply_metadata(&mut self, metadata: &crate::saml::sp_metadata::SpMetadata) {
        self.acs_urls.clone_from(&metadata.acs_urls);
        self.certs.clone_from(&metadata.certificates_pem);
        if metadata.logout_url.is_some() {
            self.logout_url.clone_from(&metadata.logout_url);
        }
        if metadata.friendly_name.is_some() {
            self.friendly_name.clone_from(&metadata.friendly_name);
        }
        self.require_signed_requests |= metadata.authn_requests_signed;
    }
}

fn yes() -> bool {
    true
}

impl From<&ServiceProvider> for SpRecord {
    fn from(sp: &ServiceProvider) -> Self {
        SpRecord {
            issuer: sp.issuer.clone(),
            friendly_name: Some(sp.friendly_name.clone()),
            agency: sp.agency.clone(),
            active: sp.active,
            acs_urls: sp.acs_urls.clone(),
            logout_url: sp.logout_url.clone(),
            certs: sp.certs.iter().map(|c| c.to_pem()).collect(),
            block_encryption: Some(sp.block_encryption.as_str().to_string()),
            signed_response_message_requested: sp.signed_response_message_requested,
            require_signed_requests: sp.require_signed_requests,
            ial: Some(sp.ial),
            default_aal: sp.default_aal,
            attribute_bundle: sp.attribute_bundle.clone(),
            email_nameid_format_allowed: sp.email_nameid_format_allowed,
            ialmax_allowed: sp.ialmax_allowed,
            return_to_sp_url: sp.return_to_sp_url.clone(),
            failure_to_proof_url: sp.failure_to_proof_url.clone(),
            created_at: sp.created_at.map(|t| t.to_rfc3339()),
            updated_at: sp.updated_at.map(|t| t.to_rfc3339()),
        }
    }
}
