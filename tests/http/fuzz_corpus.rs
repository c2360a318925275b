//! Replays the fuzz seed corpus and every recorded crash (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) through the same `saml_idp::fuzzing` functions the afl
//! binaries run (docs/fuzzing.md): each must end in a named error or an accepted value,
//! never a panic.

use std::path::{Path, PathBuf};

use saml_idp::fuzzing;

fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    out.sort();
    out
}

fn replay(target: &str) {
    let corpus = files("corpus", target);
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} has no seeds");
    for path in corpus.iter().chain(&files("regressions", target)) {
        let data = std::fs::read(path).expect("corpus file");
        let ran = std::panic::catch_unwind(|| fuzzing::run(target, &data));
        assert_eq!(
            ran.ok(),
            Some(true),
            "{target} failed on {}",
            path.display()
        );
    }
}

#[test]
fn every_target_has_a_corpus_folder() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for target in fuzzing::TARGETS {
        assert!(corpus.join(target).is_dir(), "{target}");
    }
}

#[test]
fn codec() {
    replay("codec");
}

#[test]
fn xml_gate() {
    replay("xml_gate");
}

#[test]
fn authn_request() {
    replay("authn_request");
}

#[test]
fn logout_request() {
    replay("logout_request");
}

#[test]
fn authn_context() {
    replay("authn_context");
}

#[test]
fn query_signature() {
    replay("query_signature");
}

/// The seeds reach the accepting paths too, not only the refusals.
#[test]
fn the_seeds_include_accepted_requests() {
    use saml_idp::idp::intake::authn::{intake, Settings, Verdict};
    use saml_idp::idp::intake::logout::{self, Channel};
    use saml_idp::idp::intake::{Endpoint, Inbound};
    use saml_idp::saml::codec::Limits;
    saml_idp::crypto::xmlsec_ffi::init();
    let b64 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/authn_request/post-signed-xmlsec1.b64"),
    )
    .expect("seed");
    let limits = Limits::default();
    let settings = Settings {
        limits: &limits,
        entity_id: fuzzing::fixtures::ENTITY_ID,
        year: fuzzing::fixtures::year(),
        now: fuzzing::fixtures::now(),
        facial_match_enabled: false,
    };
    let input = Inbound {
        saml_request: &b64,
        ..Inbound::default()
    };
    let outcome = intake(&input, &settings, fuzzing::fixtures::sp_cache());
    assert!(matches!(outcome, Verdict::Accepted(_)), "{outcome:?}");
    let logout = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus/logout_request/logout-signed-xmlsec1.b64"),
    )
    .expect("seed");
    let receiver = Endpoint {
        entity_id: fuzzing::fixtures::ENTITY_ID,
        year: fuzzing::fixtures::year(),
        path: Channel::Front.path(),
        now: fuzzing::fixtures::now(),
        limits: &limits,
    };
    let verified = logout::intake(&logout, None, &receiver, fuzzing::fixtures::sp_cache());
    assert!(verified.is_ok(), "{verified:?}");
}
