//! Property tests (proptest): the codec round trip within its limits, the canonical XML writer
//! against `xmllint --exc-c14n` as an independent oracle, and the AuthnContext parser against
//! SPEC 6 (known values, the first AAL wins, the highest IAL wins). Case counts stay small so
//! the suite stays fast.

use crate::common;

use proptest::prelude::*;

use saml_idp::saml::authn_context::{self, Aal, AuthnContextError, Comparison, Ial, SpPolicy};
use saml_idp::saml::codec::{decode, encode_post, encode_redirect, CodecError, Limits};
use saml_idp::saml::xml_writer::CanonicalWriter;

// ---------------------------------------------------------------- codec

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn redirect_encoding_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        prop_assert_eq!(decode(&encode_redirect(&bytes), &Limits::default()), Ok(bytes));
    }

    /// POST values are not deflated; the decoder still tries inflation first (SPEC 3), so the
    /// inputs are XML-like: they start with `<`, which a whole DEFLATE stream virtually never does.
    #[test]
    fn post_encoding_round_trips(rest in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let mut xml = b"<".to_vec();
        xml.extend_from_slice(&rest);
        prop_assert_eq!(decode(&encode_post(&xml), &Limits::default()), Ok(xml));
    }

    /// Over the inflate cap is a named error whichever encoding carried the bytes, and so is
    /// a parameter over its own limit; nothing longer than the cap comes out.
    #[test]
    fn limits_hold_for_both_encodings(len in 0usize..3000, cap in 1usize..2000, byte in any::<u8>()) {
        let limits = Limits { inflated: cap, saml_param: 2500, ..Limits::default() };
        let mut xml = vec![byte; len];
        if let Some(first) = xml.first_mut() { *first = b'<'; }
        for value in [encode_redirect(&xml), encode_post(&xml)] {
            match decode(&value, &limits) {
                Ok(out) => {
                    prop_assert!(out.len() <= cap);
                    prop_assert_eq!(&out, &xml);
                }
                Err(CodecError::InflatedTooLarge { limit }) => {
                    prop_assert_eq!(limit, cap);
                    prop_assert!(xml.len() > cap);
                }
                Err(CodecError::ParamTooLarge { .. }) => prop_assert!(value.len() > 2500),
                Err(CodecError::Empty) => prop_assert!(xml.is_empty()),
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }
}

// ---------------------------------------------------------------- canonical writer

/// A random element tree, written with `CanonicalWriter`.
#[derive(Debug, Clone)]
struct Tree {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    Element(Tree),
    Text(String),
}

const ELEMENT_PREFIXES: &[&str] = &["saml", "samlp", "md", "ds", "xenc", "xs", "xsi"];
const ATTRIBUTE_PREFIXES: &[&str] = &["", "", "", "xml", "saml", "ds", "xsi"];

fn local_name() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_.-]{0,6}"
}

/// Text with everything c14n escapes, controls XML cannot carry, and non-ASCII.
fn text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("<".to_string()),
        Just(">".to_string()),
        Just("&".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("\r".to_string()),
        Just("\r\n".to_string()),
        Just("\u{1}".to_string()),
        Just("é€𝄞".to_string()),
        Just("]]>".to_string()),
        "[a-z ]{1,5}",
    ];
    proptest::collection::vec(pieces, 0..6).prop_map(|p| p.concat())
}

fn attributes() -> impl Strategy<Value = Vec<(String, String)>> {
    let attribute = (
        proptest::sample::select(ATTRIBUTE_PREFIXES),
        local_name(),
        text(),
    )
        .prop_map(|(prefix, local, value)| match prefix {
            "" => (local, value),
            p => (format!("{p}:{local}"), value),
        });
    proptest::collection::vec(attribute, 0..4).prop_map(|mut attrs| {
        let mut seen = std::collections::HashSet::new();
        attrs.retain(|(name, _)| name != "xmlns" && seen.insert(name.clone()));
        attrs
    })
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = (
        proptest::sample::select(ELEMENT_PREFIXES),
        local_name(),
        attributes(),
    )
        .prop_map(|(prefix, local, attributes)| Tree {
            name: format!("{prefix}:{local}"),
            attributes,
            children: Vec::new(),
        });
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            proptest::sample::select(ELEMENT_PREFIXES),
            local_name(),
            attributes(),
            proptest::collection::vec(
                prop_oneof![inner.prop_map(Child::Element), text().prop_map(Child::Text)],
                0..4,
            ),
        )
            .prop_map(|(prefix, local, attributes, children)| Tree {
                name: format!("{prefix}:{local}"),
                attributes,
                children,
            })
    })
}

