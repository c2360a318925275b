//! A registered service provider, validated: every value here has passed `validate`.

use chrono::{DateTime, Utc};

use crate::crypto::Certificate;

/// `block_encryption` (SPEC 8): how assertions to this SP are encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockEncryption {
    None,
    #[default]
    Aes256Cbc,
    Aes128Gcm,
    Aes256Gcm,
}

const BLOCK_ENCRYPTION_NAMES: &[(BlockEncryption, &str)] = &[
    (BlockEncryption::None, "none"),
    (BlockEncryption::Aes256Cbc, "aes256-cbc"),
    (BlockEncryption::Aes128Gcm, "aes128-gcm"),
    (BlockEncryption::Aes256Gcm, "aes256-gcm"),
];

impl BlockEncryption {
    pub fn as_str(self) -> &'static str {
        BLOCK_ENCRYPTION_NAMES
            .iter()
            .find(|(b, _)| *b == self)
            .map(|(_, n)| *n)
            .unwrap_or("aes256-cbc")
    }

    pub fn parse(name: &str) -> Option<Self> {
        BLOCK_ENCRYPTION_NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(b, _)| *b)
    }

    pub fn names() -> impl Iterator<Item = &'static str> {
        BLOCK_ENCRYPTION_NAMES.iter().map(|(_, n)| *n)
    }
}

#[derive(Debug, Clone)]
pub struct ServiceProvider {
    pub issuer: String,
    pub friendly_name: String,
    /// SPs of one agency share the user's persistent UUID; none = its own agency.
    pub agency: Option<String>,
    pub active: bool,
    /// Registered Assertion Consumer Service URLs, in order; the first is the default.
    pub acs_urls: Vec<String>,
    pub logout_url: Option<String>,
    /// Registered certificates, in the order signatures are tried.
    pub certs: Vec<Certificate>,
    pub block_encryption: BlockEncryption,
    pub signed_response_message_requested: bool,
    pub require_signed_requests: bool,
    /// 1 (auth-only) or 2 (verified identity).
    pub ial: u8,
    /// None: MFA with a remembered browser; 2: MFA every time; 3: phishing-resistant.
    pub default_aal: Option<u8>,
    pub attribute_bundle: Vec<String>,
    pub email_nameid_format_allowed: bool,
    pub ialmax_allowed: bool,
    pub return_to_sp_url: Option<String>,
    pub failure_to_proof_url: Option<String>,
    /// Set by the store.
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ServiceProvider {
    /// The key under which users get one persistent UUID (SPEC, "Agency UUID"): the agency,
    /// or the SP itself when it has none. Tagged so an agency named like an issuer cannot
    /// share an SP's identifiers.
    pub fn agency_key(&self) -> String {
        match &self.agency {
            Some(agency) => format!("agency:{agency}"),
            None => format!("sp:{}", self.issuer),
        }
    }
}
