//! The messages the demo SP sends: AuthnRequest and LogoutRequest over the HTTP-Redirect
//! binding, signed as the binding defines (saml-bindings §3.4.4.1: RSA-SHA256 over
//! `SAMLRequest=…&RelayState=…&SigAlg=…`), and a LogoutRequest with an enveloped signature
//! for the back channel (`/api/saml/remotelogout{YEAR}`).

use base64::Engine;
use chrono::{DateTime, Duration, Utc};

use super::error::DemoSpError;
use super::sp::DemoSp;
use crate::crypto::xml_signer;
use crate::saml::response::instant;
use crate::saml::{codec, ns, xml_writer::CanonicalWriter};

/// The assurance the demo SP asks for: one button each on its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Auth-only at the SP's default AAL (the demo SP is registered for IAL2, so the IAL is
    /// named; no AAL is).
    Default,
    Aal2,
    PhishingResistant,
    Ial2,
}

impl Level {
    pub fn parse(name: &str) -> Option<Level> {
        match name {
            "default" => Some(Level::Default),
            "aal2" => Some(Level::Aal2),
            "phishing_resistant" => Some(Level::PhishingResistant),
            "ial2" => Some(Level::Ial2),
            _ => None,
        }
    }

    fn class_refs(self) -> &'static [&'static str] {
        match self {
            Level::Default => &[ns::IAL_AUTH_ONLY],
            Level::Aal2 => &[ns::IAL_AUTH_ONLY, ns::AAL2],
            Level::PhishingResistant => &[ns::IAL_AUTH_ONLY, ns::AAL2_PHISHING_RESISTANT],
            Level::Ial2 => &[ns::IAL_VERIFIED],
        }
    }
}

/// What one AuthnRequest asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestOptions {
    pub level: Level,
    pub force_authn: bool,
    pub is_passive: bool,
}

/// The session the demo SP keeps after a verified Response: what its logout names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DemoSession {
    pub name_id: String,
    pub name_id_format: String,
    pub session_index: Option<String>,
}

impl DemoSp {
    /// The IdP URL the browser is sent to with a signed AuthnRequest whose `ID` is `id`.
    pub fn authn_request_url(
        &self,
        options: RequestOptions,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, DemoSpError> {
        let issued = instant(now);
        let mut attributes = vec![
            ("AssertionConsumerServiceURL", self.acs_url.as_str()),
            ("Destination", self.idp.sso_redirect.as_str()),
            ("ID", id),
            ("IssueInstant", issued.as_str()),
            ("ProtocolBinding", ns::BINDING_POST),
            ("Version", "2.0"),
        ];
        if options.force_authn {
            attributes.push(("ForceAuthn", "true"));
        }
        if options.is_passive {
            attributes.push(("IsPassive", "true"));
        }
        let mut w = CanonicalWriter::new();
        w.start("samlp:AuthnRequest", &attributes);
        w.leaf("saml:Issuer", &[], &self.issuer);
        w.empty(
            "samlp:NameIDPolicy",
            &[("AllowCreate", "true"), ("Format", ns::NAMEID_PERSISTENT)],
        );
        w.start("samlp:RequestedAuthnContext", &[("Comparison", "exact")]);
        for class_ref in options.level.class_refs() {
            w.leaf("saml:AuthnContextClassRef", &[], class_ref);
        }
        w.end();
        w.end();
        self.redirect(&self.idp.sso_redirect, &w.into_bytes())
    }

    /// The IdP URL the browser is sent to with a signed LogoutRequest for `session`.
    pub fn logout_request_url(
        &self,
        session: &DemoSession,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, DemoSpError> {
        let index = session.session_index.as_deref();
        let (xml, _) = self.logout_request(session, index, id, now, &self.idp.slo_redirect);
        self.redirect(&self.idp.slo_redirect, &xml)
    }

    /// A LogoutRequest with an enveloped signature for `remotelogout_url`, base64 as the
    /// `SAMLRequest` form field of a back-channel POST. Its `SessionIndex` is the user's
    /// persistent NameID, which is how the back channel names whose sessions end.
    pub fn remote_logout_body(
        &self,
        session: &DemoSession,
        id: &str,
        now: DateTime<Utc>,
        remotelogout_url: &str,
    ) -> Result<String, DemoSpError> {
        let index = Some(session.name_id.as_str());
        let (xml, at) = self.logout_request(session, index, id, now, remotelogout_url);
        let signed = xml_signer::sign_enveloped(&xml, at, id, &self.key)
            .map_err(|e| DemoSpError::Sign(e.to_string()))?;
        Ok(codec::encode_post(&signed))
    }

    fn logout_request(
        &self,
        session: &DemoSession,
        session_index: Option<&str>,
        id: &str,
        now: DateTime<Utc>,
        destination: &str,
    ) -> (Vec<u8>, usize) {
        let issued = instant(now);
        let not_after = instant(now + Duration::minutes(10));
        let mut w = CanonicalWriter::new();
        w.start(
            "samlp:LogoutRequest",
            &[
                ("Destination", destination),
                ("ID", id),
                ("IssueInstant", &issued),
                ("NotOnOrAfter", &not_after),
                ("Version", "2.0"),
            ],
        );
        w.leaf("saml:Issuer", &[], &self.issuer);
        // An enveloped signature goes right after the Issuer.
        let signature_at = w.position();
        w.leaf(
            "saml:NameID",
            &[("Format", session.name_id_format.as_str())],
            &session.name_id,
        );
        if let Some(index) = session_index {
            w.leaf("samlp:SessionIndex", &[], index);
        }
        w.end();
        (w.into_bytes(), signature_at)
    }

    fn redirect(&self, endpoint: &str, xml: &[u8]) -> Result<String, DemoSpError> {
        let encode =
            |v: &str| -> String { url::form_urlencoded::byte_serialize(v.as_bytes()).collect() };
        let signed_part = format!(
            "SAMLRequest={}&SigAlg={}",
            encode(&codec::encode_redirect(xml)),
            encode(ns::ALG_RSA_SHA256)
        );
        let signature = self
            .key
            .sign_rsa_sha256(signed_part.as_bytes())
            .map_err(|e| DemoSpError::Sign(e.to_string()))?;
        let signature = base64::engine::general_purpose::STANDARD.encode(signature);
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{endpoint}{separator}{signed_part}&Signature={}",
            encode(&signature)
        ))
    }
}
