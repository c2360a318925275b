//! Reading one service provider's SAML 2.0 metadata into the facts the IdP keeps about it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::x509::X509;
use thiserror::Error;

use crate::saml::ns;
use crate::saml::xml_reader::{self, Element, Limits, XmlError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpMetadata {
    pub entity_id: String,
    /// HTTP-POST AssertionConsumerService Locations: the `isDefault="true"` one first, then by `index`.
    pub acs_urls: Vec<String>,
    /// The first HTTP-POST SingleLogoutService Location, else the first HTTP-Redirect one.
    pub logout_url: Option<String>,
    /// Every X.509 certificate of the SPSSODescriptor's KeyDescriptors, as PEM, duplicates removed.
    pub certificates_pem: Vec<String>,
    /// The entity's OrganizationDisplayName (English preferred), whitespace collapsed.
    pub friendly_name: Option<String>,
    pub want_assertions_signed: bool,
    pub authn_requests_signed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpMetadataError {
    #[error("the metadata is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    #[error("the document is an md:EntitiesDescriptor (a group of entities); import one md:EntityDescriptor at a time")]
    UnsupportedRoot,
    #[error("the document root is {found}, not md:EntityDescriptor of namespace urn:oasis:names:tc:SAML:2.0:metadata")]
    NotEntityDescriptor { found: String },
    #[error("md:EntityDescriptor has no entityID attribute, or it is empty")]
    MissingEntityId,
    #[error("entityID {value:?} is not usable: {reason}")]
    InvalidEntityId { value: String, reason: &'static str },
    #[error("there is no md:SPSSODescriptor whose protocolSupportEnumeration lists urn:oasis:names:tc:SAML:2.0:protocol")]
    NoSpSsoDescriptor,
    #[error("there is more than one SAML 2.0 md:SPSSODescriptor; exactly one is supported")]
    MultipleSpSsoDescriptors,
    #[error("md:SPSSODescriptor has no md:AssertionConsumerService with the HTTP-POST binding, which is the only one the IdP uses")]
    NoPostAcs,
    #[error(
        "md:AssertionConsumerService has index {value:?}; it must be a number from 0 to 65535"
    )]
    InvalidAcsIndex { value: String },
    #[error("md:{element} has Location {value:?}; it must be an absolute http:// or https:// URL")]
    InvalidLocation {
        element: &'static str,
        value: String,
    },
    #[error("attribute {attribute} is {value:?}; it must be true or false")]
    InvalidBoolean {
        attribute: &'static str,
        value: String,
    },
    #[error("md:KeyDescriptor has use={value:?}; it must be signing or encryption, or absent")]
    InvalidKeyUse { value: String },
    #[error("certificate {position} of md:SPSSODescriptor is not usable: {detail}")]
    InvalidCertificate { position: usize, detail: String },
}

type Result<T> = std::result::Result<T, SpMetadataError>;

/// Parses one SP's metadata document.
pub fn parse_sp_metadata(xml: &[u8]) -> Result<SpMetadata> {
    let root = xml_reader::parse(xml, &Limits::default())?;
    check_root(&root)?;
    let entity_id = entity_id(&root)?;
    let sp = sp_sso_descriptor(&root)?;
    Ok(SpMetadata {
        entity_id,
        acs_urls: acs_urls(sp)?,
        logout_url: logout_url(sp)?,
        certificates_pem: certificates(sp)?,
        friendly_name: friendly_name(&root)?,
        want_assertions_signed: boolean(sp, "WantAssertionsSigned")?,
        authn_requests_signed: boolean(sp, "AuthnRequestsSigned")?,
    })
}

fn check_root(root: &Element) -> Result<()> {
    if root.is(ns::MD, "EntitiesDescriptor") {
        return Err(SpMetadataError::UnsupportedRoot);
    }
    if root.is(ns::MD, "EntityDescriptor") {
        return Ok(());
    }
    let found = match &root.namespace {
        Some(namespace) => format!("<{}> of namespace {namespace}", root.local_name),
        None => format!("<{}> of no namespace", root.local_name),
    };
    Err(SpMetadataError::NotEntityDescriptor { found })
}

fn entity_id(root: &Element) -> Result<String> {
    let value = root.attr("entityID").unwrap_or_default();
    if value.is_empty() {
        return Err(SpMetadataError::MissingEntityId);
    }
    let reason = if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "it contains whitespace"
    } else if value.chars().count() > 1024 {
        "it is longer than 1024 characters"
    } else {
        return Ok(value.to_string());
    };
    let value = value.to_string();
    Err(SpMetadataError::InvalidEntityId { value, reason })
}

