//! Micro-benchmarks of the SAML hot path (issue 12), each next to the bare openssl operation
//! it wraps, so the report shows how much of a step is the cryptography:
//!
//! - `decode`: the query split, url-decoding, base64 and raw inflate of a Redirect request;
//! - `parse`: the hardened gate (quick-xml) alone, then gate + libxml2 + reading the request;
//! - `verify`: parse + embedded signature (libxmlsec1), the Redirect query signature, and the
//!   whole intake (`idp::intake::authn::intake`) of each, against one RSA-2048 PKCS#1 v1.5 SHA-256 verify;
//! - `authn_context`: the AuthnContextClassRef parser;
//! - `response`: the Response with the assertion signed, with Response and assertion signed,
//!   and with the signed assertion encrypted, against one RSA-2048 SHA-256 signature; and the
//!   assertion's XML alone, unsigned (`response/write_assertion_unsigned`: the canonical writer);
//! - `encrypt`: `encrypt_assertion` against bare AES-256-CBC + RSA-OAEP key wrap.
//!
//! Inputs come from `fixtures/` (TEST-ONLY keys; the embedded-signature request was signed by
//! the `xmlsec1` command, see fixtures/requests/README.md); the Redirect signature is made here
//! with openssl as `tests/common/flow.rs` does. Run: `cargo bench --bench saml`
//! (`-- --quick` for a short run).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::rsa::Padding;
use openssl::sign::{Signer, Verifier};
use openssl::symm::{encrypt, Cipher};

use saml_idp::config::SigningKeyConfig;
use saml_idp::crypto::query_signature;
use saml_idp::crypto::xml_encrypt::{encrypt_assertion, ContentAlgorithm};
use saml_idp::crypto::xml_verify::{self, Signed};
use saml_idp::crypto::{Certificate, KeyRing, SigningKey};
use saml_idp::idp::intake::authn::{self, Settings, Verdict};
use saml_idp::idp::intake::Inbound;
use saml_idp::idp::response::{self, Claims, Success};
use saml_idp::idp::saml_params::SamlParams;
use saml_idp::idp::sso::pending::PendingRequest;
use saml_idp::idp::SpCache;
use saml_idp::ids::{IdSource, RandomIds};
use saml_idp::registry::{
    BlockEncryption, RecordFile, RegistryError, ServiceProvider, SpRegistry, UpsertCounts,
};
use saml_idp::saml::authn_context::{self, SpPolicy};
use saml_idp::saml::authn_request;
use saml_idp::saml::codec::{self, encode_redirect, Limits};
use saml_idp::saml::response::{write_assertion, AssertionContent, Attribute};
use saml_idp::saml::xml_doc::XmlDoc;
use saml_idp::saml::{xml_reader, SamlYear};

const SP1: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1";
const ENTITY_ID: &str = "https://idp.test.example.gov/api/saml";
const SIG_ALG: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const CONTEXTS: &[&str] = &[
    "urn:acr.login.gov:auth-only",
    "http://idmanagement.gov/ns/assurance/aal/2",
];

fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

fn read(relative: &str) -> Vec<u8> {
    std::fs::read(fixture(relative)).expect("fixture")
}

/// The fixed time of the fixtures' `IssueInstant` (2026-03-15T12:00:00Z), plus 10 s.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 10)
        .single()
        .expect("time")
}

