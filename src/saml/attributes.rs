//! The catalogue of user attributes an SP may receive (reference/user-attributes.txt, SPEC 8):
//! their keys and when they can be released. Data, not branches.

/// When an attribute can be part of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Available for every authenticated user.
    Always,
    /// Only for verified (IAL2) requests from users with a verified profile.
    Proofed,
    /// Only when the session was authenticated with PIV/CAC.
    Piv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    pub key: &'static str,
    pub release: Release,
}

const fn def(key: &'static str, release: Release) -> AttributeDef {
    AttributeDef { key, release }
}

/// Every attribute key an SP may register in its bundle or request with `ReqAttr`.
pub const CATALOGUE: &[AttributeDef] = &[
    def("uuid", Release::Always),
    def("email", Release::Always),
    def("all_emails", Release::Always),
    def("locale", Release::Always),
    def("ial", Release::Always),
    def("aal", Release::Always),
    def("first_name", Release::Proofed),
    def("middle_name", Release::Proofed),
    def("last_name", Release::Proofed),
    def("address1", Release::Proofed),
    def("address2", Release::Proofed),
    def("city", Release::Proofed),
    def("state", Release::Proofed),
    def("zipcode", Release::Proofed),
    def("phone", Release::Proofed),
    def("dob", Release::Proofed),
    def("ssn", Release::Proofed),
    def("verified_at", Release::Proofed),
    def("x509_subject", Release::Piv),
    def("x509_issuer", Release::Piv),
    def("x509_presented", Release::Piv),
];

pub fn lookup(key: &str) -> Option<&'static AttributeDef> {
    CATALOGUE.iter().find(|d| d.key == key)
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_unique() {
        let mut keys: Vec<_> = super::CATALOGUE.iter().map(|d| d.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), super::CATALOGUE.len());
    }
}
