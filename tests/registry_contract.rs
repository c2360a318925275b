//! The `SpRegistry` storage contract, checked against every backend (SQLite always,
//! PostgreSQL when `TEST_DATABASE_URL` is set): round trips, errors, ordering, revisions,
//! and an `SpCache` noticing writes made through another registry instance.
mod common;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use saml_idp::clock::FixedClock;
use saml_idp::idp::sp_cache::Refresh;
use saml_idp::idp::SpCache;
use saml_idp::registry::{
    validate, BlockEncryption, RegistryError, ServiceProvider, SpRecord, SpRegistry, UpsertCounts,
};
use saml_idp::store::{Database, DieselSpRegistry};

fn keys_dir() -> PathBuf {
    common::fixture("keys")
}

/// The instant `common::registry` stamps writes with.
fn registry_now() -> DateTime<Utc> {
    common::clock().now()
}

fn minimal_record(issuer: &str) -> SpRecord {
    SpRecord {
        issuer: issuer.into(),
        active: true,
        acs_urls: vec![format!("https://{}.example.gov/acs", slug(issuer))],
        certs: vec!["sp1-test-only.crt".into()],
        ..SpRecord::default()
    }
}

/// Every field set to something other than its default.
fn full_record(issuer: &str) -> SpRecord {
    SpRecord {
        issuer: issuer.into(),
        friendly_name: Some("Full Test Application".into()),
        agency: Some("Test Agency".into()),
        active: false,
        acs_urls: vec![
            "https://full.example.gov/saml/acs".into(),
            "https://full.example.gov/saml/acs/second".into(),
        ],
        logout_url: Some("https://full.example.gov/saml/logout".into()),
        certs: vec![
            "sp1-test-only.crt".into(),
            "sp1-second-test-only.crt".into(),
        ],
        block_encryption: Some("aes256-gcm".into()),
        signed_response_message_requested: true,
        require_signed_requests: true,
        ial: Some(2),
        default_aal: Some(3),
        attribute_bundle: vec!["email".into(), "first_name".into(), "ssn".into()],
        email_nameid_format_allowed: true,
        ialmax_allowed: true,
        return_to_sp_url: Some("https://full.example.gov/return".into()),
        failure_to_proof_url: Some("https://full.example.gov/failed".into()),
        created_at: None,
        updated_at: None,
    }
}