fn write_tree(w: &mut CanonicalWriter, tree: &Tree) {
    let attributes: Vec<(&str, &str)> = tree
        .attributes
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    w.start(&tree.name, &attributes);
    for child in &tree.children {
        match child {
            Child::Element(e) => write_tree(w, e),
            Child::Text(t) if !t.is_empty() => w.text(t),
            Child::Text(_) => {}
        }
    }
    w.end();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn the_writer_emits_what_exc_c14n_reproduces(tree in tree()) {
        let mut w = CanonicalWriter::new();
        write_tree(&mut w, &tree);
        let written = w.into_bytes();
        let canonical = common::oracles::xmllint_exc_c14n(&written);
        prop_assert_eq!(
            String::from_utf8_lossy(&canonical),
            String::from_utf8_lossy(&written)
        );
    }
}

// ---------------------------------------------------------------- AuthnContext (SPEC 6)

// SPEC 6's values, spelled out here rather than borrowed from the tables under test.
const IALS: &[(&str, Ial)] = &[
    ("urn:acr.login.gov:auth-only", Ial::AuthOnly),
    ("urn:acr.login.gov:verified", Ial::Verified),
    (
        "urn:acr.login.gov:verified-facial-match-required",
        Ial::FacialMatchRequired,
    ),
    (
        "urn:acr.login.gov:verified-facial-match-preferred",
        Ial::FacialMatchPreferred,
    ),
    ("http://idmanagement.gov/ns/assurance/ial/1", Ial::AuthOnly),
    ("http://idmanagement.gov/ns/assurance/ial/2", Ial::Verified),
    (
        "http://idmanagement.gov/ns/assurance/ial/2?bio=preferred",
        Ial::FacialMatchPreferred,
    ),
    (
        "http://idmanagement.gov/ns/assurance/ial/2?bio=required",
        Ial::FacialMatchRequired,
    ),
    ("http://idmanagement.gov/ns/assurance/ial/0", Ial::IalMax),
    ("http://idmanagement.gov/ns/assurance/loa/1", Ial::AuthOnly),
    ("http://idmanagement.gov/ns/assurance/loa/3", Ial::Verified),
];

const AALS: &[(&str, Aal)] = &[
    (
        "urn:gov:gsa:ac:classes:sp:PasswordProtectedTransport:duo",
        Aal::Default,
    ),
    ("http://idmanagement.gov/ns/assurance/aal/2", Aal::Aal2),
    (
        "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true",
        Aal::PhishingResistant,
    ),
    (
        "http://idmanagement.gov/ns/assurance/aal/2?hspd12=true",
        Aal::Hspd12,
    ),
    (
        "http://idmanagement.gov/ns/assurance/aal/3",
        Aal::PhishingResistant,
    ),
    (
        "http://idmanagement.gov/ns/assurance/aal/3?hspd12=true",
        Aal::Hspd12,
    ),
];

const OASIS: &[&str] = &[
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
];

const COMPARISONS: &[(Option<&str>, Comparison)] = &[
    (None, Comparison::Exact),
    (Some("exact"), Comparison::Exact),
    (Some("minimum"), Comparison::Minimum),
    (Some("better"), Comparison::Better),
    (Some("maximum"), Comparison::Maximum),
];

/// An SP that may ask for every level.
const PERMISSIVE: SpPolicy = SpPolicy {
    ial: 2,
    default_aal: None,
    ialmax_allowed: true,
    facial_match_enabled: true,
};

fn ial_of(value: &str) -> Option<Ial> {
    IALS.iter().find(|(v, _)| *v == value).map(|(_, i)| *i)
}

