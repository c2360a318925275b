//! The `SpRegistry` storage contract, one function per behaviour, run on every
//! implementation (memory, SQLite, PostgreSQL when `TEST_DATABASE_URL` is set): round trips,
//! errors, ordering, revisions, and an `SpCache` noticing writes made through another node.
use crate::common;

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};

use common::stores::Stores;
use saml_idp::idp::sp_cache::Refresh;
use saml_idp::idp::SpCache;
use saml_idp::registry::{
    validate, BlockEncryption, RegistryError, ServiceProvider, SpRecord, SpRegistry, UpsertCounts,
};

common::stores::contract_tests! {
    add_then_find_returns_every_field(registry);
    find_of_an_unknown_issuer_is_none(registry);
    adding_a_duplicate_issuer_fails_and_writes_nothing(registry);
    update_replaces_fields_and_keeps_created_at(stores);
    update_of_an_unknown_issuer_is_not_found(registry);
    remove_then_find_is_none(registry);
    remove_of_an_unknown_issuer_is_not_found(registry);
    list_is_ordered_by_issuer(registry);
    upsert_all_creates_and_updates_in_one_go(registry);
    every_successful_write_bumps_the_revision_by_one(registry);
    certificate_order_is_preserved(registry);
    an_optional_field_cleared_by_update_is_stored_as_none(registry);
    sp_cache_sees_writes_of_another_node_after_refresh(stores);
    versions_start_at_one_and_every_write_adds_one(registry);
    a_stale_update_is_refused_and_changes_nothing(registry);
}

fn keys_dir() -> PathBuf {
    common::fixture("keys")
}

/// The instant the registries of `common::every_store` stamp writes with at first.
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
        version: _,
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

fn found(registry: &dyn SpRegistry, issuer: &str) -> ServiceProvider {
    registry
        .find(issuer)
        .unwrap_or_else(|e| panic!("find {issuer}: {e}"))
        .unwrap_or_else(|| panic!("{issuer} not found"))
}

/// `sp` at the version stored for its issuer (an update is written only over it).
fn at_stored(registry: &dyn SpRegistry, mut sp: ServiceProvider) -> ServiceProvider {
    sp.version = found(registry, &sp.issuer).version;
    sp
}

fn versions_start_at_one_and_every_write_adds_one(registry: &dyn SpRegistry) {
    let issuer = "urn:test:versions";
    registry.add(&minimal(issuer)).expect("add");
    assert_eq!(found(registry, issuer).version, 1);
    registry
        .update(&at_stored(registry, sp(&full_record(issuer))))
        .expect("update");
    assert_eq!(found(registry, issuer).version, 2);
    registry.upsert_all(&[minimal(issuer)]).expect("upsert");
    assert_eq!(
        found(registry, issuer).version,
        3,
        "an import is a write too"
    );
}

fn a_stale_update_is_refused_and_changes_nothing(registry: &dyn SpRegistry) {
    let issuer = "urn:test:stale";
    registry.add(&minimal(issuer)).expect("add");
    let first_reader = found(registry, issuer);
    let mut second_reader = found(registry, issuer);
    second_reader.friendly_name = "Second".into();
    registry
        .update(&second_reader)
        .expect("the first save wins");
    let before = revision(registry);
    let mut late = first_reader;
    late.friendly_name = "First".into();
    assert_eq!(
        registry.update(&late),
        Err(RegistryError::Stale(issuer.into()))
    );
    let stored = found(registry, issuer);
    assert_eq!(stored.friendly_name, "Second");
    assert_eq!(stored.version, 2);
    assert_eq!(revision(registry), before, "a refused write bumps nothing");
}

fn revision(registry: &dyn SpRegistry) -> i64 {
    registry.revision().expect("revision")
}

fn add_then_find_returns_every_field(registry: &dyn SpRegistry) {
    let record = full_record("urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:full");
    let expected = sp(&record);
    // The record really does differ from every default.
    assert!(!expected.active && expected.ial == 2 && expected.ialmax_allowed);
    assert_eq!(expected.block_encryption, BlockEncryption::Aes256Gcm);
    assert_ne!(expected.block_encryption, BlockEncryption::default());

    registry.add(&expected).expect("add");
    let stored = found(registry, &expected.issuer);

    assert_eq!(fields(&stored), fields(&expected));
    assert_eq!(stored.created_at, Some(registry_now()));
    assert_eq!(stored.updated_at, Some(registry_now()));
}