fn slug(issuer: &str) -> String {
    issuer
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn sp(record: &SpRecord) -> ServiceProvider {
    validate(record, &keys_dir()).expect("test record is valid")
}

fn minimal(issuer: &str) -> ServiceProvider {
    sp(&minimal_record(issuer))
}

/// Everything an SP holds except the store's timestamps, comparable with `==`. Destructured
/// without `..` so that a new field of `ServiceProvider` must be added here too.
#[derive(Debug, PartialEq)]
struct Fields {
    issuer: String,
    friendly_name: String,
    agency: Option<String>,
    active: bool,
    acs_urls: Vec<String>,
    logout_url: Option<String>,
    certs_der: Vec<Vec<u8>>,
    block_encryption: BlockEncryption,
    signed_response_message_requested: bool,
    require_signed_requests: bool,
    ial: u8,
    default_aal: Option<u8>,
    attribute_bundle: Vec<String>,
    email_nameid_format_allowed: bool,
    ialmax_allowed: bool,
    return_to_sp_url: Option<String>,
    failure_to_proof_url: Option<String>,
}

fn fields(sp: &ServiceProvider) -> Fields {
    let ServiceProvider {
        issuer,
        friendly_name,
        agency,
        active,
        acs_urls,
        logout_url,
        certs,
        block_encryption,
        signed_response_message_requested,
        require_signed_requests,
        ial,
        default_aal,
        attribute_bundle,
        email_nameid_format_allowed,
        ialmax_allowed,
        return_to_sp_url,
        failure_to_proof_url,
        created_at: _,
        updated_at: _,
    } = sp.clone();
    Fields {
        issuer,
        friendly_name,
        agency,
        active,
        acs_urls,
        logout_url,
        certs_der: certs
            .iter()
            .map(|c| c.x509().to_der().expect("der"))
            .collect(),
        block_encryption,
        signed_response_message_requested,
        require_signed_requests,
        ial,
        default_aal,
        attribute_bundle,
        email_nameid_format_allowed,
        ialmax_allowed,
        return_to_sp_url,
        failure_to_proof_url,
    }
}

fn fixture_der(name: &str) -> Vec<u8> {
    let pem = std::fs::read(common::key(name)).expect("fixture certificate");
    openssl::x509::X509::from_pem(&pem)
        .and_then(|c| c.to_der())
        .expect("fixture certificate parses")
}

fn found(registry: &dyn SpRegistry, issuer: &str, backend: &str) -> ServiceProvider {
    registry
        .find(issuer)
        .unwrap_or_else(|e| panic!("{backend}: find {issuer}: {e}"))
        .unwrap_or_else(|| panic!("{backend}: {issuer} not found"))
}

fn revision(registry: &dyn SpRegistry, backend: &str) -> i64 {
    registry
        .revision()
        .unwrap_or_else(|e| panic!("{backend}: revision: {e}"))
}

/// A registry on the same database whose clock says `at`.
fn registry_at(db: &common::TestDb, at: DateTime<Utc>) -> Arc<dyn SpRegistry> {
    Arc::new(DieselSpRegistry::new(
        db.db.clone(),
        Arc::new(FixedClock(at)),
    ))
}

#[test]
fn add_then_find_returns_every_field() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        let record = full_record("urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:full");
        let expected = sp(&record);
        // The record really does differ from every default.
        assert!(!expected.active && expected.ial == 2 && expected.ialmax_allowed);
        assert_eq!(expected.block_encryption, BlockEncryption::Aes256Gcm);
        assert_ne!(expected.block_encryption, BlockEncryption::default());

        registry
            .add(&expected)
            .unwrap_or_else(|e| panic!("{backend}: add: {e}"));
        let stored = found(registry.as_ref(), &expected.issuer, backend);

        assert_eq!(fields(&stored), fields(&expected), "{backend}");
        assert_eq!(stored.created_at, Some(registry_now()), "{backend}");
        assert_eq!(stored.updated_at, Some(registry_now()), "{backend}");
    }
}

#[test]
fn find_of_an_unknown_issuer_is_none() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        registry.add(&minimal("urn:test:known")).expect("add");
        let result = registry.find("urn:test:unknown");
        assert!(matches!(result, Ok(None)), "{backend}: {result:?}");
    }
}

#[test]
fn adding_a_duplicate_issuer_fails_and_writes_nothing() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        let first = minimal("urn:test:dup");
        registry.add(&first).expect("first add");
        let before = revision(registry.as_ref(), backend);

        let mut second = sp(&full_record("urn:test:dup"));
        second.friendly_name = "The second one".into();
        assert_eq!(
            registry.add(&second),
            Err(RegistryError::Duplicate("urn:test:dup".into())),
            "{backend}"
        );

        assert_eq!(revision(registry.as_ref(), backend), before, "{backend}");
        let stored = found(registry.as_ref(), "urn:test:dup", backend);
        assert_eq!(fields(&stored), fields(&first), "{backend}");
        assert_eq!(registry.list().expect("list").len(), 1, "{backend}");
    }
}

#[test]
fn update_replaces_fields_and_keeps_created_at() {
    let later = Utc
        .with_ymd_and_hms(2026, 4, 1, 8, 30, 0)
        .single()
        .expect("time");
    for (backend, db) in common::every_backend() {
        let issuer = "urn:test:update";
        common::registry(&db).add(&minimal(issuer)).expect("add");

        let replacement = sp(&full_record(issuer));
        registry_at(&db, later)
            .update(&replacement)
            .unwrap_or_else(|e| panic!("{backend}: update: {e}"));

        let stored = found(common::registry(&db).as_ref(), issuer, backend);
        assert_eq!(fields(&stored), fields(&replacement), "{backend}");
        assert_eq!(stored.created_at, Some(registry_now()), "{backend}");
        assert_eq!(stored.updated_at, Some(later), "{backend}");
    }
}

