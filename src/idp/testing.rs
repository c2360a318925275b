//! A database-free harness for the use-case tests: the in-memory stores, the TEST-ONLY
//! fixture key of 2026, one SP registered in memory, a frozen clock and sequential ids.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::relying_party::RelyingParty;
use super::token::{Token, TokenHash};
use super::{Deps, SpCache};
use crate::accounts::sealing::AccountCrypto;
use crate::accounts::{AccountStore, EmailRecord, NewUser};
use crate::clock::FixedClock;
use crate::config::SigningKeyConfig;
use crate::crypto::KeyRing;
use crate::ids::SequentialIds;
use crate::mail::{Mail, MailError, Mailer};
use crate::registry::{validate, SpRecord, SpRegistry};
use crate::saml::codec::Limits;
use crate::saml::SamlYear;
use crate::sessions::{
    AuditEvent, AuditLog, IdentityStore, MfaMethod, SessionRecord, SessionStore,
};
use crate::store::memory::MemoryStores;

/// `{base_url}/api/saml` of the test server.
pub const ENTITY_ID: &str = "https://idp.test.example.gov/api/saml";
/// A registered SP: unsigned requests allowed, no encryption, releases `email`.
pub const SP: &str = "urn:test:sp:open";
pub const ACS_URL: &str = "https://sp.example.gov/acs";
pub const LOGOUT_URL: &str = "https://sp.example.gov/logout";
/// A registered SP that requires signed requests.
pub const SIGNED_SP: &str = "urn:test:sp:signed";
/// The data key of the test suite (TEST-ONLY).
const TEST_DATA_KEY: &str = "dGVzdC1vbmx5IGRhdGEga2V5IG5vdCBmb3IgdXNlISE=";

/// 2026-03-15T12:00:00Z, inside the validity of the 2026 test key.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
        .single()
        .expect("a valid date")
}

