//! The options of `sp add`, `sp update` and `sp import-metadata`, applied to an `SpRecord`.
//! Given options replace the record's values; an empty string clears an optional URL or name.

use std::path::PathBuf;

use clap::Args;

use crate::registry::SpRecord;

#[derive(Debug, Clone, Default, Args)]
pub struct SpFields {
    /// Assertion Consumer Service URL (repeat for several; the first is the default).
    #[arg(long = "acs-url", value_name = "URL")]
    pub acs_urls: Vec<String>,
    #[arg(long, value_name = "URL")]
    pub logout_url: Option<String>,
    /// PEM certificate file (repeat for several; tried in order).
    #[arg(long = "cert", value_name = "FILE")]
    pub certs: Vec<PathBuf>,
    /// 1 (auth-only) or 2 (verified identity).
    #[arg(long)]
    pub ial: Option<u8>,
    /// 2 (MFA every time) or 3 (phishing-resistant); absent: MFA, remembered browser allowed.
    #[arg(long)]
    pub default_aal: Option<u8>,
    /// Attribute bundle, comma-separated (e.g. email,all_emails,locale).
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub attributes: Option<Vec<String>>,
    /// none, aes256-cbc (default), aes128-gcm or aes256-gcm.
    #[arg(long, value_name = "ALG")]
    pub block_encryption: Option<String>,
    /// Sign the Response as well as the Assertion.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub sign_response: Option<bool>,
    /// Reject unsigned AuthnRequests from this SP.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub require_signed_requests: Option<bool>,
    /// Allow the emailAddress NameID format.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub email_nameid: Option<bool>,
    /// Allow IALMAX (needs --ial 2).
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub ialmax_allowed: Option<bool>,
    #[arg(long, value_name = "NAME")]
    pub agency: Option<String>,
    #[arg(long, value_name = "URL")]
    pub return_to_sp_url: Option<String>,
    #[arg(long, value_name = "URL")]
    pub failure_to_proof_url: Option<String>,
    #[arg(long, value_name = "TEXT")]
    pub friendly_name: Option<String>,
    /// Registered but not in service ("This agency no longer uses this service").
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub inactive: Option<bool>,
}

fn set_optional(target: &mut Option<String>, value: Option<String>) {
    if let Some(v) = value {
        *target = (!v.is_empty()).then_some(v);
    }
}

fn set<T>(target: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *target = v;
    }
}

impl SpFields {
    /// Applies the given options; certificate paths stay paths (validation reads them).
    pub fn apply(self, r: &mut SpRecord) {
        if !self.acs_urls.is_empty() {
            r.acs_urls = self.acs_urls;
        }
        if !self.certs.is_empty() {
            r.certs = self.certs.iter().map(|p| p.display().to_string()).collect();
        }
        set_optional(&mut r.logout_url, self.logout_url);
        set_optional(&mut r.agency, self.agency);
        set_optional(&mut r.return_to_sp_url, self.return_to_sp_url);
        set_optional(&mut r.failure_to_proof_url, self.failure_to_proof_url);
        set_optional(&mut r.friendly_name, self.friendly_name);
        if self.ial.is_some() {
            r.ial = self.ial;
        }
        if self.default_aal.is_some() {
            r.default_aal = self.default_aal;
        }
        if self.block_encryption.is_some() {
            r.block_encryption = self.block_encryption;
        }
        set(
            &mut r.attribute_bundle,
            self.attributes
                .map(|v| v.into_iter().filter(|a| !a.is_empty()).collect()),
        );
        set(&mut r.signed_response_message_requested, self.sign_response);
        set(&mut r.require_signed_requests, self.require_signed_requests);
        set(&mut r.email_nameid_format_allowed, self.email_nameid);
        set(&mut r.ialmax_allowed, self.ialmax_allowed);
        set(&mut r.active, self.inactive.map(|inactive| !inactive));
    }
}