#[test]
fn update_of_an_unknown_issuer_is_not_found() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        let before = revision(registry.as_ref(), backend);
        assert_eq!(
            registry.update(&minimal("urn:test:nobody")),
            Err(RegistryError::NotFound("urn:test:nobody".into())),
            "{backend}"
        );
        assert_eq!(revision(registry.as_ref(), backend), before, "{backend}");
        assert!(registry.list().expect("list").is_empty(), "{backend}");
    }
}

#[test]
fn remove_then_find_is_none() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        registry.add(&minimal("urn:test:gone")).expect("add");
        registry.add(&minimal("urn:test:stays")).expect("add");

        registry
            .remove("urn:test:gone")
            .unwrap_or_else(|e| panic!("{backend}: remove: {e}"));

        assert!(
            matches!(registry.find("urn:test:gone"), Ok(None)),
            "{backend}"
        );
        found(registry.as_ref(), "urn:test:stays", backend);
    }
}

#[test]
fn remove_of_an_unknown_issuer_is_not_found() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        registry.add(&minimal("urn:test:present")).expect("add");
        let before = revision(registry.as_ref(), backend);
        assert_eq!(
            registry.remove("urn:test:absent"),
            Err(RegistryError::NotFound("urn:test:absent".into())),
            "{backend}"
        );
        assert_eq!(revision(registry.as_ref(), backend), before, "{backend}");
        assert_eq!(registry.list().expect("list").len(), 1, "{backend}");
    }
}

#[test]
fn list_is_ordered_by_issuer() {
    let issuers = [
        "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:charlie",
        "https://bravo.example.gov/saml/metadata",
        "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:alpha",
        "https://alpha.example.gov/saml/metadata",
    ];
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        for issuer in issuers {
            registry.add(&minimal(issuer)).expect("add");
        }
        let listed: Vec<String> = registry
            .list()
            .unwrap_or_else(|e| panic!("{backend}: list: {e}"))
            .into_iter()
            .map(|sp| sp.issuer)
            .collect();
        let mut sorted: Vec<String> = issuers.iter().map(|s| s.to_string()).collect();
        sorted.sort();
        assert_eq!(listed, sorted, "{backend}");
    }
}

#[test]
fn upsert_all_creates_and_updates_in_one_go() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        registry.add(&minimal("urn:test:existing")).expect("add");

        let changed = sp(&full_record("urn:test:existing"));
        let new_one = minimal("urn:test:new-one");
        let new_two = sp(&full_record("urn:test:new-two"));
        let counts = registry
            .upsert_all(&[changed.clone(), new_one.clone(), new_two.clone()])
            .unwrap_or_else(|e| panic!("{backend}: upsert_all: {e}"));

        assert_eq!(
            counts,
            UpsertCounts {
                created: 2,
                updated: 1
            },
            "{backend}"
        );
        for expected in [&changed, &new_one, &new_two] {
            let stored = found(registry.as_ref(), &expected.issuer, backend);
            assert_eq!(fields(&stored), fields(expected), "{backend}");
        }
        assert_eq!(registry.list().expect("list").len(), 3, "{backend}");
    }
}

#[test]
fn every_successful_write_bumps_the_revision_by_one() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        let mut expected = revision(registry.as_ref(), backend);
        let mut check = |what: &str| {
            expected += 1;
            assert_eq!(
                revision(registry.as_ref(), backend),
                expected,
                "{backend}: after {what}"
            );
        };

        registry.add(&minimal("urn:test:rev:a")).expect("add");
        check("add");
        registry
            .update(&sp(&full_record("urn:test:rev:a")))
            .expect("update");
        check("update");
        registry
            .upsert_all(&[
                minimal("urn:test:rev:a"),
                minimal("urn:test:rev:b"),
                minimal("urn:test:rev:c"),
            ])
            .expect("upsert_all");
        check("upsert_all of three");
        registry.remove("urn:test:rev:b").expect("remove");
        check("remove");
    }
}

