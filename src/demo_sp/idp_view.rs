//! What the demo SP knows of the IdP, read from the IdP's metadata document as any SP
//! imports it: the entity ID, the Redirect endpoints for sign-in and logout, and the
//! signing certificates.

use crate::crypto::cert::Certificate;
use crate::saml::ns;
use crate::saml::sp_metadata::certificate_pem;
use crate::saml::xml_reader::{self, Element, Limits};

use super::error::DemoSpError;

#[derive(Debug, Clone)]
pub struct IdpView {
    pub entity_id: String,
    pub sso_redirect: String,
    pub slo_redirect: String,
    /// `use="signing"` (or unmarked) certificates: the only keys a Response may be signed by.
    pub signing_certificates: Vec<Certificate>,
}

impl IdpView {
    pub fn from_metadata(xml: &[u8]) -> Result<IdpView, DemoSpError> {
        let bad = |what: &str| DemoSpError::IdpMetadata(what.to_string());
        let root = xml_reader::parse(xml, &Limits::default())
            .map_err(|e| DemoSpError::IdpMetadata(e.public_detail()))?;
        if !root.is(ns::MD, "EntityDescriptor") {
            return Err(bad("the root is not md:EntityDescriptor"));
        }
        let entity_id = root
            .attr("entityID")
            .ok_or_else(|| bad("no entityID"))?
            .to_string();
        let idp = root
            .child(ns::MD, "IDPSSODescriptor")
            .ok_or_else(|| bad("no IDPSSODescriptor"))?;
        let redirect = |local: &str| {
            idp.children(ns::MD, local)
                .find(|e| e.attr("Binding") == Some(ns::BINDING_REDIRECT))
                .and_then(|e| e.attr("Location"))
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("no HTTP-Redirect {local}")))
        };
        let signing_certificates = idp
            .children(ns::MD, "KeyDescriptor")
            .filter(|k| matches!(k.attr("use"), None | Some("signing")))
            .filter_map(certificate_of)
            .collect::<Vec<_>>();
        if signing_certificates.is_empty() {
            return Err(bad("no signing certificate"));
        }
        Ok(IdpView {
            entity_id,
            sso_redirect: redirect("SingleSignOnService")?,
            slo_redirect: redirect("SingleLogoutService")?,
            signing_certificates,
        })
    }
}

fn certificate_of(key_descriptor: &Element) -> Option<Certificate> {
    let element = key_descriptor
        .child(ns::DS, "KeyInfo")?
        .child(ns::DS, "X509Data")?
        .child(ns::DS, "X509Certificate")?;
    let pem = certificate_pem(element).ok()?;
    Certificate::from_pem(pem.as_bytes()).ok()
}
