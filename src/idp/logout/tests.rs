//! Remote and front-channel logout against the in-memory stores: refusals and their audit
//! events.

use base64::Engine;

use super::front_channel::{front_channel, Reply};
use super::remote::{remote, Refusal, RemoteAnswer};
use crate::idp::intake::IntakeCode;
use crate::idp::testing::{self, logout_request, Harness, SP};
use crate::saml::codec::encode_redirect;
use crate::sessions::AuditKind;

#[test]
fn an_unsigned_remote_logout_is_refused_and_ends_no_session() {
    let h = Harness::new();
    let user = h.user("leaver@example.gov");
    h.signed_in(user);
    let xml = logout_request("_logout-1", SP, "remotelogout", "some-uuid");
    let body = base64::engine::general_purpose::STANDARD.encode(xml.as_bytes());

    let answer = remote(&h.deps(), testing::year(), &body, &h.limits).expect("remote runs");

    match &answer {
        RemoteAnswer::Refused(Refusal::Intake(errors)) => {
            let codes: Vec<IntakeCode> = errors.iter().map(|e| e.code).collect();
            assert!(codes.contains(&IntakeCode::SignatureRequired), "{codes:?}");
        }
        other => panic!("expected an intake refusal, got {other:?}"),
    }
    assert_eq!(h.rows("browser_sessions"), 1, "the session stays");
    h.assert_one_refusal(AuditKind::RemoteLogoutInitiated, "signature_required");
}

#[test]
fn front_channel_refuses_an_unknown_issuer_with_an_audit_event() {
    let h = Harness::new();
    let xml = logout_request("_logout-2", "urn:test:sp:unknown", "logout", "some-uuid");
    let encoded = encode_redirect(xml.as_bytes());

    let reply = front_channel(
        &h.deps(),
        testing::year(),
        &encoded,
        None,
        crate::sessions::Binding::Redirect,
        &h.limits,
    )
    .expect("front_channel runs");

    match &reply {
        Reply::Refused(errors, _) => assert!(
            errors
                .iter()
                .any(|e| e.code == IntakeCode::UnauthorizedServiceProvider),
            "{errors:?}"
        ),
        Reply::Answer(answer) => {
            panic!("expected a refusal, got an answer to {}", answer.logout_url)
        }
    }
    h.assert_one_refusal(AuditKind::LogoutInitiated, "unauthorized_service_provider");
}