#[test]
fn certificate_order_is_preserved() {
    let order = [
        "sp2-test-only.crt",
        "sp1-test-only.crt",
        "sp1-second-test-only.crt",
    ];
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        let mut record = minimal_record("urn:test:certs");
        record.certs = order.iter().map(|s| s.to_string()).collect();
        registry.add(&sp(&record)).expect("add");

        let stored = found(registry.as_ref(), "urn:test:certs", backend);
        let expected: Vec<Vec<u8>> = order.iter().map(|n| fixture_der(n)).collect();
        assert_eq!(fields(&stored).certs_der, expected, "{backend}: after add");

        record.certs.reverse();
        registry.update(&sp(&record)).expect("update");
        let stored = found(registry.as_ref(), "urn:test:certs", backend);
        let reversed: Vec<Vec<u8>> = expected.into_iter().rev().collect();
        assert_eq!(
            fields(&stored).certs_der,
            reversed,
            "{backend}: after update"
        );
    }
}

#[test]
fn an_optional_field_cleared_by_update_is_stored_as_none() {
    for (backend, db) in common::every_backend() {
        let registry = common::registry(&db);
        let mut record = full_record("urn:test:clear");
        record.ialmax_allowed = false;
        registry.add(&sp(&record)).expect("add");

        record.agency = None;
        record.logout_url = None;
        record.default_aal = None;
        record.return_to_sp_url = None;
        record.failure_to_proof_url = None;
        registry.update(&sp(&record)).expect("update");

        let stored = found(registry.as_ref(), "urn:test:clear", backend);
        assert_eq!(stored.agency, None, "{backend}: agency");
        assert_eq!(stored.logout_url, None, "{backend}: logout_url");
        assert_eq!(stored.default_aal, None, "{backend}: default_aal");
        assert_eq!(stored.return_to_sp_url, None, "{backend}: return_to_sp_url");
        assert_eq!(
            stored.failure_to_proof_url, None,
            "{backend}: failure_to_proof_url"
        );
        assert_eq!(fields(&stored), fields(&sp(&record)), "{backend}");
    }
}

#[test]
fn sp_cache_sees_writes_of_another_registry_instance_after_refresh() {
    for (backend, db) in common::every_backend() {
        let cache = SpCache::new(common::registry(&db));
        assert_eq!(
            cache.refresh().expect("first refresh"),
            Refresh::Reloaded {
                revision: 0,
                count: 0
            },
            "{backend}"
        );
        assert_eq!(
            cache.refresh().expect("refresh"),
            Refresh::Unchanged,
            "{backend}: nothing changed"
        );

        // Its own pool on the same database, as another process would have.
        let other_db = Database::connect(&db.url).expect("second connection pool");
        let other = DieselSpRegistry::new(other_db, common::clock());
        other.add(&minimal("urn:test:cache:active")).expect("add");
        other
            .add(&sp(&full_record("urn:test:cache:inactive")))
            .expect("add");
        assert!(
            cache.get("urn:test:cache:active").is_none(),
            "{backend}: seen before refresh"
        );

        assert_eq!(
            cache.refresh().expect("refresh"),
            Refresh::Reloaded {
                revision: 2,
                count: 2
            },
            "{backend}"
        );
        let cached = cache
            .get("urn:test:cache:active")
            .unwrap_or_else(|| panic!("{backend}: not in the cache after refresh"));
        assert_eq!(
            fields(&cached),
            fields(&minimal("urn:test:cache:active")),
            "{backend}"
        );
        assert_eq!(cache.counts(), (1, 1), "{backend}");
        assert_eq!(
            cache.refresh().expect("refresh"),
            Refresh::Unchanged,
            "{backend}: nothing changed since"
        );
    }
}
