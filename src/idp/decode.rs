//! The decode tool (`saml-idp decode`, `/tools/saml-request`): a pasted `SAMLRequest` value,
//! whole URL or POST body, run through the same intake as the SAML endpoints, and reported:
//! the readable XML, the message kind, the SP, the signature verdict and every error.
//! Nothing is stored and nobody is signed in. Blocking (libxml2/xmlsec): run in one task.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::intake::authn::{self, Settings, Verdict};
use super::intake::logout::{self, Channel};
use super::intake::{reader_limits, Endpoint, Inbound};
use super::intake::{IntakeCode, IntakeError, IntakeFacts, SignatureVerdict};
use super::saml_params::SamlParams;
use super::sp_cache::SpCache;
use crate::config::Config;
use crate::registry::ServiceProvider;
use crate::saml::codec;
use crate::saml::request_root::{self, MessageKind};
use crate::saml::xml_doc::{self, XmlDoc};
use crate::saml::SamlYear;

/// What the tool runs intake with: the configuration of the endpoints, every live year
/// (the year of the endpoint a request names in its `Destination` is used, else the newest)
/// and the time to judge freshness at.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub config: &'a Config,
    pub entity_id: &'a str,
    pub live_years: &'a [SamlYear],
    pub now: DateTime<Utc>,
}

impl Context<'_> {
    /// The live year whose endpoint `destination` names, else the newest live year.
    fn year(&self, destination: Option<&str>) -> Option<SamlYear> {
        let named = self.live_years.iter().copied().find(|y| {
            ["auth", "logout"]
                .iter()
                .any(|path| destination == Some(format!("{}/{path}{y}", self.entity_id).as_str()))
        });
        named.or_else(|| self.live_years.iter().copied().max())
    }

    /// The settings `/api/saml/auth{year}` gives intake.
    fn sso(&self, year: SamlYear) -> Settings<'_> {
        Settings {
            limits: &self.config.limits,
            entity_id: self.entity_id,
            year,
            now: self.now,
            facial_match_enabled: self.config.facial_match_enabled,
        }
    }
}

/// Everything the tool says about one pasted input.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The decoded message, indented for reading (not the bytes that were verified).
    pub xml: Option<String>,
    /// `AuthnRequest` or `LogoutRequest`, when the message is one of them.
    pub kind: Option<&'static str>,
    pub relay_state: Option<String>,
    pub issuer: Option<String>,
    /// The registered SP the issuer names; `None` with an issuer: not registered.
    pub sp: Option<Arc<ServiceProvider>>,
    pub signature: SignatureVerdict,
    /// Every error the endpoint would answer with, in catalogue order.
    pub errors: Vec<IntakeError>,
    /// Valid, but the SP is inactive: the endpoint shows "no longer uses this service".
    pub inactive: bool,
    pub accepted: bool,
    /// The endpoint it was judged as (`{base_url}/api/saml/auth2026`), when a live year was
    /// found, and the time it was judged at (SPEC 20: a clock or year mismatch shows).
    pub endpoint: Option<String>,
    pub judged_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Runs a pasted input through intake: an AuthnRequest as `/api/saml/auth{YEAR}` would, a
