//! Which attributes a response releases (SPEC 8): requested (ReqAttr, else the SP's bundle)
//! intersected with the SP's bundle, then each attribute's availability rule from the
//! catalogue. Data-driven: the rules live in `saml::attributes::CATALOGUE`.

use crate::registry::ServiceProvider;
use crate::saml::attributes::{self, Release};
use crate::saml::authn_context::{AuthnContext, Ial};

/// What the release rules need to know about the sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The user has a verified profile.
    pub user_verified: bool,
    /// The session was authenticated with PIV/CAC.
    pub piv_session: bool,
}

/// Proofed attributes go only to verified (or IALMAX) requests from verified users.
fn proofed_allowed(context: &AuthnContext, grant: Grant) -> bool {
    grant.user_verified && context.ial >= Ial::IalMax
}

/// The attribute keys released, in the SP bundle's order.
pub fn released(sp: &ServiceProvider, context: &AuthnContext, grant: Grant) -> Vec<&'static str> {
    let requested = |key: &str| {
        context.requested_attributes.is_empty()
            || context.requested_attributes.iter().any(|r| r == key)
    };
    sp.attribute_bundle
        .iter()
        .filter(|key| requested(key))
        .filter_map(|key| attributes::lookup(key))
        .filter(|def| match def.release {
            Release::Always => true,
            Release::Proofed => proofed_allowed(context, grant),
            Release::Piv => grant.piv_session,
        })
        .map(|def| def.key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::testing;

    fn sp(bundle: &[&str]) -> ServiceProvider {
        testing::ial2_sp(bundle)
    }

    fn context(values: &[&str]) -> AuthnContext {
        testing::authn_context(values, &testing::IAL2_POLICY)
    }

    const VERIFIED: Grant = Grant {
        user_verified: true,
        piv_session: false,
    };
    const REQATTR: &str = "http://idmanagement.gov/ns/requested_attributes?ReqAttr=";

    #[test]
    fn requested_is_intersected_with_the_bundle() {
        let sp = sp(&["email", "first_name", "x509_subject"]);
        let wide = format!("{REQATTR}email,ssn,first_name");
        let ctx = context(&["urn:acr.login.gov:verified", &wide]);
        assert_eq!(
            released(&sp, &ctx, VERIFIED),
            ["email", "first_name"],
            "ssn is not in the bundle; no PIV session"
        );
    }

    #[test]
    fn proofed_attributes_need_a_verified_request_and_user() {
        let sp = sp(&["email", "first_name", "verified_at"]);
        let auth_only = context(&["urn:acr.login.gov:auth-only"]);
        assert_eq!(released(&sp, &auth_only, VERIFIED), ["email"]);
        let verified = context(&["urn:acr.login.gov:verified"]);
        assert_eq!(
            released(&sp, &verified, VERIFIED),
            ["email", "first_name", "verified_at"]
        );
        let unverified_user = Grant {
            user_verified: false,
            piv_session: false,
        };
        assert_eq!(released(&sp, &verified, unverified_user), ["email"]);
    }
}
