//! The single-sign-on policy (SPEC 7): given the pending request and what this browser's
//! session has done, the next step. A pure function: `sso` gathers the facts and acts on
//! the step: asks the user (the request is kept), stops the flow, or answers the SP.

use chrono::{DateTime, SubsecRound, Utc};

use super::pending::PendingRequest;
use super::release::{released, Grant};
use crate::accounts::UserStatus;
use crate::registry::ServiceProvider;
use crate::saml::authn_context::{Aal, Ial};
use crate::sessions::MfaMethod;

/// The facts about the browser and user, gathered from the stores.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub pending: &'a PendingRequest,
    pub sp: &'a ServiceProvider,
    /// When the password was verified in this session, if it was.
    pub password_at: Option<DateTime<Utc>>,
    /// When a second factor was verified in this session, if it was.
    pub mfa_at: Option<DateTime<Utc>>,
    pub status: Option<UserStatus>,
    /// The browser was remembered by this user (satisfies the default AAL only).
    pub remembered: bool,
    pub user_verified: bool,
    /// How the second factor was verified in this session, if it was.
    pub mfa_method: Option<MfaMethod>,
    /// What the user's WebAuthn security keys can do on this server (SPEC 18).
    pub keys: Keys,
    pub consented: Option<&'a [String]>,
}

/// The strongest sign-in the user's security keys allow here (SPEC 18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Keys {
    /// No key (or keys cannot be used at this address).
    None,
    /// Phishing resistant: `aal/2?phishing_resistant=true`.
    PhishingResistant,
    /// A hardware-bound key (attested to a configured root, not backup eligible): `aal/3`.
    Aal3,
}

/// What happens next: one of three kinds, so no caller has an impossible arm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The user can do this; the request waits for it.
    Ask(Ask),
    /// The flow ends here with a page that says why.
    Stop(Stop),
    /// The SP gets a Response now.
    Answer(Answer),
}

/// A step the user completes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    SignIn,
    SecondFactor,
    /// A phishing-resistant request: the second factor must be one of the user's security
    /// keys (with user verification for `aal/3`).
    SecurityKey,
    /// These attributes would be released and the user has not agreed to all of them.
    Consent(Vec<&'static str>),
}

/// Why the flow cannot go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    Suspended,
    PhishingResistantRequired,
    /// `aal/3` and the user has no hardware-bound key (or no attestation root is configured).
    HardwareKeyRequired,
    VerifyIdentity,
}

/// What the Response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The user is signed in; these attributes are released.
    HandOff(Vec<&'static str>),
    /// `IsPassive` and the user would have to interact (SAML core §3.4.1).
    NoPassive,
}

