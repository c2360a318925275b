//! Owns the reading of an AuthnRequest's AuthnContextClassRef values into what the IdP must do.
//!
//! The result is a service level (IAL), an authenticator assurance level (AAL) and the attribute
//! names requested with `ReqAttr`.
//!
//! Every value is matched exactly against the `const` tables below. The caller extracts and
//! trims the texts; nothing here touches XML, the SP registry or the attribute catalogue.

/// The `Comparison` attribute of `RequestedAuthnContext` (saml-core §3.3.2.2.1).
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Exact,
    Minimum,
    Better,
    Maximum,
}

/// Service level, ordered from lowest to highest ("several given: the highest wins").
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum Ial {
    AuthOnly,
    IalMax,
    Verified,
    FacialMatchPreferred,
    FacialMatchRequired,
}

/// Authenticator assurance.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aal {
    /// MFA; a remembered browser is fine for 30 days.
    Default,
    /// MFA every time.
    Aal2,
    /// WebAuthn or PIV/CAC.
    PhishingResistant,
    /// PIV/CAC.
    Hspd12,
}

/// What the SP is registered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpPolicy {
    /// 1 or 2.
    pub ial: u8,
    /// None, 2 or 3.
    pub default_aal: Option<u8>,
    pub ialmax_allowed: bool,
    /// Server-wide switch.
    pub facial_match_enabled: bool,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AuthnContext {
    pub ial: Ial,
    pub aal: Aal,
    pub comparison: Comparison,
    /// The IAL value from the request, verbatim, if one was given.
    pub ial_value: Option<String>,
    /// The AAL value that won, verbatim (goes into AuthnStatement/AuthnContextClassRef), if one
    /// was given.
    pub aal_value: Option<String>,
    /// Attribute names requested with ReqAttr, de-duplicated, in first-seen order.
    pub requested_attributes: Vec<String>,
    /// Values that were ignored (unknown, or known but not usable here), kept for the log.
    pub ignored_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthnContextError {
    #[error("unauthorized authentication context: {0}")]
    Unauthorized(&'static str),
    #[error("invalid Comparison {0:?}")]
    InvalidComparison(String),
}

impl AuthnContextError {
    /// Fixed words naming the rule, never the request's value (SPEC 3).
    pub fn public_detail(&self) -> String {
        match self {
            AuthnContextError::Unauthorized(_) => self.to_string(),
            AuthnContextError::InvalidComparison(_) => {
                "Comparison must be exact, minimum, better or maximum".into()
            }
        }
    }
}

const NO_KNOWN_VALUE: &str = "no known AuthnContextClassRef value";
const VERIFIED_FOR_IAL1: &str = "verified identity requested by an SP registered for IAL1";
const IALMAX_NOT_ALLOWED: &str = "IALMAX is not allowed for this SP";
const FACIAL_MATCH_DISABLED: &str = "facial match is not enabled";
const AAL1_NOT_OFFERED: &str = "AAL1 is not offered";

/// `Comparison` attribute values (saml-core §3.3.2.2.1).
const COMPARISONS: &[(&str, Comparison)] = &[
    ("exact", Comparison::Exact),
    ("minimum", Comparison::Minimum),
    ("better", Comparison::Better),
    ("maximum", Comparison::Maximum),
];

/// Service-level values, current and deprecated.
const IAL_VALUES: &[(&str, Ial)] = &[
    ("urn:acr.login.gov:auth-only", Ial::AuthOnly),
    ("urn:acr.login.gov:verified", Ial::Verified),
    (
        "urn:acr.login.gov:verified-facial-match-required",
        Ial::FacialMatchRequired,
    ),
    (
        "urn:acr.login.gov:verified-facial-match-preferred",
        Ial::FacialMatchPreferred,
    ),
    ("http://idmanagement.gov/ns/assurance/ial/1", Ial::AuthOnly),
    ("http://idmanagement.gov/ns/assurance/ial/2", Ial::Verified),
    (
        "http://idmanagement.gov/ns/assurance/ial/2?bio=preferred",
        Ial::FacialMatchPreferred,
    ),
    (
        "http://idmanagement.gov/ns/assurance/ial/2?bio=required",
        Ial::FacialMatchRequired,
    ),
    ("http://idmanagement.gov/ns/assurance/ial/0", Ial::IalMax),
    ("http://idmanagement.gov/ns/assurance/loa/1", Ial::AuthOnly),
    ("http://idmanagement.gov/ns/assurance/loa/3", Ial::Verified),
];

/// AAL values accepted with every Comparison.
const AAL_VALUES: &[(&str, Aal)] = &[
    (
        "urn:gov:gsa:ac:classes:sp:PasswordProtectedTransport:duo",
        Aal::Default,
    ),
    ("http://idmanagement.gov/ns/assurance/aal/2", Aal::Aal2),
    (
        "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true",
        Aal::PhishingResistant,
    ),
    (
        "http://idmanagement.gov/ns/assurance/aal/2?hspd12=true",
        Aal::Hspd12,
    ),
    (
        "http://idmanagement.gov/ns/assurance/aal/3",
        Aal::PhishingResistant,
    ),
    (
        "http://idmanagement.gov/ns/assurance/aal/3?hspd12=true",
        Aal::Hspd12,
    ),
];

/// OASIS classes (saml-authn-context §3.4): AAL values only with Comparison minimum or better.
const OASIS_AAL_VALUES: &[(&str, Aal)] = &[
    (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
        Aal::Default,
    ),
    (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport",
        Aal::Default,
    ),
];

/// The Comparisons under which the OASIS classes are read as AAL values.
const OASIS_COMPARISONS: &[Comparison] = &[Comparison::Minimum, Comparison::Better];

/// Known, never offered; ignored when another AAL value is accepted.
const AAL1: &str = "http://idmanagement.gov/ns/assurance/aal/1";

/// Marks a requested-attributes value; the names follow it.
const REQ_ATTR_MARKER: &str = "http://idmanagement.gov/ns/requested_attributes?ReqAttr=";

/// What separates attribute names after `ReqAttr=` (besides any whitespace).
const REQ_ATTR_SEPARATORS: &[char] = &[',', ':'];

/// The SP's registered `default_aal` → the AAL used when the request names none. Anything
/// else (None included) means [`Aal::Default`].
const SP_DEFAULT_AALS: &[(u8, Aal)] = &[(2, Aal::Aal2), (3, Aal::PhishingResistant)];

fn lookup<T: Copy>(table: &[(&str, T)], value: &str) -> Option<T> {
    table.iter().find(|(key, _)| *key == value).map(|(_, v)| *v)
}

impl Comparison {
    /// `None` is `Exact` (saml-core §3.3.2.2.1); the four values are matched exactly.
    pub fn parse(value: Option<&str>) -> Result<Comparison, AuthnContextError> {
        match value {
            None => Ok(Comparison::Exact),
            Some(v) => lookup(COMPARISONS, v)
                .ok_or_else(|| AuthnContextError::InvalidComparison(v.to_owned())),
        }
    }
}

/// One AuthnContextClassRef value, classified.
enum Class<'a> {
    Ial(Ial),
    Aal(Aal),
    Aal1,
    ReqAttr(&'a str),
    Ignored,
}

fn classify(value: &str, comparison: Comparison) -> Class<'_> {
    if let Some(ial) = lookup(IAL_VALUES, value) {
        return Class::Ial(ial);
    }
    if let Some(aal) = lookup(AAL_VALUES, value) {
        return Class::Aal(aal);
    }
    if value == AAL1 {
        return Class::Aal1;
    }
    if let Some(aal) = lookup(OASIS_AAL_VALUES, value) {
        if OASIS_COMPARISONS.contains(&comparison) {
            return Class::Aal(aal);
        }
        return Class::Ignored;
    }
    match value.find(REQ_ATTR_MARKER) {
        Some(at) => Class::ReqAttr(&value[at + REQ_ATTR_MARKER.len()..]),
        None => Class::Ignored,
    }
}

/// A permission an SP needs before it may ask for a service level.
#[derive(Debug, Clone, Copy)]
enum Need {
    IalMaxAllowed,
    RegisteredForIal2,
    FacialMatchEnabled,
}

/// Service level → what the SP needs to ask for it, checked in this order. Levels not listed
/// need nothing.
const LEVEL_NEEDS: &[(Ial, &[Need])] = &[
    (Ial::IalMax, &[Need::IalMaxAllowed]),
    (Ial::Verified, &[Need::RegisteredForIal2]),
    (
        Ial::FacialMatchPreferred,
        &[Need::RegisteredForIal2, Need::FacialMatchEnabled],
    ),
    (
        Ial::FacialMatchRequired,
        &[Need::RegisteredForIal2, Need::FacialMatchEnabled],
    ),
];

impl Need {
    fn is_met(self, sp: &SpPolicy) -> bool {
        match self {
            Need::IalMaxAllowed => sp.ialmax_allowed,
            Need::RegisteredForIal2 => sp.ial >= 2,
            Need::FacialMatchEnabled => sp.facial_match_enabled,
        }
    }

    fn refusal(self) -> AuthnContextError {
        AuthnContextError::Unauthorized(match self {
            Need::IalMaxAllowed => IALMAX_NOT_ALLOWED,
            Need::RegisteredForIal2 => VERIFIED_FOR_IAL1,
            Need::FacialMatchEnabled => FACIAL_MATCH_DISABLED,
        })
    }
}

/// Whether the SP may ask for `ial` at all.
fn check_permitted(ial: Ial, sp: &SpPolicy) -> Result<(), AuthnContextError> {
    let needs = LEVEL_NEEDS
        .iter()
        .find(|(level, _)| *level == ial)
        .map_or(&[][..], |(_, needs)| *needs);
    match needs.iter().find(|need| !need.is_met(sp)) {
        Some(need) => Err(need.refusal()),
        None => Ok(()),
    }
}

/// The values read so far.
#[derive(Default)]
struct Collected {
    ial: Option<(Ial, String)>,
    aal: Option<(Aal, String)>,
    aal1_seen: bool,
    req_attr_seen: bool,
    attributes: Vec<String>,
    ignored: Vec<String>,
}

impl Collected {
    fn add(
        &mut self,
        value: &str,
        comparison: Comparison,
        sp: &SpPolicy,
    ) -> Result<(), AuthnContextError> {
        match classify(value, comparison) {
            Class::Ial(ial) => {
                check_permitted(ial, sp)?;
                // Highest wins; on a tie the first one stays.
                if self.ial.as_ref().is_none_or(|(best, _)| ial > *best) {
                    self.ial = Some((ial, value.to_owned()));
                }
            }
            Class::Aal(aal) => {
                if self.aal.is_none() {
                    self.aal = Some((aal, value.to_owned()));
                }
            }
            Class::Aal1 => {
                self.aal1_seen = true;
                self.ignored.push(value.to_owned());
            }
            Class::ReqAttr(names) => {
                self.req_attr_seen = true;
                self.add_attributes(names);
            }
            Class::Ignored => self.ignored.push(value.to_owned()),
        }
        Ok(())
    }

    fn add_attributes(&mut self, names: &str) {
        let pieces = names
            .split(|c: char| c.is_whitespace() || REQ_ATTR_SEPARATORS.contains(&c))
            .filter(|piece| !piece.is_empty());
        for piece in pieces {
            if !self.attributes.iter().any(|a| a == piece) {
                self.attributes.push(piece.to_owned());
            }
        }
    }

    fn has_known_value(&self) -> bool {
        self.ial.is_some() || self.aal.is_some() || self.req_attr_seen
    }
}

fn default_ial(sp: &SpPolicy) -> Ial {
    if sp.ial >= 2 {
        Ial::Verified
    } else {
        Ial::AuthOnly
    }
}

fn default_aal(sp: &SpPolicy) -> Aal {
    sp.default_aal
        .and_then(|level| SP_DEFAULT_AALS.iter().find(|(l, _)| *l == level))
        .map_or(Aal::Default, |(_, aal)| *aal)
}

/// `Comparison="minimum"` with an auth-only value from an IAL2 SP that may use IALMAX.
fn upgrades_to_ialmax(ial: Ial, comparison: Comparison, sp: &SpPolicy) -> bool {
    ial == Ial::AuthOnly && comparison == Comparison::Minimum && sp.ial >= 2 && sp.ialmax_allowed
}

/// `values` are the AuthnContextClassRef texts in document order (already extracted and trimmed
/// by the caller); `comparison` the raw Comparison attribute.
///
/// Errors, in the order they are looked for: an invalid Comparison; an IAL value the SP may not
/// ask for (every IAL value is checked, not only the winner); AAL1 as the only AAL value; values
/// given but none known.
pub fn parse(
    values: &[String],
    comparison: Option<&str>,
    sp: &SpPolicy,
) -> Result<AuthnContext, AuthnContextError> {
    let comparison = Comparison::parse(comparison)?;
    let mut collected = Collected::default();
    for value in values {
        collected.add(value, comparison, sp)?;
    }
    if collected.aal1_seen && collected.aal.is_none() {
        return Err(AuthnContextError::Unauthorized(AAL1_NOT_OFFERED));
    }
    if !values.is_empty() && !collected.has_known_value() {
        return Err(AuthnContextError::Unauthorized(NO_KNOWN_VALUE));
    }
    let (ial, ial_value) = match collected.ial {
        Some((ial, value)) if upgrades_to_ialmax(ial, comparison, sp) => (Ial::IalMax, Some(value)),
        Some((ial, value)) => (ial, Some(value)),
        None => (default_ial(sp), None),
    };
    let (aal, aal_value) = match collected.aal {
        Some((aal, value)) => (aal, Some(value)),
        None => (default_aal(sp), None),
    };
    Ok(AuthnContext {
        ial,
        aal,
        comparison,
        ial_value,
        aal_value,
        requested_attributes: collected.attributes,
        ignored_values: collected.ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::{parse, Aal, AuthnContext, AuthnContextError, Comparison, Ial, SpPolicy};

    // The values, spelled out here rather than borrowed from the tables under test.
    const AUTH_ONLY: &str = "urn:acr.login.gov:auth-only";
    const VERIFIED: &str = "urn:acr.login.gov:verified";
    const FM_REQUIRED: &str = "urn:acr.login.gov:verified-facial-match-required";
    const FM_PREFERRED: &str = "urn:acr.login.gov:verified-facial-match-preferred";
    const IAL0: &str = "http://idmanagement.gov/ns/assurance/ial/0";
    const IAL1: &str = "http://idmanagement.gov/ns/assurance/ial/1";
    const IAL2: &str = "http://idmanagement.gov/ns/assurance/ial/2";
    const IAL2_BIO_PREFERRED: &str = "http://idmanagement.gov/ns/assurance/ial/2?bio=preferred";
    const IAL2_BIO_REQUIRED: &str = "http://idmanagement.gov/ns/assurance/ial/2?bio=required";
    const LOA1: &str = "http://idmanagement.gov/ns/assurance/loa/1";
    const LOA3: &str = "http://idmanagement.gov/ns/assurance/loa/3";
    const DUO: &str = "urn:gov:gsa:ac:classes:sp:PasswordProtectedTransport:duo";
    const AAL1: &str = "http://idmanagement.gov/ns/assurance/aal/1";
    const AAL2: &str = "http://idmanagement.gov/ns/assurance/aal/2";
    const AAL2_PR: &str = "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true";
    const AAL2_HSPD12: &str = "http://idmanagement.gov/ns/assurance/aal/2?hspd12=true";
    const AAL3: &str = "http://idmanagement.gov/ns/assurance/aal/3";
    const AAL3_HSPD12: &str = "http://idmanagement.gov/ns/assurance/aal/3?hspd12=true";
    const PASSWORD: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password";
    const PPT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";
    const REQ_1: &str =
        "http://idmanagement.gov/ns/requested_attributes?ReqAttr=email,first_name last_name:ssn";
    const REQ_2: &str = "http://idmanagement.gov/ns/requested_attributes?ReqAttr=email,dob";
    const REQ_EMPTY: &str = "http://idmanagement.gov/ns/requested_attributes?ReqAttr=, :,";
    const REQ_EMBEDDED: &str =
        "urn:x:http://idmanagement.gov/ns/requested_attributes?ReqAttr=phone";
    const UNKNOWN: &str = "urn:example:unknown";
    const UNKNOWN_CASE: &str = "URN:ACR.LOGIN.GOV:VERIFIED";

    const fn sp(ial: u8, default_aal: Option<u8>, ialmax: bool, facial: bool) -> SpPolicy {
        SpPolicy {
            ial,
            default_aal,
            ialmax_allowed: ialmax,
            facial_match_enabled: facial,
        }
    }

    const SP1: SpPolicy = sp(1, None, false, false);
    /// IAL1 SP with every switch on: a verified level is still refused.
    const SP1_ALL: SpPolicy = sp(1, None, true, true);
    const SP1_AAL2: SpPolicy = sp(1, Some(2), false, false);
    const SP1_AAL3: SpPolicy = sp(1, Some(3), false, false);
    const SP2: SpPolicy = sp(2, None, false, false);
    const SP2_MAX: SpPolicy = sp(2, None, true, false);
    const SP2_FACIAL: SpPolicy = sp(2, None, false, true);
    const SP2_AAL2: SpPolicy = sp(2, Some(2), false, false);
    const SP2_AAL3: SpPolicy = sp(2, Some(3), false, false);

    const NO_KNOWN: &str = "no known AuthnContextClassRef value";
    const VERIFIED_IAL1: &str = "verified identity requested by an SP registered for IAL1";
    const NO_IALMAX: &str = "IALMAX is not allowed for this SP";
    const NO_FACIAL: &str = "facial match is not enabled";
    const NO_AAL1: &str = "AAL1 is not offered";

    #[derive(Debug)]
    struct Want {
        ial: Ial,
        aal: Aal,
        comparison: Comparison,
        ial_value: Option<&'static str>,
        aal_value: Option<&'static str>,
        attributes: &'static [&'static str],
        ignored: &'static [&'static str],
    }

    const fn want(ial: Ial, aal: Aal) -> Want {
        Want {
            ial,
            aal,
            comparison: Comparison::Exact,
            ial_value: None,
            aal_value: None,
            attributes: &[],
            ignored: &[],
        }
    }

    #[derive(Debug)]
    enum Expect {
        Ok(Want),
        Unauthorized(&'static str),
        InvalidComparison(&'static str),
    }
    use Expect::{InvalidComparison as Invalid, Ok as Yes, Unauthorized as Refused};

    struct Case {
        name: &'static str,
        values: &'static [&'static str],
        comparison: Option<&'static str>,
        sp: SpPolicy,
        expect: Expect,
    }

    const MIN: Option<&str> = Some("minimum");
    const BETTER: Option<&str> = Some("better");
    const EXACT: Option<&str> = Some("exact");
    const MAX: Option<&str> = Some("maximum");

    use Aal::{Aal2, Default as AalDefault, Hspd12, PhishingResistant};
    use Ial::{AuthOnly, FacialMatchPreferred, FacialMatchRequired, IalMax, Verified};

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        // Service levels, each with and without the SP permission it needs.
        Case { name: "auth-only, ial1 sp", values: &[AUTH_ONLY], comparison: None, sp: SP1,
            expect: Yes(Want { ial_value: Some(AUTH_ONLY), ..want(AuthOnly, AalDefault) }) },
        Case { name: "auth-only overrides an ial2 sp's default", values: &[AUTH_ONLY], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(AUTH_ONLY), ..want(AuthOnly, AalDefault) }) },
        Case { name: "verified, ial2 sp", values: &[VERIFIED], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(VERIFIED), ..want(Verified, AalDefault) }) },
        Case { name: "verified, ial1 sp", values: &[VERIFIED], comparison: None, sp: SP1,
            expect: Refused(VERIFIED_IAL1) },
        Case { name: "verified, ial1 sp with every switch", values: &[VERIFIED], comparison: None, sp: SP1_ALL,
            expect: Refused(VERIFIED_IAL1) },
        Case { name: "facial match required, switch on", values: &[FM_REQUIRED], comparison: None, sp: SP2_FACIAL,
            expect: Yes(Want { ial_value: Some(FM_REQUIRED), ..want(FacialMatchRequired, AalDefault) }) },
        Case { name: "facial match required, switch off", values: &[FM_REQUIRED], comparison: None, sp: SP2,
            expect: Refused(NO_FACIAL) },
        Case { name: "facial match required, ial1 sp", values: &[FM_REQUIRED], comparison: None, sp: SP1_ALL,
            expect: Refused(VERIFIED_IAL1) },
        Case { name: "facial match preferred, switch on", values: &[FM_PREFERRED], comparison: None, sp: SP2_FACIAL,
            expect: Yes(Want { ial_value: Some(FM_PREFERRED), ..want(FacialMatchPreferred, AalDefault) }) },
        Case { name: "facial match preferred, switch off", values: &[FM_PREFERRED], comparison: None, sp: SP2,
            expect: Refused(NO_FACIAL) },
        Case { name: "facial match preferred, ial1 sp", values: &[FM_PREFERRED], comparison: None, sp: SP1_ALL,
            expect: Refused(VERIFIED_IAL1) },
        Case { name: "deprecated ial/1", values: &[IAL1], comparison: None, sp: SP1,
            expect: Yes(Want { ial_value: Some(IAL1), ..want(AuthOnly, AalDefault) }) },
        Case { name: "deprecated ial/2, ial2 sp", values: &[IAL2], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(IAL2), ..want(Verified, AalDefault) }) },
        Case { name: "deprecated ial/2, ial1 sp", values: &[IAL2], comparison: None, sp: SP1,
            expect: Refused(VERIFIED_IAL1) },
        Case { name: "deprecated bio=preferred, switch on", values: &[IAL2_BIO_PREFERRED], comparison: None, sp: SP2_FACIAL,
            expect: Yes(Want { ial_value: Some(IAL2_BIO_PREFERRED), ..want(FacialMatchPreferred, AalDefault) }) },
        Case { name: "deprecated bio=preferred, switch off", values: &[IAL2_BIO_PREFERRED], comparison: None, sp: SP2,
            expect: Refused(NO_FACIAL) },
        Case { name: "deprecated bio=preferred, ial1 sp", values: &[IAL2_BIO_PREFERRED], comparison: None, sp: SP1_ALL,
            expect: Refused(VERIFIED_IAL1) },
        Case { name: "deprecated bio=required, switch on", values: &[IAL2_BIO_REQUIRED], comparison: None, sp: SP2_FACIAL,
            expect: Yes(Want { ial_value: Some(IAL2_BIO_REQUIRED), ..want(FacialMatchRequired, AalDefault) }) },
        Case { name: "deprecated bio=required, switch off", values: &[IAL2_BIO_REQUIRED], comparison: None, sp: SP2,
            expect: Refused(NO_FACIAL) },
        Case { name: "deprecated bio=required, ial1 sp", values: &[IAL2_BIO_REQUIRED], comparison: None, sp: SP1_ALL,
            expect: Refused(VERIFIED_IAL1) },
        Case { name: "ial/0, ialmax allowed", values: &[IAL0], comparison: None, sp: SP2_MAX,
            expect: Yes(Want { ial_value: Some(IAL0), ..want(IalMax, AalDefault) }) },
        Case { name: "ial/0, ialmax not allowed", values: &[IAL0], comparison: None, sp: SP2,
            expect: Refused(NO_IALMAX) },
        Case { name: "deprecated loa/1", values: &[LOA1], comparison: None, sp: SP1,
            expect: Yes(Want { ial_value: Some(LOA1), ..want(AuthOnly, AalDefault) }) },
        Case { name: "deprecated loa/3, ial2 sp", values: &[LOA3], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(LOA3), ..want(Verified, AalDefault) }) },
        Case { name: "deprecated loa/3, ial1 sp", values: &[LOA3], comparison: None, sp: SP1,
            expect: Refused(VERIFIED_IAL1) },
        // Several service levels: the highest wins.
        Case { name: "highest ial wins", values: &[AUTH_ONLY, FM_PREFERRED, VERIFIED], comparison: None, sp: SP2_FACIAL,
            expect: Yes(Want { ial_value: Some(FM_PREFERRED), ..want(FacialMatchPreferred, AalDefault) }) },
        Case { name: "ialmax beats auth-only", values: &[IAL0, AUTH_ONLY], comparison: None, sp: SP2_MAX,
            expect: Yes(Want { ial_value: Some(IAL0), ..want(IalMax, AalDefault) }) },
        Case { name: "verified beats ialmax", values: &[VERIFIED, IAL0], comparison: None, sp: SP2_MAX,
            expect: Yes(Want { ial_value: Some(VERIFIED), ..want(Verified, AalDefault) }) },
        Case { name: "equal levels: the first stays", values: &[IAL2, VERIFIED], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(IAL2), ..want(Verified, AalDefault) }) },
        Case { name: "a losing ial value is still checked", values: &[VERIFIED, IAL0], comparison: None, sp: SP2,
            expect: Refused(NO_IALMAX) },
        Case { name: "auth-only and verified from an ial1 sp", values: &[AUTH_ONLY, VERIFIED], comparison: None, sp: SP1,
            expect: Refused(VERIFIED_IAL1) },
        // AAL values.
        Case { name: "duo", values: &[DUO], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(DUO), ..want(AuthOnly, AalDefault) }) },
        Case { name: "aal/2", values: &[AAL2], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL2), ..want(AuthOnly, Aal2) }) },
        Case { name: "aal/2 phishing resistant", values: &[AAL2_PR], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL2_PR), ..want(AuthOnly, PhishingResistant) }) },
        Case { name: "aal/2 hspd12", values: &[AAL2_HSPD12], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL2_HSPD12), ..want(AuthOnly, Hspd12) }) },
        Case { name: "aal/3", values: &[AAL3], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL3), ..want(AuthOnly, PhishingResistant) }) },
        Case { name: "aal/3 hspd12", values: &[AAL3_HSPD12], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL3_HSPD12), ..want(AuthOnly, Hspd12) }) },
        Case { name: "aal/3 overrides the sp default", values: &[AAL3], comparison: None, sp: SP2_AAL2,
            expect: Yes(Want { aal_value: Some(AAL3), ..want(Verified, PhishingResistant) }) },
        // Several AAL values: the first wins.
        Case { name: "first aal wins", values: &[AAL3, AAL2], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL3), ..want(AuthOnly, PhishingResistant) }) },
        Case { name: "first aal wins around an ial", values: &[AAL2, VERIFIED, AAL3_HSPD12], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(VERIFIED), aal_value: Some(AAL2), ..want(Verified, Aal2) }) },
        // AAL1.
        Case { name: "aal/1 alone", values: &[AAL1], comparison: None, sp: SP1,
            expect: Refused(NO_AAL1) },
        Case { name: "aal/1 as the only aal beside an ial", values: &[AAL1, VERIFIED], comparison: None, sp: SP2,
            expect: Refused(NO_AAL1) },
        Case { name: "aal/1 as the only aal beside reqattr", values: &[REQ_2, AAL1], comparison: None, sp: SP1,
            expect: Refused(NO_AAL1) },
        Case { name: "aal/1 before another aal", values: &[AAL1, AAL2], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL2), ignored: &[AAL1], ..want(AuthOnly, Aal2) }) },
        Case { name: "aal/1 after another aal", values: &[AAL3, AAL1], comparison: None, sp: SP1,
            expect: Yes(Want { aal_value: Some(AAL3), ignored: &[AAL1], ..want(AuthOnly, PhishingResistant) }) },
        Case { name: "aal/1 with an oasis class, exact", values: &[AAL1, PPT], comparison: EXACT, sp: SP1,
            expect: Refused(NO_AAL1) },
        Case { name: "aal/1 with an oasis class, minimum", values: &[AAL1, PPT], comparison: MIN, sp: SP1,
            expect: Yes(Want { comparison: Comparison::Minimum, aal_value: Some(PPT), ignored: &[AAL1], ..want(AuthOnly, AalDefault) }) },
        // OASIS classes under each Comparison.
        Case { name: "password, no comparison", values: &[PASSWORD], comparison: None, sp: SP1,
            expect: Refused(NO_KNOWN) },
        Case { name: "password, exact", values: &[PASSWORD], comparison: EXACT, sp: SP1,
            expect: Refused(NO_KNOWN) },
        Case { name: "password, minimum", values: &[PASSWORD], comparison: MIN, sp: SP1_AAL2,
            expect: Yes(Want { comparison: Comparison::Minimum, aal_value: Some(PASSWORD), ..want(AuthOnly, AalDefault) }) },
        Case { name: "password, better", values: &[PASSWORD], comparison: BETTER, sp: SP1,
            expect: Yes(Want { comparison: Comparison::Better, aal_value: Some(PASSWORD), ..want(AuthOnly, AalDefault) }) },
        Case { name: "password, maximum", values: &[PASSWORD], comparison: MAX, sp: SP1,
            expect: Refused(NO_KNOWN) },
        Case { name: "ppt, exact, beside an ial", values: &[PPT, AUTH_ONLY], comparison: EXACT, sp: SP1,
            expect: Yes(Want { ial_value: Some(AUTH_ONLY), ignored: &[PPT], ..want(AuthOnly, AalDefault) }) },
        Case { name: "ppt, maximum, beside an ial", values: &[AUTH_ONLY, PPT], comparison: MAX, sp: SP1_AAL3,
            expect: Yes(Want { comparison: Comparison::Maximum, ial_value: Some(AUTH_ONLY), ignored: &[PPT], ..want(AuthOnly, PhishingResistant) }) },
        Case { name: "ppt, minimum", values: &[PPT], comparison: MIN, sp: SP2_AAL3,
            expect: Yes(Want { comparison: Comparison::Minimum, aal_value: Some(PPT), ..want(Verified, AalDefault) }) },
        Case { name: "ppt, better", values: &[PPT, AUTH_ONLY], comparison: BETTER, sp: SP1,
            expect: Yes(Want { comparison: Comparison::Better, ial_value: Some(AUTH_ONLY), aal_value: Some(PPT), ..want(AuthOnly, AalDefault) }) },
        Case { name: "ppt first wins over aal/2, minimum", values: &[PPT, AAL2], comparison: MIN, sp: SP1,
            expect: Yes(Want { comparison: Comparison::Minimum, aal_value: Some(PPT), ..want(AuthOnly, AalDefault) }) },
        Case { name: "aal/2 first wins over ppt, better", values: &[AAL2, PPT], comparison: BETTER, sp: SP1,
            expect: Yes(Want { comparison: Comparison::Better, aal_value: Some(AAL2), ..want(AuthOnly, Aal2) }) },
        // Requested attributes.
        Case { name: "reqattr split and de-duplicated across values", values: &[REQ_1, REQ_2], comparison: None, sp: SP1,
            expect: Yes(Want { attributes: &["email", "first_name", "last_name", "ssn", "dob"], ..want(AuthOnly, AalDefault) }) },
        Case { name: "reqattr beside an ial and an aal", values: &[VERIFIED, REQ_2, AAL2], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(VERIFIED), aal_value: Some(AAL2), attributes: &["email", "dob"], ..want(Verified, Aal2) }) },
        Case { name: "reqattr with no names is still known", values: &[REQ_EMPTY], comparison: None, sp: SP2,
            expect: Yes(want(Verified, AalDefault)) },
        Case { name: "reqattr marker inside a longer value", values: &[REQ_EMBEDDED], comparison: None, sp: SP1,
            expect: Yes(Want { attributes: &["phone"], ..want(AuthOnly, AalDefault) }) },
        // Unknown values.
        Case { name: "unknown beside an ial", values: &[UNKNOWN, VERIFIED], comparison: None, sp: SP2,
            expect: Yes(Want { ial_value: Some(VERIFIED), ignored: &[UNKNOWN], ..want(Verified, AalDefault) }) },
        Case { name: "unknowns beside reqattr", values: &[UNKNOWN_CASE, REQ_2, UNKNOWN], comparison: None, sp: SP1,
            expect: Yes(Want { attributes: &["email", "dob"], ignored: &[UNKNOWN_CASE, UNKNOWN], ..want(AuthOnly, AalDefault) }) },
        Case { name: "only unknown values", values: &[UNKNOWN, UNKNOWN_CASE], comparison: None, sp: SP2,
            expect: Refused(NO_KNOWN) },
        // No values: the SP's registration decides.
        Case { name: "empty, ial1 sp", values: &[], comparison: None, sp: SP1,
            expect: Yes(want(AuthOnly, AalDefault)) },
        Case { name: "empty, ial2 sp", values: &[], comparison: None, sp: SP2,
            expect: Yes(want(Verified, AalDefault)) },
        Case { name: "empty, ial1 sp, default aal 2", values: &[], comparison: None, sp: SP1_AAL2,
            expect: Yes(want(AuthOnly, Aal2)) },
        Case { name: "empty, ial1 sp, default aal 3", values: &[], comparison: None, sp: SP1_AAL3,
            expect: Yes(want(AuthOnly, PhishingResistant)) },
        Case { name: "empty, ial2 sp, default aal 3", values: &[], comparison: None, sp: SP2_AAL3,
            expect: Yes(want(Verified, PhishingResistant)) },
        Case { name: "ial only, default aal 2", values: &[VERIFIED], comparison: None, sp: SP2_AAL2,
            expect: Yes(Want { ial_value: Some(VERIFIED), ..want(Verified, Aal2) }) },
        // IALMAX through Comparison="minimum".
        Case { name: "minimum auth-only, ialmax allowed", values: &[AUTH_ONLY], comparison: MIN, sp: SP2_MAX,
            expect: Yes(Want { comparison: Comparison::Minimum, ial_value: Some(AUTH_ONLY), ..want(IalMax, AalDefault) }) },
        Case { name: "minimum ial/1, ialmax allowed", values: &[IAL1], comparison: MIN, sp: SP2_MAX,
            expect: Yes(Want { comparison: Comparison::Minimum, ial_value: Some(IAL1), ..want(IalMax, AalDefault) }) },
        Case { name: "minimum loa/1, ialmax allowed", values: &[LOA1, AAL2], comparison: MIN, sp: SP2_MAX,
            expect: Yes(Want { comparison: Comparison::Minimum, ial_value: Some(LOA1), aal_value: Some(AAL2), ..want(IalMax, Aal2) }) },
        Case { name: "minimum auth-only, ialmax not allowed", values: &[AUTH_ONLY], comparison: MIN, sp: SP2,
            expect: Yes(Want { comparison: Comparison::Minimum, ial_value: Some(AUTH_ONLY), ..want(AuthOnly, AalDefault) }) },
        Case { name: "minimum auth-only, ial1 sp", values: &[AUTH_ONLY], comparison: MIN, sp: SP1_ALL,
            expect: Yes(Want { comparison: Comparison::Minimum, ial_value: Some(AUTH_ONLY), ..want(AuthOnly, AalDefault) }) },
        Case { name: "exact auth-only, ialmax allowed", values: &[AUTH_ONLY], comparison: EXACT, sp: SP2_MAX,
            expect: Yes(Want { ial_value: Some(AUTH_ONLY), ..want(AuthOnly, AalDefault) }) },
        Case { name: "better auth-only, ialmax allowed", values: &[AUTH_ONLY], comparison: BETTER, sp: SP2_MAX,
            expect: Yes(Want { comparison: Comparison::Better, ial_value: Some(AUTH_ONLY), ..want(AuthOnly, AalDefault) }) },
        Case { name: "minimum with verified winning", values: &[AUTH_ONLY, VERIFIED], comparison: MIN, sp: SP2_MAX,
            expect: Yes(Want { comparison: Comparison::Minimum, ial_value: Some(VERIFIED), ..want(Verified, AalDefault) }) },
        Case { name: "minimum with no ial value", values: &[], comparison: MIN, sp: SP2_MAX,
            expect: Yes(Want { comparison: Comparison::Minimum, ..want(Verified, AalDefault) }) },
        // Invalid Comparison, checked before anything else.
        Case { name: "comparison is case-sensitive", values: &[VERIFIED], comparison: Some("Minimum"), sp: SP2,
            expect: Invalid("Minimum") },
        Case { name: "empty comparison", values: &[], comparison: Some(""), sp: SP1,
            expect: Invalid("") },
        Case { name: "invalid comparison before unknown values", values: &[UNKNOWN], comparison: Some("at-least"), sp: SP1,
            expect: Invalid("at-least") },
    ];

    fn expected(case: &Case) -> Result<AuthnContext, AuthnContextError> {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        match &case.expect {
            Expect::Unauthorized(why) => Err(AuthnContextError::Unauthorized(why)),
            Expect::InvalidComparison(v) => {
                Err(AuthnContextError::InvalidComparison(v.to_string()))
            }
            Expect::Ok(w) => Ok(AuthnContext {
                ial: w.ial,
                aal: w.aal,
                comparison: w.comparison,
                ial_value: w.ial_value.map(str::to_owned),
                aal_value: w.aal_value.map(str::to_owned),
                requested_attributes: owned(w.attributes),
                ignored_values: owned(w.ignored),
            }),
        }
    }

    #[test]
    fn table() {
        for case in CASES {
            let values: Vec<String> = case.values.iter().map(|v| v.to_string()).collect();
            let got = parse(&values, case.comparison, &case.sp);
            assert_eq!(got, expected(case), "case {:?}", case.name);
        }
    }

    #[test]
    fn case_names_are_unique() {
        let mut names: Vec<_> = CASES.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CASES.len());
    }

    #[test]
    fn comparison_parse() {
        assert_eq!(Comparison::parse(None), Ok(Comparison::Exact));
        assert_eq!(Comparison::parse(Some("exact")), Ok(Comparison::Exact));
        assert_eq!(Comparison::parse(Some("minimum")), Ok(Comparison::Minimum));
        assert_eq!(Comparison::parse(Some("better")), Ok(Comparison::Better));
        assert_eq!(Comparison::parse(Some("maximum")), Ok(Comparison::Maximum));
        for bad in ["", "Exact", " exact", "exact ", "least", "MAXIMUM"] {
            assert_eq!(
                Comparison::parse(Some(bad)),
                Err(AuthnContextError::InvalidComparison(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn errors_display() {
        assert_eq!(
            AuthnContextError::Unauthorized(NO_AAL1).to_string(),
            "unauthorized authentication context: AAL1 is not offered"
        );
        assert_eq!(
            AuthnContextError::InvalidComparison("x".into()).to_string(),
            "invalid Comparison \"x\""
        );
    }

    #[test]
    fn ial_is_ordered_lowest_first() {
        assert!(AuthOnly < IalMax);
        assert!(IalMax < Verified);
        assert!(Verified < FacialMatchPreferred);
        assert!(FacialMatchPreferred < FacialMatchRequired);
    }
}