pub fn year() -> SamlYear {
    SamlYear::new(2026).expect("2026 is a four-digit year")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A mailer that keeps the kind of every mail it was asked to send.
#[derive(Default)]
pub struct RecordingMailer(pub Mutex<Vec<&'static str>>);

impl Mailer for RecordingMailer {
    fn send(&self, _to: &[String], mail: &Mail, _locale: &str) -> Result<(), MailError> {
        self.0.lock().expect("mailer lock").push(mail.kind());
        Ok(())
    }
}

pub struct Harness {
    pub stores: MemoryStores,
    pub crypto: AccountCrypto,
    pub keys: KeyRing,
    pub sps: SpCache,
    pub relying_party: RelyingParty,
    pub ids: SequentialIds,
    pub mailer: RecordingMailer,
    pub limits: Limits,
    pub now: DateTime<Utc>,
}

impl Harness {
    pub fn new() -> Harness {
        crate::crypto::xmlsec_ffi::init();
        let now = now();
        let stores = MemoryStores::new(Arc::new(FixedClock(now)));
        let dir = fixtures();
        let records = [
            SpRecord {
                issuer: SP.into(),
                friendly_name: Some("Open test SP".into()),
                agency: Some("Test Agency".into()),
                active: true,
                acs_urls: vec![ACS_URL.into()],
                logout_url: Some(LOGOUT_URL.into()),
                block_encryption: Some("none".into()),
                attribute_bundle: vec!["email".into()],
                ..SpRecord::default()
            },
            SpRecord {
                issuer: SIGNED_SP.into(),
                agency: Some("Test Agency".into()),
                active: true,
                acs_urls: vec!["https://signed.example.gov/acs".into()],
                logout_url: Some("https://signed.example.gov/logout".into()),
                certs: vec!["keys/sp2-test-only.crt".into()],
                block_encryption: Some("none".into()),
                require_signed_requests: true,
                attribute_bundle: vec!["email".into()],
                ..SpRecord::default()
            },
        ];
        for record in &records {
            let sp = validate(record, &dir).expect("the test SP is valid");
            stores
                .registry
                .add(&sp)
                .expect("the memory registry adds the SP");
        }
        let sps = SpCache::new(stores.registry.clone());
        sps.refresh().expect("the memory registry lists its SPs");
        let key = |name: &str| dir.join("keys").join(name);
        let keys = KeyRing::load(&[SigningKeyConfig {
            year: year(),
            certificate: key("idp-2026-test-only.crt"),
            private_key: key("idp-2026-test-only.key"),
            passphrase_env: None,
        }])
        .expect("the TEST-ONLY 2026 key loads");
        Harness {
            stores,
            crypto: AccountCrypto::new(TEST_DATA_KEY).expect("the test data key is valid"),
            keys,
            sps,
            relying_party: RelyingParty::new("http://127.0.0.1:8080", "Test", &[]),
            ids: SequentialIds::default(),
            mailer: RecordingMailer::default(),
            limits: Limits::default(),
            now,
        }
    }

    pub fn deps(&self) -> Deps<'_> {
        let s = &self.stores;
        Deps {
            accounts: s.accounts.as_ref(),
            crypto: &self.crypto,
            sessions: s.sessions.as_ref(),
            identities: s.sessions.as_ref(),
            signed_in: s.sessions.as_ref(),
            audit: s.sessions.as_ref(),
            limiter: s.sessions.as_ref(),
            replay: s.sessions.as_ref(),
            tokens: s.tokens.as_ref(),
            security_keys: s.security_keys.as_ref(),
            relying_party: &self.relying_party,
            pending: s.pending.as_ref(),
            sps: &self.sps,
            keys: &self.keys,
            ids: &self.ids,
            entity_id: ENTITY_ID,
            base_url: "https://idp.test.example.gov",
            lock_seconds: &crate::config::DEFAULT_LOCK_SECONDS,
            mailer: &self.mailer,
            client: None,
            now: self.now,
        }
    }

    /// Every audit event, oldest first.
    /// The only audit event so far is a refusal of `kind` naming no issuer, whose codes
    /// include `code`.
    pub fn assert_one_refusal(&self, kind: crate::sessions::AuditKind, code: &str) {
        let events = self.audit();
        assert_eq!(events.len(), 1, "{events:?}");
        let e = &events[0];
        assert_eq!(e.event, kind);
        assert!(!e.success);
        assert_eq!(
            e.issuer, None,
            "an unknown or refused issuer is never recorded"
        );
        let codes = e.detail.as_deref().unwrap_or_default();
        assert!(codes.split(',').any(|c| c == code), "{e:?}");
    }

    pub fn audit(&self) -> Vec<AuditEvent> {
        let mut events = self
            .stores
            .sessions
            .recent(1000)
            .expect("the audit log reads");
        events.reverse();
        events
    }

    /// An active user with one sign-in address; returns the user's id.
    pub fn user(&self, email: &str) -> i64 {
        let (normalized, lookup) = self.crypto.email_lookup(email).expect("a valid address");
        let sealed = self
            .crypto
            .seal_email(&normalized, &lookup)
            .expect("the address seals");
        let user = NewUser {
            public_id: format!("public-{lookup}"),
            password_hash: "not-a-real-hash".into(),
            totp_secret_sealed: None,
            locale: "en".into(),
            emails: vec![EmailRecord {
                lookup,
                sealed,
                for_sign_in: true,
            }],
            backup_code_hashes: vec![],
            verified_profile_sealed: None,
            verified_at: None,
            piv_record_sealed: None,
        };
        self.stores
            .accounts
            .create(&user, self.now - Duration::days(1))
            .expect("the user is created")
    }

    /// A browser session of `user_id` past the password and the second factor (5 minutes
    /// ago); returns the hash the browser's cookie names.
    pub fn signed_in(&self, user_id: i64) -> TokenHash {
        let token = Token::from_browser(&format!("session-of-{user_id}"));
        let at = self.now - Duration::minutes(5);
        let record = SessionRecord {
            token_hash: token.hash().into(),
            user_id: Some(user_id),
            csrf_token: "csrf".into(),
            password_at: Some(at),
            mfa_at: Some(at),
            mfa_method: Some(MfaMethod::Totp),
            created_at: at,
            last_seen_at: at,
            expires_at: self.now + Duration::hours(12),
            failed_attempts: 0,
        };
        self.stores
            .sessions
            .create(&record)
            .expect("the session is stored");
        token.hash()
    }

    /// The user agrees to release `attributes` to `issuer`.
    pub fn consent(&self, user_id: i64, issuer: &str, attributes: &[&str]) {
        let attributes: Vec<String> = attributes.iter().map(|a| a.to_string()).collect();
        self.stores
            .sessions
            .save_consent(user_id, issuer, &attributes, self.now - Duration::days(1))
            .expect("the consent is stored");
    }

    /// Rows of one in-memory table.
    pub fn rows(&self, table: &str) -> usize {
        self.stores
            .row_counts()
            .into_iter()
            .find(|(name, _)| *name == table)
            .map(|(_, n)| n)
            .expect("a known table")
    }
}

/// An AuthnRequest to `{ENTITY_ID}/auth2026`, issued now; `extra` goes into the root's
/// attributes (`IsPassive="true"`, …).
pub fn authn_request(id: &str, issuer: &str, extra: &str) -> String {
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-03-15T12:00:00Z" Destination="{ENTITY_ID}/auth2026" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" {extra}><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" AllowCreate="true"/><samlp:RequestedAuthnContext Comparison="exact"><saml:AuthnContextClassRef>urn:acr.login.gov:auth-only</saml:AuthnContextClassRef></samlp:RequestedAuthnContext></samlp:AuthnRequest>"#
    )
}