fn form(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The SPs of `fixtures/service_providers.toml`, validated as `saml-idp sp import` does.
fn fixture_sps() -> Vec<ServiceProvider> {
    let text = std::fs::read_to_string(fixture("service_providers.toml")).expect("SP fixture");
    let file: RecordFile = toml::from_str(&text).expect("SP fixture parses");
    file.service_provider
        .iter()
        .map(|r| saml_idp::registry::validate(r, &fixture("")).expect("valid SP"))
        .collect()
}

/// A read-only registry in memory: the SP cache is what intake reads, no database here.
struct FixedRegistry(Vec<ServiceProvider>);

impl SpRegistry for FixedRegistry {
    fn list(&self) -> Result<Vec<ServiceProvider>, RegistryError> {
        Ok(self.0.clone())
    }
    fn find(&self, issuer: &str) -> Result<Option<ServiceProvider>, RegistryError> {
        Ok(self.0.iter().find(|sp| sp.issuer == issuer).cloned())
    }
    fn add(&self, _: &ServiceProvider) -> Result<(), RegistryError> {
        Err(RegistryError::Storage("read-only".into()))
    }
    fn update(&self, _: &ServiceProvider) -> Result<(), RegistryError> {
        Err(RegistryError::Storage("read-only".into()))
    }
    fn upsert_all(&self, _: &[ServiceProvider]) -> Result<UpsertCounts, RegistryError> {
        Err(RegistryError::Storage("read-only".into()))
    }
    fn remove(&self, _: &str) -> Result<(), RegistryError> {
        Err(RegistryError::Storage("read-only".into()))
    }
    fn revision(&self) -> Result<i64, RegistryError> {
        Ok(1)
    }
}

fn sp_cache() -> SpCache {
    let cache = SpCache::new(Arc::new(FixedRegistry(fixture_sps())));
    cache.refresh().expect("cache");
    cache
}

fn private_key(name: &str) -> PKey<Private> {
    PKey::private_key_from_pem(&read(&format!("keys/{name}"))).expect("key")
}

fn certificate(name: &str) -> Certificate {
    Certificate::from_pem(&read(&format!("keys/{name}"))).expect("cert")
}

fn idp_key() -> KeyRing {
    KeyRing::load(&[SigningKeyConfig {
        year: year(),
        certificate: fixture("keys/idp-2026-test-only.crt"),
        private_key: fixture("keys/idp-2026-test-only.key"),
        passphrase_env: None,
    }])
    .expect("key ring")
}

fn year() -> SamlYear {
    SamlYear::new(2026).expect("year")
}

/// An unsigned AuthnRequest of sp1 to `/api/saml/auth2026`, as the fixtures write them.
fn authn_request_xml(id: &str) -> String {
    let refs: String = CONTEXTS
        .iter()
        .map(|c| format!("<saml:AuthnContextClassRef>{c}</saml:AuthnContextClassRef>"))
        .collect();
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="2026-03-15T12:00:00Z" Destination="{ENTITY_ID}/auth2026" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" AssertionConsumerServiceURL="http://localhost:9001/acs"><saml:Issuer>{SP1}</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/><samlp:RequestedAuthnContext Comparison="exact">{refs}</samlp:RequestedAuthnContext></samlp:AuthnRequest>"#
    )
}

/// The query of a Redirect request signed by sp1 (saml-bindings §3.4.4.1).
fn signed_redirect_query(xml: &str) -> String {
    let octets = format!(
        "SAMLRequest={}&RelayState={}&SigAlg={}",
        form(&encode_redirect(xml.as_bytes())),
        form("relay"),
        form(SIG_ALG)
    );
    let signature = rsa_sign(&private_key("sp1-test-only.key"), octets.as_bytes());
    format!(
        "{octets}&Signature={}",
        form(&base64::engine::general_purpose::STANDARD.encode(signature))
    )
}

fn rsa_sign(key: &PKey<Private>, data: &[u8]) -> Vec<u8> {
    let mut signer = Signer::new(MessageDigest::sha256(), key).expect("signer");
    signer.update(data).expect("update");
    signer.sign_to_vec().expect("sign")
}

fn rsa_verify(key: &PKey<Public>, data: &[u8], signature: &[u8]) -> bool {
    let mut verifier = Verifier::new(MessageDigest::sha256(), key).expect("verifier");
    verifier.update(data).expect("update");
    verifier.verify(signature).expect("verify")
}

