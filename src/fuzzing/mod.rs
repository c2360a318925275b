//! Fuzz targets: one `pub fn <target>(data: &[u8])` per attack surface, shared by the afl
//! binaries in `fuzz/` and by the replay test `tests/http/fuzz_corpus.rs` (docs/fuzzing.md).
//!
//! Each target feeds the bytes to the real code path and asserts its property: the input
//! ends in a named error or an accepted value that satisfies the checks below, never a
//! panic, and never more than the configured limits. A violated property panics, which
//! afl records as a crash.
//!
//! The message targets (`authn_request`, `logout_request`) read their input three ways, so
//! one corpus reaches both bindings and the XML behind them:
//! - starting with `<`: the request XML itself, sent as the POST binding (base64);
//! - starting with `SAMLRequest=` (or holding `&`): a Redirect-binding query string, split
//!   as the web layer does, signature parameters included;
//! - anything else: the `SAMLRequest` form value as received (base64, maybe deflated).

pub mod fixtures;

use crate::crypto::query_signature::{self, RawSignedQuery};
use crate::idp::intake::authn::{self, Settings, Verdict};
use crate::idp::intake::logout::{self, Channel};
use crate::idp::intake::{Endpoint, Inbound};
use crate::idp::saml_params::SamlParams;
use crate::saml::authn_context::{self, SpPolicy};
use crate::saml::codec::{self, Limits};
use crate::saml::xml_doc::{self, XmlDoc};
use crate::saml::xml_reader::{self, Element, Node};

/// Names of the targets, as the afl binaries, `scripts/fuzz` and the corpus folders spell them.
pub const TARGETS: &[&str] = &[
    "codec",
    "xml_gate",
    "authn_request",
    "logout_request",
    "authn_context",
    "query_signature",
];

/// Runs the target named `name` on `data`; `false` if there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    let target: fn(&[u8]) = match name {
        "codec" => codec,
        "xml_gate" => xml_gate,
        "authn_request" => authn_request,
        "logout_request" => logout_request,
        "authn_context" => authn_context,
        "query_signature" => query_signature,
        _ => return false,
    };
    target(data);
    true
}

/// `saml::codec::decode` with the default `Limits`, on the bytes as text (lossy UTF-8).
/// Property: a decoded message is never longer than `Limits::inflated`, an over-long
/// parameter is always `ParamTooLarge`.
pub fn codec(data: &[u8]) {
    let limits = Limits::default();
    let value = String::from_utf8_lossy(data);
    match codec::decode(&value, &limits) {
        Ok(xml) => {
            assert!(
                xml.len() <= limits.inflated,
                "decoded beyond the inflate cap"
            );
            assert!(
                value.len() <= limits.saml_param,
                "over-long parameter decoded"
            );
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an error without a message"),
    }
}

/// The XML gate (`xml_reader::parse`) and the libxml2 document behind it (`XmlDoc::parse`),
/// default limits. Properties: what the gate accepts is within its size, depth and attribute
/// limits; libxml2 only ever sees what the gate let through; and when both accept, they read
/// the same root element and the same number of elements (the two parsers must not disagree
/// on the structure: DESIGN, one parser per message).
pub fn xml_gate(data: &[u8]) {
    let limits = xml_reader::Limits::default();
    let gate = xml_reader::parse(data, &limits);
    let gate_elements = gate.as_ref().ok().map(|root| {
        assert!(
            data.len() <= limits.max_bytes,
            "over-size document accepted"
        );
        assert_within(root, &limits)
    });
    crate::crypto::xmlsec_ffi::init();
    let Ok(doc) = XmlDoc::parse(data, &limits) else {
        return;
    };
    let (Ok(gate_root), Some(count), Some(root)) = (&gate, gate_elements, doc.root()) else {
        panic!("libxml2 parsed a document the gate refused");
    };
    let namespace = root.get_namespace().map(|ns| ns.get_href());
    // Both normalise namespace names as attribute values (XML 1.0 §2.11, §3.3.3).
    assert_eq!(gate_root.local_name, root.get_name(), "root names differ");
    assert_eq!(gate_root.namespace, namespace, "root namespaces differ");
    assert_eq!(
        count,
        xml_doc::descendants(&root).len(),
        "element counts differ"
    );
}

/// Asserts the limits on every element; returns how many elements there are.
fn assert_within(root: &Element, limits: &xml_reader::Limits) -> usize {
    let mut count = 0;
    let mut stack = vec![(root, 1usize)];
    while let Some((element, depth)) = stack.pop() {
        count += 1;
        assert!(depth <= limits.max_depth, "element deeper than the limit");
        assert!(
            element.attributes.len() <= limits.max_attributes,
            "more attributes than the limit"
        );
        for child in &element.children {
            if let Node::Element(e) = child {
                stack.push((e, depth + 1));
            }
        }
    }
    count
}

/// One incoming message: the `SAMLRequest` value, `RelayState`, the raw query.
struct Message {
    saml_request: String,
    relay_state: Option<String>,
    params: Option<SamlParams>,
}

impl Message {
    /// `None`: the query string itself was refused (a duplicated parameter), a named error.
    fn read(data: &[u8]) -> Option<Message> {
        if data.first() == Some(&b'<') {
            return Some(Message {
                saml_request: codec::encode_post(data),
                relay_state: None,
                params: None,
            });
        }
        let text = String::from_utf8_lossy(data);
        if !text.starts_with("SAMLRequest=") && !text.contains('&') {
            return Some(Message {
                saml_request: text.into_owned(),
                relay_state: None,
                params: None,
            });
        }
        let params = SamlParams::parse(&text).ok()?;
        Some(Message {
            saml_request: params.saml_request().unwrap_or_default(),
            relay_state: params.relay_state(),
            params: Some(params),
        })
    }

    fn query(&self) -> Option<RawSignedQuery<'_>> {
        self.params.as_ref().and_then(SamlParams::signed_query)
    }
}

