//! `GET /api/saml/metadata{YEAR}` (SPEC 10): one signed `EntityDescriptor` per live year,
//! signed once at start with that year's key and served from memory afterwards.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::Config;
use crate::crypto::xml_signer::{sign_enveloped, SignError};
use crate::crypto::KeyRing;
use crate::ids::IdSource;
use crate::saml::metadata::{self, Contact, IdpMetadata, Organization};
use crate::saml::SamlYear;

const XML_DECLARATION: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The signed metadata bytes of every live year.
#[derive(Debug, Clone)]
pub struct MetadataDocuments {
    documents: BTreeMap<SamlYear, Arc<[u8]>>,
}

impl MetadataDocuments {
    pub fn build(config: &Config, keys: &KeyRing, ids: &dyn IdSource) -> Result<Self, SignError> {
        let documents = keys
            .years()
            .map(|year| Ok((year, Arc::from(signed(config, keys, ids, year)?))))
            .collect::<Result<_, SignError>>()?;
        Ok(MetadataDocuments { documents })
    }

    pub fn years(&self) -> impl Iterator<Item = SamlYear> + '_ {
        self.documents.keys().copied()
    }

    pub fn get(&self, year: SamlYear) -> Option<Arc<[u8]>> {
        self.documents.get(&year).cloned()
    }
}

fn signed(
    config: &Config,
    keys: &KeyRing,
    ids: &dyn IdSource,
    year: SamlYear,
) -> Result<Vec<u8>, SignError> {
    let Some(key) = keys.get(year) else {
        return Ok(Vec::new());
    };
    let id = ids.new_id();
    let entity_id = config.entity_id();
    let sso_url = format!("{entity_id}/auth{year}");
    let slo_url = format!("{entity_id}/logout{year}");
    let email = mailto(&config.technical_contact.email);
    let contact = &config.technical_contact;
    let unsigned = metadata::write(&IdpMetadata {
        id: &id,
        entity_id: &entity_id,
        sso_url: &sso_url,
        slo_url: &slo_url,
        signing_certificate_b64: key.certificate_b64(),
        organization: Organization {
            name: &config.organization.name,
            display_name: &config.organization.display_name,
            url: &config.organization.url,
        },
        technical_contact: Contact {
            company: contact.company.as_deref(),
            given_name: contact.given_name.as_deref(),
            surname: contact.surname.as_deref(),
            email: &email,
        },
    });
    let element = sign_enveloped(&unsigned.xml, unsigned.signature_at, &id, key)?;
    Ok([XML_DECLARATION, &element].concat())
}

/// `md:EmailAddress` is a URI (saml-metadata §2.3.2.2): add `mailto:` when it is missing.
fn mailto(email: &str) -> String {
    if email.starts_with("mailto:") {
        email.to_string()
    } else {
        format!("mailto:{email}")
    }
}