fn settings(limits: &Limits) -> Settings<'_> {
    Settings {
        limits,
        entity_id: ENTITY_ID,
        year: year(),
        now: now(),
        facial_match_enabled: false,
    }
}

fn reader_limits(limits: &Limits) -> xml_reader::Limits {
    xml_reader::Limits {
        max_bytes: limits.inflated,
        max_depth: limits.depth,
        max_attributes: limits.attributes,
    }
}

fn bench_openssl(c: &mut Criterion) {
    let key = private_key("idp-2026-test-only.key");
    let public = certificate("idp-2026-test-only.crt").public_key().clone();
    let data = [7u8; 64];
    let signature = rsa_sign(&key, &data);
    let mut g = c.benchmark_group("openssl");
    g.bench_function("rsa2048_sha256_sign", |b| b.iter(|| rsa_sign(&key, &data)));
    g.bench_function("rsa2048_sha256_verify", |b| {
        b.iter(|| assert!(rsa_verify(&public, &data, &signature)))
    });
    g.finish();
}

fn bench_decode(c: &mut Criterion) {
    let limits = Limits::default();
    let query = format!(
        "SAMLRequest={}&RelayState=relay",
        form(&encode_redirect(authn_request_xml("_bench").as_bytes()))
    );
    c.bench_function("decode/redirect_query_url_base64_inflate", |b| {
        b.iter(|| {
            let params = SamlParams::parse(&query).expect("params");
            let value = params.saml_request().expect("SAMLRequest");
            codec::decode(&value, &limits).expect("decodes")
        })
    });
}

fn bench_parse(c: &mut Criterion) {
    let limits = Limits::default();
    let xml = authn_request_xml("_bench");
    let mut g = c.benchmark_group("parse");
    g.bench_function("gate_only", |b| {
        b.iter(|| xml_reader::parse(xml.as_bytes(), &reader_limits(&limits)).expect("gate"))
    });
    g.bench_function("gate_libxml2_read_authn_request", |b| {
        b.iter(|| {
            let doc = XmlDoc::parse(xml.as_bytes(), &reader_limits(&limits)).expect("parses");
            authn_request::read(&doc).expect("reads")
        })
    });
    g.finish();
}

fn bench_verify(c: &mut Criterion) {
    let limits = Limits::default();
    let sps = sp_cache();
    let sp = sps.get(SP1).expect("sp1");
    let embedded = read("requests/post-signed-xmlsec1.xml");
    let embedded_b64 = String::from_utf8(read("requests/post-signed-xmlsec1.b64")).expect("b64");
    let query = signed_redirect_query(&authn_request_xml("_bench-redirect"));
    let params = SamlParams::parse(&query).expect("params");
    let saml_request = params.saml_request().expect("SAMLRequest");
    let mut g = c.benchmark_group("verify");
    g.bench_function("embedded_parse_verify_root", |b| {
        b.iter(|| {
            let doc = XmlDoc::parse(&embedded, &reader_limits(&limits)).expect("parses");
            let signed = xml_verify::verify_root(&doc, &sp.certs).expect("verifies");
            assert_eq!(signed, Signed::Yes { certificate: 0 });
        })
    });
    g.bench_function("redirect_query_signature", |b| {
        let signed = params.signed_query().expect("signed query");
        b.iter(|| query_signature::verify(&signed, &sp.certs).expect("verifies"))
    });
    let post = Inbound {
        saml_request: &embedded_b64,
        relay_state: None,
        query: None,
        binding: saml_idp::sessions::Binding::Post,
    };
    g.bench_function("intake_post_embedded_signature", |b| {
        b.iter(|| accepted(authn::intake(&post, &settings(&limits), &sps)))
    });
    let redirect = Inbound {
        saml_request: &saml_request,
        relay_state: Some("relay"),
        query: params.signed_query(),
        binding: saml_idp::sessions::Binding::Redirect,
    };
    g.bench_function("intake_redirect_query_signature", |b| {
        b.iter(|| accepted(authn::intake(&redirect, &settings(&limits), &sps)))
    });
    g.finish();
}