fn find_of_an_unknown_issuer_is_none(registry: &dyn SpRegistry) {
    registry.add(&minimal("urn:test:known")).expect("add");
    let result = registry.find("urn:test:unknown");
    assert!(matches!(result, Ok(None)), "{result:?}");
}

fn adding_a_duplicate_issuer_fails_and_writes_nothing(registry: &dyn SpRegistry) {
    let first = minimal("urn:test:dup");
    registry.add(&first).expect("first add");
    let before = revision(registry);

    let mut second = sp(&full_record("urn:test:dup"));
    second.friendly_name = "The second one".into();
    assert_eq!(
        registry.add(&second),
        Err(RegistryError::Duplicate("urn:test:dup".into()))
    );

    assert_eq!(revision(registry), before);
    let stored = found(registry, "urn:test:dup");
    assert_eq!(fields(&stored), fields(&first));
    assert_eq!(registry.list().expect("list").len(), 1);
}

fn update_replaces_fields_and_keeps_created_at(s: &Stores) {
    let later = Utc
        .with_ymd_and_hms(2026, 4, 1, 8, 30, 0)
        .single()
        .expect("time");
    let issuer = "urn:test:update";
    s.registry.add(&minimal(issuer)).expect("add");

    let replacement = sp(&full_record(issuer));
    s.clock.advance(later - registry_now());
    s.registry
        .update(&at_stored(s.registry(), replacement.clone()))
        .expect("update");

    let stored = found(s.registry(), issuer);
    assert_eq!(fields(&stored), fields(&replacement));
    assert_eq!(stored.created_at, Some(registry_now()));
    assert_eq!(stored.updated_at, Some(later));
}

fn update_of_an_unknown_issuer_is_not_found(registry: &dyn SpRegistry) {
    let before = revision(registry);
    assert_eq!(
        registry.update(&minimal("urn:test:nobody")),
        Err(RegistryError::NotFound("urn:test:nobody".into()))
    );
    assert_eq!(revision(registry), before);
    assert!(registry.list().expect("list").is_empty());
}

fn remove_then_find_is_none(registry: &dyn SpRegistry) {
    registry.add(&minimal("urn:test:gone")).expect("add");
    registry.add(&minimal("urn:test:stays")).expect("add");

    registry.remove("urn:test:gone").expect("remove");

    assert!(matches!(registry.find("urn:test:gone"), Ok(None)));
    found(registry, "urn:test:stays");
}

fn remove_of_an_unknown_issuer_is_not_found(registry: &dyn SpRegistry) {
    registry.add(&minimal("urn:test:present")).expect("add");
    let before = revision(registry);
    assert_eq!(
        registry.remove("urn:test:absent"),
        Err(RegistryError::NotFound("urn:test:absent".into()))
    );
    assert_eq!(revision(registry), before);
    assert_eq!(registry.list().expect("list").len(), 1);
}

fn list_is_ordered_by_issuer(registry: &dyn SpRegistry) {
    let issuers = [
        "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:charlie",
        "https://bravo.example.gov/saml/metadata",
        "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:alpha",
        "https://alpha.example.gov/saml/metadata",
    ];
    for issuer in issuers {
        registry.add(&minimal(issuer)).expect("add");
    }
    let listed: Vec<String> = registry
        .list()
        .expect("list")
        .into_iter()
        .map(|sp| sp.issuer)
        .collect();
    let mut sorted: Vec<String> = issuers.iter().map(|s| s.to_string()).collect();
    sorted.sort();
    assert_eq!(listed, sorted);
}