fn sp_sso_descriptor(root: &Element) -> Result<&Element> {
    let mut found = root
        .children(ns::MD, "SPSSODescriptor")
        .filter(|sp| supports_saml2(sp));
    let sp = found.next().ok_or(SpMetadataError::NoSpSsoDescriptor)?;
    if found.next().is_some() {
        return Err(SpMetadataError::MultipleSpSsoDescriptors);
    }
    Ok(sp)
}

fn supports_saml2(sp: &Element) -> bool {
    sp.attr("protocolSupportEnumeration")
        .is_some_and(|list| list.split_whitespace().any(|p| p == ns::PROTOCOL))
}

/// An xs:boolean attribute; absent is false.
fn boolean(element: &Element, attribute: &'static str) -> Result<bool> {
    match element.attr(attribute).map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(SpMetadataError::InvalidBoolean {
            attribute,
            value: other.to_string(),
        }),
    }
}

fn binding_is(endpoint: &Element, binding: &str) -> bool {
    endpoint.attr("Binding").map(str::trim) == Some(binding)
}

/// An endpoint's Location, which must be an absolute http(s) URL (it becomes a form action).
fn location(endpoint: &Element, element: &'static str) -> Result<String> {
    let value = endpoint.attr("Location").unwrap_or_default();
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let usable = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    if !usable {
        return Err(SpMetadataError::InvalidLocation {
            element,
            value: value.to_string(),
        });
    }
    Ok(value.to_string())
}

fn acs_index(acs: &Element) -> Result<u16> {
    let value = acs.attr("index").unwrap_or_default();
    let trimmed = value.trim();
    let number = if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        trimmed.parse::<u16>().ok()
    } else {
        None
    };
    number.ok_or_else(|| SpMetadataError::InvalidAcsIndex {
        value: value.to_string(),
    })
}

fn acs_urls(sp: &Element) -> Result<Vec<String>> {
    let mut endpoints = Vec::new();
    for acs in sp.children(ns::MD, "AssertionConsumerService") {
        if binding_is(acs, ns::BINDING_POST) {
            let index = acs_index(acs)?;
            let default = boolean(acs, "isDefault")?;
            endpoints.push((index, default, location(acs, "AssertionConsumerService")?));
        }
    }
    if endpoints.is_empty() {
        return Err(SpMetadataError::NoPostAcs);
    }
    endpoints.sort_by_key(|(index, _, _)| *index);
    if let Some(pos) = endpoints.iter().position(|(_, default, _)| *default) {
        let chosen = endpoints.remove(pos);
        endpoints.insert(0, chosen);
    }
    let mut urls: Vec<String> = Vec::new();
    for (_, _, url) in endpoints {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    Ok(urls)
}

fn logout_url(sp: &Element) -> Result<Option<String>> {
    for binding in [ns::BINDING_POST, ns::BINDING_REDIRECT] {
        let first = sp
            .children(ns::MD, "SingleLogoutService")
            .find(|slo| binding_is(slo, binding));
        if let Some(slo) = first {
            return location(slo, "SingleLogoutService").map(Some);
        }
    }
    Ok(None)
}

fn certificates(sp: &Element) -> Result<Vec<String>> {
    let mut pems: Vec<String> = Vec::new();
    let mut position = 0;
    for key in sp.children(ns::MD, "KeyDescriptor") {
        if let Some(value) = key
            .attr("use")
            .filter(|u| !matches!(*u, "signing" | "encryption"))
        {
            return Err(SpMetadataError::InvalidKeyUse {
                value: value.to_string(),
            });
        }
        let certs = key
            .children(ns::DS, "KeyInfo")
            .flat_map(|info| info.children(ns::DS, "X509Data"))
            .flat_map(|data| data.children(ns::DS, "X509Certificate"));
        for cert in certs {
            position += 1;
            let pem = certificate_pem(cert)
                .map_err(|detail| SpMetadataError::InvalidCertificate { position, detail })?;
            if !pems.contains(&pem) {
                pems.push(pem);
            }
        }
    }
    Ok(pems)
}

/// Checks that a ds:X509Certificate holds one DER certificate and returns it as PEM (also
/// how the demo SP reads the IdP's metadata).
pub fn certificate_pem(cert: &Element) -> std::result::Result<String, String> {
    let text = cert.text().map_err(|e| e.to_string())?;
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r'))
        .collect();
    if compact.is_empty() {
        return Err("the ds:X509Certificate element is empty".to_string());
    }
    let der = STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("it is not valid base64 ({e})"))?;
    let parsed = X509::from_der(&der).map_err(|e| {
        let reason = e.errors().first().and_then(|first| first.reason());
        format!(
            "it is not a DER X.509 certificate ({})",
            reason.unwrap_or("unreadable")
        )
    })?;
    let reencoded = parsed
        .to_der()
        .map_err(|e| format!("it cannot be re-encoded ({e})"))?;
    if reencoded != der {
        return Err("it has data after the certificate or is not in canonical DER".to_string());
    }
    Ok(pem_wrap(&STANDARD.encode(&der)))
}

