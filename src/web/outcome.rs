//! What the browser gets for a flow outcome (`idp::advance`): the auto-post page with the
//! Response, the page of the step still missing, or a page that stops the flow. Shared by
//! the SSO endpoint and `/api/saml/complete`.

use actix_web::cookie::Cookie;
use actix_web::HttpResponse;

use super::i18n::Locale;
use super::render::{self, Outgoing};
use super::WebError;
use crate::idp::complete::Step;
use crate::idp::pending::PendingRequest;
use crate::registry::ServiceProvider;

/// The Response on its way to the registered ACS, with `cookies` set (e.g. the removal of
/// the pending cookie).
pub fn respond(
    locale: Locale,
    sp: &ServiceProvider,
    pending: &PendingRequest,
    xml: &[u8],
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, WebError> {
    let out = Outgoing {
        prefix: "handoff",
        action: &pending.acs_url,
        xml,
        relay_state: pending.relay_state.as_deref(),
    };
    let mut response = render::post_message(locale, Some(sp), &out)?;
    for c in cookies {
        response
            .add_cookie(&c)
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    Ok(response)
}

/// True for the steps the user can complete (the pending request must be kept for them).
pub fn is_interactive(step: &Step) -> bool {
    matches!(
        step,
        Step::SignIn | Step::SecondFactor | Step::SecurityKey | Step::Consent(_)
    )
}

/// The page for a step: a redirect to the form that completes it, or the page that says
/// why the flow stops here (with the SP's link where there is one).
pub fn step(locale: Locale, sp: &ServiceProvider, step: &Step) -> Result<HttpResponse, WebError> {
    let code = locale.code();
    match step {
        Step::SignIn => Ok(render::redirect(&format!("/sign-in?locale={code}"))),
        Step::SecondFactor => Ok(render::redirect(&format!("/sign-in/mfa?locale={code}"))),
        Step::SecurityKey => Ok(render::redirect(&format!(
            "/sign-in/mfa?locale={code}&key=required"
        ))),
        Step::Consent(_) => Ok(render::redirect(&format!("/consent?locale={code}"))),
        Step::Suspended => render::message(locale, "suspended", Some(sp), None, 403),
        Step::PhishingResistantRequired => {
            let link = sp.return_to_sp_url.as_deref().map(|u| (u, "signin.cancel"));
            render::message(locale, "phishing", Some(sp), link, 403)
        }
        Step::VerifyIdentity => {
            let link = sp
                .failure_to_proof_url
                .as_deref()
                .map(|u| (u, "verify.link"));
            render::message(locale, "verify", Some(sp), link, 403)
        }
        // Answers, not steps: `idp::advance` turns these into a Response.
        Step::NoPassive | Step::HandOff(_) => Err(WebError::Internal(
            "a hand-off step reached the step page".into(),
        )),
    }
}