/// After `since`? (ForceAuthn: only authentication after the request counts.) Stored
/// times keep whole microseconds, so `since` is compared at that precision.
fn fresh(at: Option<DateTime<Utc>>, since: Option<DateTime<Utc>>) -> bool {
    match (at, since) {
        (Some(at), Some(since)) => at >= since.trunc_subsecs(6),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// `aal/3` (requested, or the SP's default with none requested) asks for a hardware-bound
/// key that verified its user (SPEC 18).
pub fn needs_aal3(p: &PendingRequest, sp: &ServiceProvider) -> bool {
    match &p.authn_context.aal_value {
        Some(value) => value == AAL3,
        None => sp.default_aal == Some(3),
    }
}

const AAL3: &str = "http://idmanagement.gov/ns/assurance/aal/3";

pub fn next_step(f: &Facts<'_>) -> Step {
    let p = f.pending;
    let since = p.force_authn.then_some(p.received_at);
    let interact = |ask: Ask| {
        if p.is_passive {
            Step::Answer(Answer::NoPassive)
        } else {
            Step::Ask(ask)
        }
    };
    if !fresh(f.password_at, since) {
        return interact(Ask::SignIn);
    }
    if f.status != Some(UserStatus::Active) {
        return Step::Stop(Stop::Suspended);
    }
    let aal = p.authn_context.aal;
    // PIV/CAC is not offered; a security key is the only phishing-resistant authenticator.
    let phishing_resistant = aal == Aal::PhishingResistant;
    let aal3 = phishing_resistant && needs_aal3(p, f.sp);
    if aal3 && f.keys < Keys::Aal3 {
        return Step::Stop(Stop::HardwareKeyRequired);
    }
    if aal == Aal::Hspd12 || (phishing_resistant && f.keys == Keys::None) {
        return Step::Stop(Stop::PhishingResistantRequired);
    }
    if phishing_resistant {
        let by_key = f.mfa_method.is_some_and(|m| {
            if aal3 {
                m.is_aal3()
            } else {
                m.is_phishing_resistant()
            }
        });
        if !(by_key && fresh(f.mfa_at, since)) {
            return interact(Ask::SecurityKey);
        }
    }
    // A remembered browser stands in for the second factor only at the default AAL and
    // never under ForceAuthn.
    let second_factor =
        fresh(f.mfa_at, since) || (aal == Aal::Default && since.is_none() && f.remembered);
    if !second_factor {
        return interact(Ask::SecondFactor);
    }
    let ial = p.authn_context.ial;
    if ial >= Ial::Verified && !f.user_verified {
        return Step::Stop(Stop::VerifyIdentity);
    }
    let grant = Grant {
        user_verified: f.user_verified,
        piv_session: false,
    };
    let attributes = released(f.sp, &p.authn_context, grant);
    let covered = f
        .consented
        .is_some_and(|c| attributes.iter().all(|a| c.iter().any(|k| k == a)));
    if covered {
        Step::Answer(Answer::HandOff(attributes))
    } else {
        interact(Ask::Consent(attributes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idp::testing;
    use chrono::TimeZone;

    fn t(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 15, 12, minute, 0)
            .single()
            .expect("time")
    }

    fn sp() -> ServiceProvider {
        testing::ial2_sp(&["email", "first_name"])
    }

    fn pending(values: &[&str], force: bool, passive: bool) -> PendingRequest {
        let context = testing::authn_context(values, &testing::IAL2_POLICY);
        testing::pending_request(context, force, passive, t(10))
    }

    struct Case {
        name: &'static str,
        values: &'static [&'static str],
        force: bool,
        passive: bool,
        password_at: Option<u32>,
        mfa_at: Option<u32>,
        remembered: bool,
        verified: bool,
        consented: bool,
        method: Option<MfaMethod>,
        keys: Keys,
        expect: &'static str,
    }

    const BASE: Case = Case {
        name: "",
        values: &[],
        force: false,
        passive: false,
        password_at: Some(5),
        mfa_at: Some(5),
        remembered: false,
        verified: false,
        consented: true,
        method: Some(MfaMethod::Totp),
        keys: Keys::None,
        expect: "",
    };

    const AUTH_ONLY: &[&str] = &["urn:acr.login.gov:auth-only"];
    const AAL2: &[&str] = &[
        "urn:acr.login.gov:auth-only",
        "http://idmanagement.gov/ns/assurance/aal/2",
    ];

    const PHISHING_RESISTANT: &[&str] = &[
        "urn:acr.login.gov:auth-only",
        "http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true",
    ];
    const AAL3: &[&str] = &[
        "urn:acr.login.gov:auth-only",
        "http://idmanagement.gov/ns/assurance/aal/3",
    ];

    const CASES: &[Case] = &[
        Case {
            name: "not signed in",
            values: AUTH_ONLY,
            password_at: None,
            mfa_at: None,
            expect: "SignIn",
            ..BASE
        },
        Case {
            name: "passive, not signed in",
            values: AUTH_ONLY,
            passive: true,
            password_at: None,
            mfa_at: None,
            expect: "NoPassive",
            ..BASE
        },
        Case {
            name: "password only",
            values: AUTH_ONLY,
            mfa_at: None,
            expect: "SecondFactor",
            ..BASE
        },
        Case {
            name: "remembered browser, default AAL",
            values: AUTH_ONLY,
            mfa_at: None,
            remembered: true,
            expect: "HandOff",
            ..BASE
        },
        Case {
            name: "remembered browser is not aal/2",
            values: AAL2,
            mfa_at: None,
            remembered: true,
            expect: "SecondFactor",
            ..BASE
        },
        Case {
            name: "aal/2 with MFA in this session",
            values: AAL2,
            expect: "HandOff",
            ..BASE
        },
        Case {
            name: "phishing resistant",
            values: &["http://idmanagement.gov/ns/assurance/aal/2?phishing_resistant=true"],
            expect: "PhishingResistantRequired",
            ..BASE
        },
        Case {
            name: "phishing resistant, TOTP in this session, user has a key",
            values: PHISHING_RESISTANT,
            keys: Keys::PhishingResistant,
            expect: "SecurityKey",
            ..BASE
        },
        Case {
            name: "phishing resistant, passive, user has a key",
            values: PHISHING_RESISTANT,
            passive: true,
            keys: Keys::PhishingResistant,
            expect: "NoPassive",
            ..BASE
        },
        Case {
            name: "phishing resistant, key in this session",
            values: PHISHING_RESISTANT,
            keys: Keys::PhishingResistant,
            method: Some(MfaMethod::SecurityKey),
            expect: "HandOff",
            ..BASE
        },
        Case {
            name: "phishing resistant, ForceAuthn, key before the request",
            values: PHISHING_RESISTANT,
            force: true,
            password_at: Some(11),
            keys: Keys::PhishingResistant,
            method: Some(MfaMethod::SecurityKey),
            expect: "SecurityKey",
            ..BASE
        },
        Case {
            name: "aal/2 with a key in this session",
            values: AAL2,
            method: Some(MfaMethod::SecurityKey),
            keys: Keys::PhishingResistant,
            expect: "HandOff",
            ..BASE
        },
        Case {
            name: "aal/3, no key",
            values: AAL3,
            expect: "HardwareKeyRequired",
            ..BASE
        },
        Case {
            name: "aal/3, only keys that are not hardware bound (or no roots)",
            values: AAL3,
            keys: Keys::PhishingResistant,
            method: Some(MfaMethod::SecurityKey),
            expect: "HardwareKeyRequired",
            ..BASE
        },
        Case {
            name: "aal/3, a hardware-bound key, another key in this session",
            values: AAL3,
            keys: Keys::Aal3,
            method: Some(MfaMethod::SecurityKey),
            expect: "SecurityKey",
            ..BASE
        },
        Case {
            name: "aal/3, passive, a hardware-bound key not used yet",
            values: AAL3,
            passive: true,
            keys: Keys::Aal3,
            expect: "NoPassive",
            ..BASE
        },
        Case {
            name: "aal/3, AAL3 in this session",
            values: AAL3,
            keys: Keys::Aal3,
            method: Some(MfaMethod::SecurityKeyVerified),
            expect: "HandOff",
            ..BASE
        },
        Case {
            name: "phishing resistant, AAL3 in this session",
            values: PHISHING_RESISTANT,
            keys: Keys::Aal3,
            method: Some(MfaMethod::SecurityKeyVerified),
            expect: "HandOff",
            ..BASE
        },
        Case {
            name: "hspd12 stays refused with a key",
            values: &["http://idmanagement.gov/ns/assurance/aal/2?hspd12=true"],
            keys: Keys::PhishingResistant,
            method: Some(MfaMethod::SecurityKeyVerified),
            expect: "PhishingResistantRequired",
            ..BASE
        },
        Case {
            name: "verified, unverified user",
            values: &["urn:acr.login.gov:verified"],
            expect: "VerifyIdentity",
            ..BASE
        },
        Case {
            name: "verified, verified user",
            values: &["urn:acr.login.gov:verified"],
            verified: true,
            expect: "HandOff",
            ..BASE
        },
        Case {
            name: "no consent yet",
            values: AUTH_ONLY,
            consented: false,
            expect: "Consent",
            ..BASE
        },
        Case {
            name: "ForceAuthn, old authentication",
            values: AUTH_ONLY,
            force: true,
            expect: "SignIn",
            ..BASE
        },
        Case {
            name: "ForceAuthn, fresh password, old MFA",
            values: AUTH_ONLY,
            force: true,
            password_at: Some(11),
            remembered: true,
            expect: "SecondFactor",
            ..BASE
        },
        Case {
            name: "ForceAuthn, fresh both",
            values: AUTH_ONLY,
            force: true,
            password_at: Some(11),
            mfa_at: Some(11),
            expect: "HandOff",
            ..BASE
        },
    ];

    fn name(step: &Step) -> &'static str {
        match step {
            Step::Ask(Ask::SignIn) => "SignIn",
            Step::Ask(Ask::SecondFactor) => "SecondFactor",
            Step::Ask(Ask::SecurityKey) => "SecurityKey",
            Step::Answer(Answer::NoPassive) => "NoPassive",
            Step::Stop(Stop::Suspended) => "Suspended",
            Step::Stop(Stop::PhishingResistantRequired) => "PhishingResistantRequired",
            Step::Stop(Stop::HardwareKeyRequired) => "HardwareKeyRequired",
            Step::Stop(Stop::VerifyIdentity) => "VerifyIdentity",
            Step::Ask(Ask::Consent(_)) => "Consent",
            Step::Answer(Answer::HandOff(_)) => "HandOff",
        }
    }

    #[test]
    fn each_situation_leads_to_its_step() {
        let sp = sp();
        for c in CASES {
            let p = pending(c.values, c.force, c.passive);
            let everything: Vec<String> = vec!["email".into(), "first_name".into()];
            let facts = Facts {
                pending: &p,
                sp: &sp,
                password_at: c.password_at.map(t),
                mfa_at: c.mfa_at.map(t),
                status: Some(UserStatus::Active),
                remembered: c.remembered,
                user_verified: c.verified,
                mfa_method: c.method,
                keys: c.keys,
                consented: c.consented.then_some(everything.as_slice()),
            };
            assert_eq!(name(&next_step(&facts)), c.expect, "{}", c.name);
        }
    }

    #[test]
    fn suspended_users_stop_and_consent_lists_what_is_released() {
        let (sp, p) = (sp(), pending(AUTH_ONLY, false, false));
        let mut facts = Facts {
            pending: &p,
            sp: &sp,
            password_at: Some(t(5)),
            mfa_at: Some(t(5)),
            status: Some(UserStatus::Suspended),
            remembered: false,
            user_verified: false,
            mfa_method: Some(MfaMethod::Totp),
            keys: Keys::None,
            consented: None,
        };
        assert_eq!(next_step(&facts), Step::Stop(Stop::Suspended));
        facts.status = Some(UserStatus::Active);
        assert_eq!(
            next_step(&facts),
            Step::Ask(Ask::Consent(vec!["email"])),
            "first_name needs a verified request"
        );
    }
}