/// LogoutRequest as `/api/saml/logout{YEAR}` would.
pub fn report(input: &str, ctx: &Context<'_>, sps: &SpCache) -> Report {
    let limits = &ctx.config.limits;
    let params = match parse_input(input) {
        Ok(params) => params,
        Err(e) => return refused(vec![e]),
    };
    let Some(saml_request) = params.saml_request() else {
        return refused(vec![IntakeError::with_detail(
            IntakeCode::NoAuthOrLogoutRequest,
            "no SAMLRequest parameter",
        )]);
    };
    let relay_state = params.relay_state();
    let decoded = codec::decode(&saml_request, limits).ok();
    let doc = decoded
        .as_deref()
        .and_then(|xml| XmlDoc::parse(xml, &reader_limits(limits)).ok());
    let kind = doc.as_ref().map(request_root::kind);
    let destination = doc
        .as_ref()
        .and_then(XmlDoc::root)
        .and_then(|root| xml_doc::attr(&root, "Destination"));
    let Some(year) = ctx.year(destination.as_deref()) else {
        return refused(vec![IntakeError::with_detail(
            IntakeCode::MalformedRequest,
            "no live year is configured",
        )]);
    };
    let mut facts = IntakeFacts::default();
    let path = if kind == Some(MessageKind::LogoutRequest) {
        Channel::Front.path()
    } else {
        "auth"
    };
    let mut report = Report {
        xml: decoded.as_deref().map(crate::saml::pretty::pretty_xml),
        relay_state: relay_state.clone(),
        endpoint: Some(format!("{}/{path}{year}", ctx.entity_id)),
        judged_at: Some(ctx.now),
        ..Report::default()
    };
    if kind == Some(MessageKind::LogoutRequest) {
        report.kind = Some("LogoutRequest");
        let query = params.signed_query();
        let endpoint = Endpoint {
            entity_id: ctx.entity_id,
            path: Channel::Front.path(),
            year,
            now: ctx.now,
            limits,
        };
        let verdict =
            logout::intake_with_facts(&saml_request, query.as_ref(), &endpoint, sps, &mut facts);
        match verdict {
            Ok(_) => report.accepted = true,
            Err(errors) => report.errors = errors,
        }
    } else {
        report.kind = (kind == Some(MessageKind::AuthnRequest)).then_some("AuthnRequest");
        let request = Inbound {
            saml_request: &saml_request,
            relay_state: relay_state.as_deref(),
            query: params.signed_query(),
            // The tool audits nothing; the binding is the audit trail's.
            binding: crate::sessions::Binding::default(),
        };
        match authn::intake_with_facts(&request, &ctx.sso(year), sps, &mut facts) {
            Verdict::Accepted(_) => report.accepted = true,
            Verdict::Rejected(errors) => report.errors = errors,
            Verdict::Inactive(_) => report.inactive = true,
        }
    }
    report.issuer = facts.issuer;
    report.sp = facts.sp;
    report.signature = facts.signature;
    report
}

fn refused(errors: Vec<IntakeError>) -> Report {
    Report {
        errors,
        ..Report::default()
    }
}

/// A whole URL (its query string), a POST body or query string (`SAMLRequest=…&…`), a bare
/// `SAMLRequest` value (url-encoded or not), or the XML itself; parsed by the endpoints' own
/// parameter parser, so the signed octets stay as received.
pub fn parse_input(input: &str) -> Result<SamlParams, IntakeError> {
    let text = input.trim();
    if text.starts_with('<') {
        let value = codec::encode_post(text.as_bytes());
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        return SamlParams::parse(&format!("SAMLRequest={encoded}"));
    }
    let is_url = text.contains("://") || text.starts_with('/');
    if is_url {
        let without_fragment = text.split('#').next().unwrap_or_default();
        let Some((_, query)) = without_fragment.split_once('?') else {
            return Err(IntakeError::with_detail(
                IntakeCode::NoAuthOrLogoutRequest,
                "the URL has no query string",
            ));
        };
        return SamlParams::parse(query);
    }
    let query = text.strip_prefix('?').unwrap_or(text);
    if query.starts_with("SAMLRequest=") || query.contains("&SAMLRequest=") {
        return SamlParams::parse(query);
    }
    // A bare value: base64 never holds `&`, and `SamlParams` keeps a literal `+`.
    SamlParams::parse(&format!("SAMLRequest={query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_of_every_shape() {
        let bare = parse_input("  PHg+\n").expect("bare");
        assert_eq!(bare.saml_request().as_deref(), Some("PHg+"));
        let encoded = parse_input("PHg%2B").expect("url-encoded");
        assert_eq!(encoded.saml_request().as_deref(), Some("PHg+"));
        let url = parse_input(
            "https://idp.example/api/saml/auth2026?SAMLRequest=abc&RelayState=x%20y#top",
        )
        .expect("url");
        assert_eq!(url.saml_request().as_deref(), Some("abc"));
        assert_eq!(url.relay_state().as_deref(), Some("x y"));
        let body = parse_input("SAMLRequest=abc%3D&RelayState=r").expect("body");
        assert_eq!(body.saml_request().as_deref(), Some("abc="));
        let padded = parse_input("abc==").expect("padded bare value");
        assert_eq!(padded.saml_request().as_deref(), Some("abc=="));
        let xml = parse_input("<x/>").expect("xml");
        assert_eq!(xml.saml_request().as_deref(), Some("PHgvPg=="));
        assert!(parse_input("https://idp.example/api/saml/auth2026").is_err());
    }
}
