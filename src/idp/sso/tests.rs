//! `authn` and `resume` against the in-memory stores: the reply and what was stored.

use libxml::parser::Parser;

use super::policy::Ask;
use super::{authn, resume, Browser, Post, SsoReply};
use crate::idp::intake::authn::Settings;
use crate::idp::intake::{Inbound, IntakeCode};
use crate::idp::sso::pending::PendingStore;
use crate::idp::testing::{self, authn_request, Harness, ACS_URL, ENTITY_ID, SP};
use crate::idp::token::TokenHash;
use crate::saml::codec::encode_redirect;
use crate::sessions::{AuditEvent, AuditKind};

fn settings(h: &Harness) -> Settings<'_> {
    Settings {
        limits: &h.limits,
        entity_id: ENTITY_ID,
        year: testing::year(),
        now: h.now,
        facial_match_enabled: false,
    }
}

/// `authn` of `xml` sent with the Redirect binding (no signature), with `relay_state`.
fn send(h: &Harness, xml: &str, relay_state: Option<&str>, browser: &Browser) -> SsoReply {
    let encoded = encode_redirect(xml.as_bytes());
    let input = Inbound {
        saml_request: &encoded,
        relay_state,
        query: None,
        binding: crate::sessions::Binding::Redirect,
    };
    authn(&h.deps(), &settings(h), &input, browser).expect("authn does not fail")
}

fn post(reply: SsoReply) -> Box<Post> {
    match reply {
        SsoReply::Post(post) => post,
        other => panic!("expected a Post, got {other:?}"),
    }
}

/// The root of the Response: (prefixed name, InResponseTo, StatusCode Value).
fn response_root(xml: &[u8]) -> (String, Option<String>, Vec<String>) {
    let text = std::str::from_utf8(xml).expect("the Response is UTF-8");
    let doc = Parser::default()
        .parse_string(text)
        .expect("the Response parses as XML");
    let root = doc.get_root_element().expect("the Response has a root");
    let prefix = root
        .get_namespace()
        .map(|ns| ns.get_prefix())
        .unwrap_or_default();
    let uri = root
        .get_namespace()
        .map(|ns| ns.get_href())
        .unwrap_or_default();
    assert_eq!(uri, "urn:oasis:names:tc:SAML:2.0:protocol");
    let mut statuses = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(node) = stack.pop() {
        if node.get_name() == "StatusCode" {
            statuses.extend(node.get_attribute("Value"));
        }
        stack.extend(node.get_child_elements());
    }
    (
        format!("{prefix}:{}", root.get_name()),
        root.get_attribute("InResponseTo"),
        statuses,
    )
}

fn event(name: &str, issuer: Option<&str>, success: bool, detail: &str) -> AuditEvent {
    AuditEvent {
        event: AuditKind::parse(name).expect("a kind the IdP writes"),
        issuer: issuer.map(str::to_string),
        user_public_id: None,
        success,
        detail: Some(detail.into()),
        count: 1,
        // The harness sends every request with the Redirect binding; the Response's event
        // (`SAML Auth`) names none.
        binding: (name == "SAML Auth Request").then_some(crate::sessions::Binding::Redirect),
        reference: None,
    }
}

