//! Every namespace, binding, format and algorithm URN the IdP reads or writes, in one place.

// Namespaces (saml-core §1.2, xmldsig-core §4, xmlenc-core §3).
pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
pub const XML: &str = "http://www.w3.org/XML/1998/namespace";
pub const XS: &str = "http://www.w3.org/2001/XMLSchema";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The prefixes the IdP writes, with their namespaces, sorted by prefix (the order in which
/// the canonical writer declares them). `xml` is bound by definition and is never declared
/// (xml-names §3).
pub const PREFIXES: &[(&str, &str)] = &[
    ("ds", DS),
    ("md", MD),
    ("saml", SAML),
    ("samlp", SAMLP),
    ("xenc", XENC),
    ("xml", XML),
    ("xs", XS),
    ("xsi", XSI),
];

/// The position of one of our prefixes in [`PREFIXES`].
pub fn prefix_index(prefix: &str) -> Option<usize> {
    PREFIXES.iter().position(|(p, _)| *p == prefix)
}

/// The namespace bound to one of our prefixes.
pub fn uri_of(prefix: &str) -> Option<&'static str> {
    prefix_index(prefix).map(|i| PREFIXES[i].1)
}

// Protocol support and bindings (saml-bindings §3.4, §3.5).
pub const PROTOCOL: &str = SAMLP;
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
pub const BINDING_ARTIFACT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact";
pub const BINDING_SOAP: &str = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";

// Name identifier formats (saml-core §8.3).
pub const NAMEID_PERSISTENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
pub const NAMEID_TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
pub const NAMEID_UNSPECIFIED: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified";

// XML Signature algorithms (xmldsig-core §6, RFC 6931).
pub const ALG_EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ALG_ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const ALG_SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

// Status codes (saml-core §3.2.2.2).
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
pub const STATUS_RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
pub const STATUS_NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";

// Subject confirmation and attribute name formats (saml-core §3.3, §8.2).
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
pub const ATTRNAME_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
pub const ATTRNAME_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

// XML Encryption (xmlenc-core §5, xmlenc-core1 §5.2.4).
pub const XENC_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";
pub const ALG_AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
pub const ALG_AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
pub const ALG_AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
pub const ALG_RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
pub const ALG_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

// The login.gov AAL and IAL values the response states (SPEC 6, 8).
pub const AAL_DEFAULT: &str = "urn:gov:gsa:ac:classes:sp:PasswordProtectedTransport:duo";
pub const AAL2: &str = "http://idmanagement.gov/ns/assurance/aal/2";
pub const AAL2_PHISHING_RESISTANT: &str =
    "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true";
pub const AAL2_HSPD12: &str = "http://idmanagement.gov/ns/assurance/aal/2?hspd12=true";
pub const IAL_AUTH_ONLY: &str = "urn:acr.login.gov:auth-only";
pub const IAL_VERIFIED: &str = "urn:acr.login.gov:verified";
pub const IAL_FACIAL_MATCH_REQUIRED: &str = "urn:acr.login.gov:verified-facial-match-required";
/// The prefix of the service-level vocabulary; other IAL values are the legacy URIs.
pub const SERVICE_LEVEL_PREFIX: &str = "urn:acr.login.gov:";
pub const LEGACY_IAL1: &str = "http://idmanagement.gov/ns/assurance/ial/1";
pub const LEGACY_IAL2: &str = "http://idmanagement.gov/ns/assurance/ial/2";
pub const LEGACY_IAL2_BIO_REQUIRED: &str =
    "http://idmanagement.gov/ns/assurance/ial/2?bio=required";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_is_found_at_its_own_position() {
        for (i, (prefix, uri)) in PREFIXES.iter().enumerate() {
            assert_eq!(prefix_index(prefix), Some(i));
            assert_eq!(uri_of(prefix), Some(*uri));
        }
        for other in ["", "sam", "samlpx", "SAML", "x"] {
            assert_eq!(prefix_index(other), None, "{other}");
        }
    }

    #[test]
    fn prefixes_are_sorted_by_prefix() {
        assert!(PREFIXES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