/// A LogoutRequest to `{ENTITY_ID}/{path}2026`, issued now, unsigned.
pub fn logout_request(id: &str, issuer: &str, path: &str, session_index: &str) -> String {
    format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-03-15T12:00:00Z" Destination="{ENTITY_ID}/{path}2026"><saml:Issuer>{issuer}</saml:Issuer><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{session_index}</saml:NameID><samlp:SessionIndex>{session_index}</samlp:SessionIndex></samlp:LogoutRequest>"#
    )
}

/// An active IAL2 SP `urn:sp` (ACS `https://sp.example.gov/acs`) releasing `bundle`.
pub fn ial2_sp(bundle: &[&str]) -> crate::registry::ServiceProvider {
    let record = SpRecord {
        issuer: "urn:sp".into(),
        acs_urls: vec!["https://sp.example.gov/acs".into()],
        attribute_bundle: bundle.iter().map(|s| s.to_string()).collect(),
        ial: Some(2),
        active: true,
        ..Default::default()
    };
    validate(&record, Path::new(".")).expect("a valid SP")
}

/// The AuthnContext `values` ask of an SP with `policy`.
pub fn authn_context(
    values: &[&str],
    policy: &crate::saml::authn_context::SpPolicy,
) -> crate::saml::authn_context::AuthnContext {
    let values: Vec<String> = values.iter().map(|s| s.to_string()).collect();
    crate::saml::authn_context::parse(&values, None, policy).expect("an accepted context")
}

/// The policy of [`ial2_sp`]: IAL2 allowed, no default AAL, no IALMAX, no facial match.
pub const IAL2_POLICY: crate::saml::authn_context::SpPolicy =
    crate::saml::authn_context::SpPolicy {
        ial: 2,
        default_aal: None,
        ialmax_allowed: false,
        facial_match_enabled: false,
    };

/// A pending request of `urn:sp` asking `context`, received at `at`.
pub fn pending_request(
    context: crate::saml::authn_context::AuthnContext,
    force_authn: bool,
    is_passive: bool,
    at: DateTime<Utc>,
) -> crate::idp::sso::pending::PendingRequest {
    crate::idp::sso::pending::PendingRequest {
        issuer: "urn:sp".into(),
        request_id: "_r".into(),
        year: 2026,
        acs_url: "https://sp.example.gov/acs".into(),
        relay_state: None,
        authn_context: context,
        email_name_id: false,
        force_authn,
        is_passive,
        matching_certificate: None,
        received_at: at,
    }
}