#[test]
fn an_unsigned_request_without_a_session_is_stored_and_asks_to_sign_in() {
    let h = Harness::new();
    let xml = authn_request(
        "_req-1",
        SP,
        &format!(r#"AssertionConsumerServiceURL="{ACS_URL}""#),
    );
    let reply = send(&h, &xml, Some("state-1"), &Browser::default());

    let token = match reply {
        SsoReply::Ask {
            sp,
            ask: Ask::SignIn,
            pending: Some(token),
        } => {
            assert_eq!(sp.issuer, SP);
            token
        }
        other => panic!("expected Ask SignIn with a pending token, got {other:?}"),
    };
    assert_eq!(h.rows("pending_requests"), 1);
    let stored = h
        .stores
        .pending
        .get(&token.hash(), h.now)
        .expect("the pending store reads")
        .expect("the request is stored under the token's hash");
    assert_eq!(stored.issuer, SP);
    assert_eq!(stored.request_id, "_req-1");
    assert_eq!(stored.acs_url, ACS_URL);
    assert_eq!(stored.relay_state.as_deref(), Some("state-1"));
    assert_eq!(stored.year, 2026);
    assert!(!stored.is_passive && !stored.force_authn);
    assert_eq!(stored.received_at, h.now);
    assert_eq!(
        h.audit(),
        vec![event("SAML Auth Request", Some(SP), true, "accepted")]
    );
}

#[test]
fn an_unknown_issuer_is_refused_and_nothing_is_stored() {
    let h = Harness::new();
    let xml = authn_request("_req-2", "urn:test:sp:unknown", "");
    let reply = send(&h, &xml, None, &Browser::default());

    match reply {
        SsoReply::Refused { errors, .. } => assert!(
            errors
                .iter()
                .any(|e| e.code == IntakeCode::UnauthorizedServiceProvider),
            "{errors:?}"
        ),
        other => panic!("expected Refused, got {other:?}"),
    }
    assert_eq!(h.rows("pending_requests"), 0);
    h.assert_one_refusal(AuditKind::SamlAuthRequest, "unauthorized_service_provider");
}

#[test]
fn a_signed_in_session_with_consent_gets_the_response_at_once() {
    let h = Harness::new();
    let user = h.user("someone@example.gov");
    let session = h.signed_in(user);
    h.consent(user, SP, &["email"]);
    let browser = Browser {
        session: Some(session),
        remembered: None,
    };
    let reply = send(&h, &authn_request("_req-3", SP, ""), Some("rs"), &browser);

    let post = post(reply);
    assert_eq!(post.sp.issuer, SP);
    assert_eq!(post.acs_url, ACS_URL);
    assert_eq!(post.relay_state.as_deref(), Some("rs"));
    let (root, in_response_to, statuses) = response_root(&post.saml_response);
    assert_eq!(root, "samlp:Response");
    assert_eq!(in_response_to.as_deref(), Some("_req-3"));
    assert_eq!(
        statuses.first().map(String::as_str),
        Some("urn:oasis:names:tc:SAML:2.0:status:Success")
    );
    assert_eq!(h.rows("pending_requests"), 0);
    assert_eq!(
        h.rows("agency_identities"),
        1,
        "the agency UUID was created"
    );
    assert_eq!(
        h.audit(),
        vec![
            event("SAML Auth Request", Some(SP), true, "accepted"),
            event("SAML Auth", Some(SP), true, "handoff"),
        ]
    );
}

#[test]
fn resume_answers_a_stored_request_once_after_sign_in() {
    let h = Harness::new();
    let reply = send(
        &h,
        &authn_request("_req-4", SP, ""),
        None,
        &Browser::default(),
    );
    let token = match reply {
        SsoReply::Ask {
            pending: Some(token),
            ..
        } => token,
        other => panic!("expected the request to be stored, got {other:?}"),
    };
    let stored: TokenHash = token.hash();

    // The user signs in (password, second factor) and agrees to the release.
    let user = h.user("resumer@example.gov");
    let browser = Browser {
        session: Some(h.signed_in(user)),
        remembered: None,
    };
    h.consent(user, SP, &["email"]);

    let post = post(resume(&h.deps(), &stored, &browser).expect("resume does not fail"));
    let (root, in_response_to, _) = response_root(&post.saml_response);
    assert_eq!(root, "samlp:Response");
    assert_eq!(in_response_to.as_deref(), Some("_req-4"));
    assert_eq!(
        h.rows("pending_requests"),
        0,
        "the stored request was taken"
    );
    assert!(h
        .stores
        .pending
        .get(&stored, h.now)
        .expect("the pending store reads")
        .is_none());

    let again = resume(&h.deps(), &stored, &browser).expect("resume does not fail");
    assert!(matches!(again, SsoReply::NothingPending), "{again:?}");
    let handoffs = h
        .audit()
        .iter()
        .filter(|e| e.event == AuditKind::SamlAuth)
        .count();
    assert_eq!(handoffs, 1, "one Response for one request");
}

#[test]
fn resume_before_sign_in_asks_again_and_keeps_the_request() {
    let h = Harness::new();
    let reply = send(
        &h,
        &authn_request("_req-5", SP, ""),
        None,
        &Browser::default(),
    );
    let Some(token) = (match reply {
        SsoReply::Ask { pending, .. } => pending,
        _ => None,
    }) else {
        panic!("expected the request to be stored");
    };
    let again = resume(&h.deps(), &token.hash(), &Browser::default()).expect("resume");
    assert!(
        matches!(
            again,
            SsoReply::Ask {
                ask: Ask::SignIn,
                pending: None,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(h.rows("pending_requests"), 1);
}

#[test]
fn a_passive_request_without_a_session_gets_the_no_passive_answer() {
    let h = Harness::new();
    let xml = authn_request("_req-6", SP, r#"IsPassive="true""#);
    let post = post(send(&h, &xml, None, &Browser::default()));

    assert_eq!(post.acs_url, ACS_URL);
    let (root, in_response_to, statuses) = response_root(&post.saml_response);
    assert_eq!(root, "samlp:Response");
    assert_eq!(in_response_to.as_deref(), Some("_req-6"));
    assert!(
        statuses
            .iter()
            .any(|s| s == "urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
        "{statuses:?}"
    );
    assert_eq!(h.rows("pending_requests"), 0);
    assert_eq!(
        h.audit(),
        vec![
            event("SAML Auth Request", Some(SP), true, "accepted"),
            event("SAML Auth", Some(SP), false, "no_passive"),
        ]
    );
}