/// `idp::sso::intake` over the fixture SPs (see the module documentation for the input).
/// Property: an accepted request names a fixture SP by its Issuer and goes to one of that
/// SP's registered ACS URLs; a rejection carries at least one error.
pub fn authn_request(data: &[u8]) {
    let Some(message) = Message::read(data) else {
        return;
    };
    crate::crypto::xmlsec_ffi::init();
    let limits = Limits::default();
    let settings = Settings {
        limits: &limits,
        entity_id: fixtures::ENTITY_ID,
        year: fixtures::year(),
        now: fixtures::now(),
        // Both settings of the server-wide switch get exercised, deterministically per input.
        facial_match_enabled: data.len() % 2 == 0,
    };
    let input = Inbound {
        saml_request: &message.saml_request,
        relay_state: message.relay_state.as_deref(),
        query: message.query(),
        binding: crate::sessions::Binding::Redirect,
    };
    match authn::intake(&input, &settings, fixtures::sp_cache()) {
        Verdict::Accepted(verified) => {
            assert_eq!(
                verified.request.issuer.as_deref(),
                Some(&*verified.sp.issuer)
            );
            assert!(verified.sp.acs_urls.contains(&verified.acs_url));
            if let Some(i) = verified.matching_certificate {
                assert!(i < verified.sp.certs.len());
            }
        }
        Verdict::Rejected(errors) => assert!(!errors.is_empty(), "rejected without a reason"),
        Verdict::Inactive(_) => {}
    }
}

/// `idp::intake::logout::intake` over the fixture SPs (input as for `authn_request`). Property: an
/// accepted request names a fixture SP and answers at its registered logout URL; a
/// rejection carries at least one error.
pub fn logout_request(data: &[u8]) {
    let Some(message) = Message::read(data) else {
        return;
    };
    crate::crypto::xmlsec_ffi::init();
    let limits = Limits::default();
    let query = message.query();
    let receiver = Endpoint {
        entity_id: fixtures::ENTITY_ID,
        year: fixtures::year(),
        // Both channels get exercised, deterministically per input.
        path: if data.len() % 2 == 0 {
            Channel::Front.path()
        } else {
            Channel::Remote.path()
        },
        now: fixtures::now(),
        limits: &limits,
    };
    match logout::intake(
        &message.saml_request,
        query.as_ref(),
        &receiver,
        fixtures::sp_cache(),
    ) {
        Ok(verified) => {
            assert_eq!(
                verified.request.issuer.as_deref(),
                Some(&*verified.sp.issuer)
            );
            assert_eq!(verified.sp.logout_url, verified.logout_url);
        }
        Err(errors) => assert!(!errors.is_empty(), "rejected without a reason"),
    }
}

/// `saml::authn_context::parse`. Input: the first byte chooses the SP policy (bit 0: IAL2,
/// bits 1–2: default AAL none/2/3, bit 3: IALMAX allowed, bit 4: facial match enabled); the
/// rest, as lossy UTF-8, is lines: the first is `Comparison` (`-` for none), each further
/// line one AuthnContextClassRef value. Property: the values reported as used were given,
/// requested attributes are unique and non-empty.
pub fn authn_context(data: &[u8]) {
    let Some((&policy, rest)) = data.split_first() else {
        return;
    };
    let sp = SpPolicy {
        ial: if policy & 1 == 1 { 2 } else { 1 },
        default_aal: [None, Some(2), Some(3), None][usize::from((policy >> 1) & 3)],
        ialmax_allowed: policy & 8 != 0,
        facial_match_enabled: policy & 16 != 0,
    };
    let text = String::from_utf8_lossy(rest);
    let mut lines = text.split('\n');
    let comparison = lines.next().filter(|c| *c != "-");
    let values: Vec<String> = lines.map(str::to_string).collect();
    if let Ok(context) = authn_context::parse(&values, comparison, &sp) {
        for used in [&context.ial_value, &context.aal_value]
            .into_iter()
            .flatten()
        {
            assert!(values.contains(used), "a value that was not given");
        }
        let names = &context.requested_attributes;
        assert!(
            names.iter().all(|n| !n.is_empty()),
            "an empty attribute name"
        );
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "a requested attribute twice");
        }
    }
}

/// `crypto::query_signature::verify` of a Redirect query string (split as the web layer
/// does) against each fixture SP's certificates. Property: a match names one of the
/// certificates it was given.
pub fn query_signature(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(params) = SamlParams::parse(&text) else {
        return;
    };
    let Some(query) = params.signed_query() else {
        return;
    };
    for sp in fixtures::service_providers() {
        if let Ok(Some(i)) = query_signature::verify(&query, &sp.certs) {
            assert!(i < sp.certs.len(), "a certificate index out of range");
        }
    }
}
