//! The IdP's own metadata document (saml-metadata-2.0-os §2.3, §2.4.3; SPEC 10), written
//! unsigned in canonical form with the point where its signature goes.

use super::ns;
use super::xml_writer::CanonicalWriter;

/// Everything one year's metadata says.
#[derive(Debug, Clone)]
pub struct IdpMetadata<'a> {
    /// The document's `ID`, referenced by its signature.
    pub id: &'a str,
    pub entity_id: &'a str,
    /// `/api/saml/auth{YEAR}`, absolute.
    pub sso_url: &'a str,
    /// `/api/saml/logout{YEAR}`, absolute.
    pub slo_url: &'a str,
    /// Base64 DER of the year's signing certificate.
    pub signing_certificate_b64: &'a str,
    pub organization: Organization<'a>,
    pub technical_contact: Contact<'a>,
}

#[derive(Debug, Clone)]
pub struct Organization<'a> {
    pub name: &'a str,
    pub display_name: &'a str,
    pub url: &'a str,
}

#[derive(Debug, Clone)]
pub struct Contact<'a> {
    pub company: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub surname: Option<&'a str>,
    /// A `mailto:` URI.
    pub email: &'a str,
}

/// An `md:EntityDescriptor` ready to sign: the signature goes right after its start tag
/// (the schema puts `ds:Signature` first).
#[derive(Debug, Clone)]
pub struct UnsignedMetadata {
    pub xml: Vec<u8>,
    pub signature_at: usize,
}

pub fn write(m: &IdpMetadata<'_>) -> UnsignedMetadata {
    let mut w = CanonicalWriter::new();
    w.start(
        "md:EntityDescriptor",
        &[("ID", m.id), ("entityID", m.entity_id)],
    );
    let signature_at = w.position();
    write_idp_descriptor(&mut w, m);
    write_organization(&mut w, &m.organization);
    write_contact(&mut w, &m.technical_contact);
    w.end();
    UnsignedMetadata {
        xml: w.into_bytes(),
        signature_at,
    }
}

fn write_idp_descriptor(w: &mut CanonicalWriter, m: &IdpMetadata<'_>) {
    w.start(
        "md:IDPSSODescriptor",
        &[
            ("WantAuthnRequestsSigned", "false"),
            ("protocolSupportEnumeration", ns::PROTOCOL),
        ],
    );
    w.start("md:KeyDescriptor", &[("use", "signing")]);
    w.start("ds:KeyInfo", &[]);
    w.start("ds:X509Data", &[]);
    w.leaf("ds:X509Certificate", &[], m.signing_certificate_b64);
    w.end();
    w.end();
    w.end();
    for binding in [ns::BINDING_REDIRECT, ns::BINDING_POST] {
        w.empty(
            "md:SingleLogoutService",
            &[("Binding", binding), ("Location", m.slo_url)],
        );
    }
    for format in [ns::NAMEID_PERSISTENT, ns::NAMEID_EMAIL] {
        w.leaf("md:NameIDFormat", &[], format);
    }
    for binding in [ns::BINDING_REDIRECT, ns::BINDING_POST] {
        w.empty(
            "md:SingleSignOnService",
            &[("Binding", binding), ("Location", m.sso_url)],
        );
    }
    w.end();
}

fn write_organization(w: &mut CanonicalWriter, o: &Organization<'_>) {
    w.start("md:Organization", &[]);
    w.leaf("md:OrganizationName", &[("xml:lang", "en")], o.name);
    w.leaf(
        "md:OrganizationDisplayName",
        &[("xml:lang", "en")],
        o.display_name,
    );
    w.leaf("md:OrganizationURL", &[("xml:lang", "en")], o.url);
    w.end();
}

fn write_contact(w: &mut CanonicalWriter, c: &Contact<'_>) {
    w.start("md:ContactPerson", &[("contactType", "technical")]);
    let optional = [
        ("md:Company", c.company),
        ("md:GivenName", c.given_name),
        ("md:SurName", c.surname),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            w.leaf(name, &[], v);
        }
    }
    w.leaf("md:EmailAddress", &[], c.email);
    w.end();
}