fn aal_of(value: &str, comparison: Comparison) -> Option<Aal> {
    let oasis =
        OASIS.contains(&value) && matches!(comparison, Comparison::Minimum | Comparison::Better);
    AALS.iter()
        .find(|(v, _)| *v == value)
        .map(|(_, a)| *a)
        .or(oasis.then_some(Aal::Default))
}

fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(IALS).prop_map(|(v, _)| v.to_string()),
        proptest::sample::select(AALS).prop_map(|(v, _)| v.to_string()),
        proptest::sample::select(OASIS).prop_map(str::to_string),
        Just("http://idmanagement.gov/ns/assurance/aal/1".to_string()),
        "[a-z,: ]{0,12}"
            .prop_map(|n| format!("http://idmanagement.gov/ns/requested_attributes?ReqAttr={n}")),
        any::<String>(),
    ]
}

fn policy() -> impl Strategy<Value = SpPolicy> {
    (
        1u8..=2,
        proptest::option::of(1u8..=4),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(ial, default_aal, ialmax_allowed, facial_match_enabled)| SpPolicy {
                ial,
                default_aal,
                ialmax_allowed,
                facial_match_enabled,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_parser_never_panics(
        values in proptest::collection::vec(any_value(), 0..6),
        comparison in proptest::option::of(prop_oneof![Just("minimum".to_string()), any::<String>()]),
        sp in policy(),
    ) {
        let _ = authn_context::parse(&values, comparison.as_deref(), &sp);
    }

    #[test]
    fn each_known_value_maps_as_spec_6_says(
        ial in proptest::sample::select(IALS),
        aal in proptest::sample::select(AALS),
        comparison in proptest::sample::select(COMPARISONS),
    ) {
        let (c_raw, c) = comparison;
        let values = vec![ial.0.to_string(), aal.0.to_string()];
        let got = authn_context::parse(&values, c_raw, &PERMISSIVE).expect("permitted");
        // saml SPEC 6: minimum + auth-only from an IAL2 SP allowed IALMAX is IALMAX.
        let expected_ial = if ial.1 == Ial::AuthOnly && c == Comparison::Minimum { Ial::IalMax } else { ial.1 };
        prop_assert_eq!(got.ial, expected_ial);
        prop_assert_eq!(got.aal, aal.1);
        prop_assert_eq!(got.comparison, c);
        prop_assert_eq!(got.aal_value.as_deref(), Some(aal.0));
    }

    /// Any order, any duplicates: the first AAL value wins, the highest IAL wins.
    #[test]
    fn first_aal_wins_and_highest_ial_wins(
        values in proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(IALS).prop_map(|(v, _)| v.to_string()),
                proptest::sample::select(AALS).prop_map(|(v, _)| v.to_string()),
                proptest::sample::select(OASIS).prop_map(str::to_string),
                Just("urn:example:unknown".to_string()),
            ],
            1..8,
        ),
        comparison in proptest::sample::select(COMPARISONS),
    ) {
        let (c_raw, c) = comparison;
        let got = authn_context::parse(&values, c_raw, &PERMISSIVE);
        let first_aal = values.iter().find_map(|v| aal_of(v, c).map(|a| (v.as_str(), a)));
        let highest_ial = values.iter().filter_map(|v| ial_of(v)).max();
        match (got, first_aal, highest_ial) {
            (Err(AuthnContextError::Unauthorized(_)), None, None) => {}
            (Ok(got), aal, ial) if aal.is_some() || ial.is_some() => {
                if let Some((value, aal)) = aal {
                    prop_assert_eq!(got.aal, aal);
                    prop_assert_eq!(got.aal_value.as_deref(), Some(value));
                }
                if let Some(ial) = ial {
                    let upgraded = ial == Ial::AuthOnly && c == Comparison::Minimum;
                    prop_assert_eq!(got.ial, if upgraded { Ial::IalMax } else { ial });
                }
            }
            (other, aal, ial) => prop_assert!(false, "{other:?} for {values:?} (aal {aal:?}, ial {ial:?})"),
        }
    }
}
