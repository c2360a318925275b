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
    /// The stored version (SPEC 19): 1 when added, one more at every write; 0 for an SP not
    /// read from a store. `SpRegistry::update` writes only over this version.
    pub version: i64,
}

impl ServiceProvider {
    /// The SP's identifier in the console's and the API's URLs (SPEC 19): its issuer,
    /// base64url without padding, so that any issuer fits one path segment. Clients treat it
    /// as opaque; it stays the same as long as the issuer does (issuers never change).
    pub fn public_id(&self) -> String {
        public_id(&self.issuer)
    }

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

/// The console identifier of `issuer` (see [`ServiceProvider::public_id`]).
pub fn public_id(issuer: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(issuer.as_bytes())
}

/// The issuer a console identifier names; `None` for text that is not one.
pub fn issuer_of_public_id(id: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.as_bytes())
        .ok()?;
    String::from_utf8(bytes).ok()
}