fn pem_wrap(base64: &str) -> String {
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

fn friendly_name(root: &Element) -> Result<Option<String>> {
    let Some(org) = root.child(ns::MD, "Organization") else {
        return Ok(None);
    };
    let names: Vec<&Element> = org.children(ns::MD, "OrganizationDisplayName").collect();
    let english = names.iter().find(|n| {
        n.attr_ns(ns::XML, "lang")
            .is_some_and(|lang| lang.trim().eq_ignore_ascii_case("en"))
    });
    let Some(chosen) = english.or(names.first()) else {
        return Ok(None);
    };
    let text = chosen.text()?;
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Some(collapsed).filter(|name| !name.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &[u8] = include_bytes!("../../metadata/example-sp.xml");
    const MINIMAL: &[u8] = include_bytes!("../../metadata/minimal-sp.xml");
    const POST: &str = ns::BINDING_POST;
    const REDIRECT: &str = ns::BINDING_REDIRECT;

    /// An SPSSODescriptor (SAML 1.1 and 2.0) holding `inner`.
    fn descriptor(inner: &str) -> String {
        let protocols = format!("urn:oasis:names:tc:SAML:1.1:protocol {}", ns::PROTOCOL);
        format!(
            r#"<md:SPSSODescriptor protocolSupportEnumeration="{protocols}">{inner}</md:SPSSODescriptor>"#
        )
    }

    fn entity(inner: &str) -> String {
        let (md, ds) = (ns::MD, ns::DS);
        format!(
            r#"<md:EntityDescriptor xmlns:md="{md}" xmlns:ds="{ds}" entityID="https://sp.test/">{inner}</md:EntityDescriptor>"#
        )
    }

    /// An EntityDescriptor whose SPSSODescriptor holds `inner`.
    fn sp(inner: &str) -> String {
        entity(&descriptor(inner))
    }

    fn acs(index: &str, location: &str, extra: &str) -> String {
        format!(
            r#"<md:AssertionConsumerService Binding="{POST}" Location="{location}" index="{index}" {extra}/>"#
        )
    }

    fn key(base64: &str) -> String {
        format!("<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>")
    }

    fn parse(xml: &str) -> Result<SpMetadata> {
        parse_sp_metadata(xml.as_bytes())
    }

    fn pem_body(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    #[test]
    fn reads_the_example_sp() {
        let md = parse_sp_metadata(EXAMPLE).unwrap();
        assert_eq!(
            md.entity_id,
            "urn:gov:gsa:SAML:2.0.profiles:sp:sso:example:app"
        );
        let acs = [
            "https://app.example.com/saml/acs",
            "https://app.example.com/saml/acs/secondary",
        ];
        assert_eq!(md.acs_urls, acs);
        assert_eq!(
            md.logout_url.as_deref(),
            Some("https://app.example.com/saml/logout")
        );
        assert_eq!(md.friendly_name.as_deref(), Some("Example Application"));
        assert!(md.want_assertions_signed && md.authn_requests_signed);
        assert_eq!(md.certificates_pem.len(), 2);
        for pem in &md.certificates_pem {
            let cert = X509::from_pem(pem.as_bytes()).unwrap();
            assert_eq!(String::from_utf8(cert.to_pem().unwrap()).unwrap(), *pem);
            assert!(pem.lines().all(|l| l.len() <= 64));
        }
    }

    #[test]
    fn reads_the_minimal_sp() {
        let md = parse_sp_metadata(MINIMAL).unwrap();
        assert_eq!(md.entity_id, "https://minimal.example.com/saml/metadata");
        assert_eq!(md.acs_urls, ["https://minimal.example.com/saml/acs"]);
        assert_eq!((md.logout_url, md.friendly_name), (None, None));
        assert!(md.certificates_pem.is_empty());
        assert!(!md.want_assertions_signed && !md.authn_requests_signed);
    }

    #[test]
    fn acs_order_default_first_then_index_without_duplicates() {
        let inner = [
            acs("3", "https://sp.test/c", ""),
            acs("2", "https://sp.test/b", r#"isDefault="true""#),
            acs("1", "https://sp.test/a", ""),
            acs("4", "https://sp.test/a", ""),
        ];
        let md = parse(&sp(&inner.concat())).unwrap();
        assert_eq!(
            md.acs_urls,
            [
                "https://sp.test/b",
                "https://sp.test/a",
                "https://sp.test/c"
            ]
        );
    }

    #[test]
    fn acs_errors() {
        let redirect_only = format!(
            r#"<md:AssertionConsumerService Binding="{REDIRECT}" Location="https://sp.test/r" index="0"/>"#
        );
        assert_eq!(parse(&sp(&redirect_only)), Err(SpMetadataError::NoPostAcs));
        for index in ["", "x", "-1", "65536", "+1"] {
            let value = index.to_string();
            let err = parse(&sp(&acs(index, "https://sp.test/", ""))).unwrap_err();
            assert_eq!(err, SpMetadataError::InvalidAcsIndex { value });
        }
        let missing = format!(
            r#"<md:AssertionConsumerService Binding="{POST}" Location="https://sp.test/"/>"#
        );
        let value = String::new();
        assert_eq!(
            parse(&sp(&missing)),
            Err(SpMetadataError::InvalidAcsIndex { value })
        );
        for location in [
            "javascript:alert(1)",
            "/relative",
            "https://",
            "https://a b/",
        ] {
            let err = parse(&sp(&acs("0", location, ""))).unwrap_err();
            assert!(
                matches!(err, SpMetadataError::InvalidLocation { .. }),
                "{location}"
            );
        }
    }

    #[test]
    fn logout_prefers_post_then_redirect() {
        let slo = |binding: &str, at: &str| {
            format!(
                r#"<md:SingleLogoutService Binding="{binding}" Location="https://sp.test/{at}"/>"#
            )
        };
        let acs0 = acs("0", "https://sp.test/acs", "");
        let md = parse(&sp(
            &[slo(REDIRECT, "r"), slo(POST, "p"), acs0.clone()].concat()
        ))
        .unwrap();
        assert_eq!(md.logout_url.as_deref(), Some("https://sp.test/p"));
        let md = parse(&sp(&[slo(REDIRECT, "r"), acs0].concat())).unwrap();
        assert_eq!(md.logout_url.as_deref(), Some("https://sp.test/r"));
    }

    #[test]
    fn root_entity_id_and_descriptor_errors() {
        let aggregate = format!(
            r#"<md:EntitiesDescriptor xmlns:md="{}">{}</md:EntitiesDescriptor>"#,
            ns::MD,
            sp("")
        );
        assert_eq!(parse(&aggregate), Err(SpMetadataError::UnsupportedRoot));
        let other = parse("<EntityDescriptor/>").unwrap_err();
        assert!(matches!(other, SpMetadataError::NotEntityDescriptor { .. }));
        let acs0 = acs("0", "https://sp.test/", "");
        let no_id = sp(&acs0).replace(r#"entityID="https://sp.test/""#, "");
        assert_eq!(parse(&no_id), Err(SpMetadataError::MissingEntityId));
        let spaced = sp(&acs0).replace("https://sp.test/\"", "https://sp.test/ x\"");
        assert!(matches!(
            parse(&spaced),
            Err(SpMetadataError::InvalidEntityId { .. })
        ));
        assert_eq!(parse(&entity("")), Err(SpMetadataError::NoSpSsoDescriptor));
        let saml1 = sp(&acs0).replace(ns::PROTOCOL, "urn:x");
        assert_eq!(parse(&saml1), Err(SpMetadataError::NoSpSsoDescriptor));
        let two = entity(&descriptor(&acs0).repeat(2));
        assert_eq!(parse(&two), Err(SpMetadataError::MultipleSpSsoDescriptors));
    }

    #[test]
    fn certificates_are_checked_and_deduplicated() {
        let example = parse_sp_metadata(EXAMPLE).unwrap();
        let good = pem_body(&example.certificates_pem[0]);
        let acs0 = acs("0", "https://sp.test/", "");
        let wrapped = format!("\n  {}\n  {}\n", &good[..64], &good[64..]);
        let md = parse(&sp(&[key(&wrapped), key(&good), acs0.clone()].concat())).unwrap();
        assert_eq!(md.certificates_pem, [example.certificates_pem[0].clone()]);
        let trailing = STANDARD.encode([STANDARD.decode(&good).unwrap(), vec![0; 3]].concat());
        let cases = [
            "not base64!",
            "aGVsbG8=",
            "",
            &format!("{good}<!---->"),
            &trailing,
        ];
        for bad in cases {
            let err = parse(&sp(&[key(&good), key(bad), acs0.clone()].concat())).unwrap_err();
            assert!(
                matches!(err, SpMetadataError::InvalidCertificate { position: 2, .. }),
                "{bad}: {err}"
            );
        }
        let bad_use = sp(&[
            key(&good).replace("<md:KeyDescriptor>", r#"<md:KeyDescriptor use="both">"#),
            acs0,
        ]
        .concat());
        assert!(matches!(
            parse(&bad_use),
            Err(SpMetadataError::InvalidKeyUse { .. })
        ));
    }

    #[test]
    fn friendly_name_prefers_english_and_refuses_comments() {
        let acs0 = acs("0", "https://sp.test/", "");
        let org = |names: &str| {
            entity(&format!(
                "{}<md:Organization>{names}</md:Organization>",
                descriptor(&acs0)
            ))
        };
        let name = |lang: &str, text: &str| {
            format!(
                r#"<md:OrganizationDisplayName xml:lang="{lang}">{text}</md:OrganizationDisplayName>"#
            )
        };
        let md = parse(&org(
            &[name("fr", "Appli"), name("en", " Example \n App ")].concat()
        ))
        .unwrap();
        assert_eq!(md.friendly_name.as_deref(), Some("Example App"));
        let md = parse(&org(&name("fr", "Appli"))).unwrap();
        assert_eq!(md.friendly_name.as_deref(), Some("Appli"));
        let err = parse(&org(&name("en", "Example<!-- x -->App"))).unwrap_err();
        assert!(matches!(
            err,
            SpMetadataError::Xml(XmlError::MixedContent { .. })
        ));
    }

    #[test]
    fn hostile_xml_is_refused() {
        let doctype = format!("<!DOCTYPE x [<!ENTITY e \"boom\">]>{}", sp(""));
        assert_eq!(
            parse(&doctype),
            Err(SpMetadataError::Xml(XmlError::DoctypeForbidden))
        );
        let flags = sp(&acs("0", "https://sp.test/", "")).replace(
            "protocolSupportEnumeration",
            r#"WantAssertionsSigned="yes" protocolSupportEnumeration"#,
        );
        assert!(matches!(
            parse(&flags),
            Err(SpMetadataError::InvalidBoolean { .. })
        ));
    }
}