fn accepted(outcome: Verdict) {
    match outcome {
        Verdict::Accepted(v) => assert!(v.matching_certificate == Some(0)),
        Verdict::Rejected(errors) => panic!("rejected: {errors:?}"),
        Verdict::Inactive(_) => panic!("inactive SP"),
    }
}

fn bench_authn_context(c: &mut Criterion) {
    let values: Vec<String> = CONTEXTS.iter().map(|v| v.to_string()).collect();
    let policy = SpPolicy {
        ial: 1,
        default_aal: None,
        ialmax_allowed: false,
        facial_match_enabled: false,
    };
    c.bench_function("authn_context/parse_two_values", |b| {
        b.iter(|| authn_context::parse(&values, Some("exact"), &policy).expect("context"))
    });
}

/// The pending request intake makes of the unsigned request, for `sp`.
fn pending_for(sp: &ServiceProvider) -> PendingRequest {
    let limits = Limits::default();
    let value = encode_redirect(authn_request_xml("_bench-response").as_bytes());
    let input = Inbound {
        saml_request: &value,
        relay_state: None,
        query: None,
        binding: saml_idp::sessions::Binding::Redirect,
    };
    let cache = SpCache::new(Arc::new(FixedRegistry(vec![sp.clone()])));
    cache.refresh().expect("cache");
    match authn::intake(&input, &settings(&limits), &cache) {
        Verdict::Accepted(v) => PendingRequest::from_verified(&v, year(), now()),
        other => panic!("not accepted: {other:?}"),
    }
}

fn claims() -> Claims {
    Claims {
        agency_uuid: RandomIds.uuid(),
        email: Some("ada@example.gov".into()),
        all_emails: vec!["ada@example.gov".into()],
        locale: "en".into(),
        profile: None,
        verified_at: None,
    }
}

/// sp1 as registered, changed to `encryption` and `signed_response`.
fn sp1_variant(encryption: BlockEncryption, signed_response: bool) -> ServiceProvider {
    let mut sp = fixture_sps()
        .into_iter()
        .find(|sp| sp.issuer == SP1)
        .expect("sp1");
    sp.block_encryption = encryption;
    sp.signed_response_message_requested = signed_response;
    sp
}

fn bench_response(c: &mut Criterion) {
    let keys = idp_key();
    let key: &SigningKey = keys.get(year()).expect("2026 key");
    let claims = claims();
    let released = ["email", "all_emails", "locale", "ial", "aal"];
    let ids = RandomIds;
    let variants = [
        ("assertion_signed", BlockEncryption::None, false),
        ("response_and_assertion_signed", BlockEncryption::None, true),
        (
            "assertion_signed_encrypted_aes256cbc",
            BlockEncryption::Aes256Cbc,
            false,
        ),
    ];
    let mut g = c.benchmark_group("response");
    for (name, encryption, signed_response) in variants {
        let sp = sp1_variant(encryption, signed_response);
        let pending = pending_for(&sp);
        let success = Success {
            pending: &pending,
            sp: &sp,
            released: &released,
            claims: &claims,
            authn_instant: now(),
            key,
            entity_id: ENTITY_ID,
            now: now(),
        };
        g.bench_function(name, |b| {
            b.iter(|| response::build(&success, &ids).expect("response"))
        });
    }
    g.finish();
}