fn upsert_all_creates_and_updates_in_one_go(registry: &dyn SpRegistry) {
    registry.add(&minimal("urn:test:existing")).expect("add");

    let changed = sp(&full_record("urn:test:existing"));
    let new_one = minimal("urn:test:new-one");
    let new_two = sp(&full_record("urn:test:new-two"));
    let counts = registry
        .upsert_all(&[changed.clone(), new_one.clone(), new_two.clone()])
        .expect("upsert_all");

    let expected = UpsertCounts {
        created: 2,
        updated: 1,
    };
    assert_eq!(counts, expected);
    for expected in [&changed, &new_one, &new_two] {
        let stored = found(registry, &expected.issuer);
        assert_eq!(fields(&stored), fields(expected));
    }
    assert_eq!(registry.list().expect("list").len(), 3);
}

fn every_successful_write_bumps_the_revision_by_one(registry: &dyn SpRegistry) {
    let mut expected = revision(registry);
    let mut check = |what: &str| {
        expected += 1;
        assert_eq!(revision(registry), expected, "after {what}");
    };

    registry.add(&minimal("urn:test:rev:a")).expect("add");
    check("add");
    registry
        .update(&at_stored(registry, sp(&full_record("urn:test:rev:a"))))
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

fn certificate_order_is_preserved(registry: &dyn SpRegistry) {
    let order = [
        "sp2-test-only.crt",
        "sp1-test-only.crt",
        "sp1-second-test-only.crt",
    ];
    let mut record = minimal_record("urn:test:certs");
    record.certs = order.iter().map(|s| s.to_string()).collect();
    registry.add(&sp(&record)).expect("add");

    let stored = found(registry, "urn:test:certs");
    let expected: Vec<Vec<u8>> = order.iter().map(|n| fixture_der(n)).collect();
    assert_eq!(fields(&stored).certs_der, expected, "after add");

    record.certs.reverse();
    registry
        .update(&at_stored(registry, sp(&record)))
        .expect("update");
    let stored = found(registry, "urn:test:certs");
    let reversed: Vec<Vec<u8>> = expected.into_iter().rev().collect();
    assert_eq!(fields(&stored).certs_der, reversed, "after update");
}

fn an_optional_field_cleared_by_update_is_stored_as_none(registry: &dyn SpRegistry) {
    let mut record = full_record("urn:test:clear");
    record.ialmax_allowed = false;
    registry.add(&sp(&record)).expect("add");

    record.agency = None;
    record.logout_url = None;
    record.default_aal = None;
    record.return_to_sp_url = None;
    record.failure_to_proof_url = None;
    registry
        .update(&at_stored(registry, sp(&record)))
        .expect("update");

    let stored = found(registry, "urn:test:clear");
    assert_eq!(stored.agency, None, "agency");
    assert_eq!(stored.logout_url, None, "logout_url");
    assert_eq!(stored.default_aal, None, "default_aal");
    assert_eq!(stored.return_to_sp_url, None, "return_to_sp_url");
    assert_eq!(stored.failure_to_proof_url, None, "failure_to_proof_url");
    assert_eq!(fields(&stored), fields(&sp(&record)));
}

fn sp_cache_sees_writes_of_another_node_after_refresh(s: &Stores) {
    let cache = SpCache::new(s.registry.clone());
    let empty = Refresh::Reloaded {
        revision: 0,
        count: 0,
    };
    assert_eq!(cache.refresh().expect("first refresh"), empty);
    let unchanged = cache.refresh().expect("refresh");
    assert_eq!(unchanged, Refresh::Unchanged, "nothing changed");

    // Its own pool on the same database, as another process would have.
    let other = s.another_node();
    let (active, inactive) = ("urn:test:cache:active", "urn:test:cache:inactive");
    other.registry.add(&minimal(active)).expect("add");
    other
        .registry
        .add(&sp(&full_record(inactive)))
        .expect("add");
    assert!(cache.get(active).is_none(), "seen before refresh");

    let reloaded = Refresh::Reloaded {
        revision: 2,
        count: 2,
    };
    assert_eq!(cache.refresh().expect("refresh"), reloaded);
    let cached = cache.get(active).expect("in the cache after refresh");
    assert_eq!(fields(&cached), fields(&minimal(active)));
    assert_eq!(cache.counts(), (1, 1));
    let unchanged = cache.refresh().expect("refresh");
    assert_eq!(unchanged, Refresh::Unchanged, "nothing changed since");
}