/// The canonical writer alone: an Assertion with six attributes, unsigned (what
/// `response/assertion_signed` writes before its digest and signature).
fn bench_write_assertion(c: &mut Criterion) {
    let attribute = |name: &str, value: &str| Attribute {
        name: name.into(),
        basic: false,
        values: vec![value.into()],
    };
    let attributes = [
        attribute("uuid", "4f3c1c2e-7c1b-4f5e-9d6a-2b8e1f0c9a11"),
        attribute("email", "ada@example.gov"),
        attribute("all_emails", "ada@example.gov"),
        attribute("locale", "en"),
        attribute("ial", "http://idmanagement.gov/ns/assurance/ial/1"),
        attribute("aal", "http://idmanagement.gov/ns/assurance/aal/2"),
    ];
    let content = AssertionContent {
        id: "_5b0a6c1e-2f7d-4c43-9d4e-0b7f1a2c3d4e",
        issue_instant: now(),
        issuer: ENTITY_ID,
        name_id_format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        name_id: "4f3c1c2e-7c1b-4f5e-9d6a-2b8e1f0c9a11",
        recipient: "https://sp1.test.example.gov/acs",
        in_response_to: "_flow",
        audience: SP1,
        attributes: &attributes,
        authn_instant: now(),
        session_index: "_0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        authn_context_class_ref: "http://idmanagement.gov/ns/assurance/aal/2",
    };
    c.bench_function("response/write_assertion_unsigned", |b| {
        b.iter(|| write_assertion(&content))
    });
}

fn bench_encrypt(c: &mut Criterion) {
    let keys = idp_key();
    let key = keys.get(year()).expect("2026 key");
    let sp = sp1_variant(BlockEncryption::None, false);
    let success_pending = pending_for(&sp);
    let claims = claims();
    let released = ["email", "all_emails", "locale", "ial", "aal"];
    let success = Success {
        pending: &success_pending,
        sp: &sp,
        released: &released,
        claims: &claims,
        authn_instant: now(),
        key,
        entity_id: ENTITY_ID,
        now: now(),
    };
    // The signed assertion as it is encrypted: cut out of an unencrypted Response.
    let response = response::build(&success, &RandomIds).expect("response");
    let assertion = cut_assertion(&response);
    let recipient = certificate("sp1-test-only.crt");
    let rsa = recipient.public_key().rsa().expect("rsa");
    let mut g = c.benchmark_group("encrypt");
    g.bench_function("encrypt_assertion_aes256cbc_rsa_oaep", |b| {
        b.iter(|| encrypt_assertion(&assertion, &recipient, ContentAlgorithm::Aes256Cbc))
    });
    g.bench_function("bare_aes256cbc_plus_rsa_oaep_wrap", |b| {
        b.iter_batched(
            || ([9u8; 32], [3u8; 16]),
            |(content_key, iv)| {
                let body = encrypt(Cipher::aes_256_cbc(), &content_key, Some(&iv), &assertion)
                    .expect("aes");
                let mut wrapped = vec![0u8; rsa.size() as usize];
                let n = rsa
                    .public_encrypt(&content_key, &mut wrapped, Padding::PKCS1_OAEP)
                    .expect("oaep");
                (body, n)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("bare_rsa_oaep_wrap_only", |b| {
        let mut wrapped = vec![0u8; rsa.size() as usize];
        b.iter(|| {
            rsa.public_encrypt(&[9u8; 32], &mut wrapped, Padding::PKCS1_OAEP)
                .expect("oaep")
        })
    });
    g.finish();
}

/// The `saml:Assertion` element of a Response, bytes as written.
fn cut_assertion(response: &[u8]) -> Vec<u8> {
    let find = |needle: &[u8]| {
        response
            .windows(needle.len())
            .position(|w| w == needle)
            .expect("assertion in the response")
    };
    let end = b"</saml:Assertion>";
    response[find(b"<saml:Assertion")..find(end) + end.len()].to_vec()
}

fn init(c: &mut Criterion) {
    // libxml2 and libxmlsec1 are initialised once on the main thread, as the server does.
    saml_idp::crypto::xmlsec_ffi::init();
    bench_openssl(c);
}

criterion_group!(
    benches,
    init,
    bench_decode,
    bench_parse,
    bench_verify,
    bench_authn_context,
    bench_response,
    bench_write_assertion,
    bench_encrypt
);
criterion_main!(benches);
