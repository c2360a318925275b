//! What the browser gets for an [`SsoReply`]: the auto-post page with the Response, a
//! redirect to the form of the step still missing (setting the pending cookie when the
//! request was just stored), or a page that stops the flow. Shared by the SSO endpoint and
//! `/api/saml/complete`.

use actix_web::cookie::Cookie;
use actix_web::HttpResponse;

use crate::idp::sso::policy::{Ask, Stop};
use crate::idp::sso::{pending_lifetime, Post, SsoReply};
use crate::registry::ServiceProvider;
use crate::web::i18n::Locale;
use crate::web::intake_errors::RejectionNote;
use crate::web::render::{self, Outgoing};
use crate::web::{cookies, AppState, WebError};

/// How the refusal of a request is shown (intake errors as a page or JSON).
#[derive(Debug, Clone)]
pub struct Refusal {
    pub locale: Locale,
    pub json: bool,
    pub help_base: String,
}

/// The page for `reply`; `cookies` are set on a Response (e.g. the pending cookie's
/// removal).
pub fn render(
    state: &AppState,
    reply: SsoReply,
    refusal: Refusal,
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, WebError> {
    let locale = refusal.locale;
    match reply {
        SsoReply::Post(post) => respond(locale, &post, cookies),
        SsoReply::Ask { ask, pending, .. } => {
            let mut response = ask_page(locale, &ask);
            if let Some(token) = pending {
                let name = cookies::PENDING;
                let cookie = cookies::build(state, name, token.into_string(), pending_lifetime());
                add_cookie(&mut response, &cookie)?;
            }
            Ok(response)
        }
        SsoReply::Stop { sp, stop } => stop_page(locale, &sp, stop),
        SsoReply::Refused {
            errors,
            sp,
            reference,
        } => Err(WebError::Rejected {
            errors,
            note: Box::new(RejectionNote {
                sp_name: sp.as_ref().map(|sp| sp.friendly_name.clone()),
                return_url: sp.and_then(|sp| sp.return_to_sp_url.clone()),
                reference,
            }),
            locale,
            json: refusal.json,
            help_base: refusal.help_base,
        }),
        SsoReply::Inactive(_) => Err(WebError::InactiveSp { locale }),
        SsoReply::NothingPending => render::message(locale, "signin.none_page", None, None, 400),
    }
}

/// The Response on its way to the registered ACS, with `cookies` set.
fn respond(
    locale: Locale,
    post: &Post,
    cookies: Vec<Cookie<'static>>,
) -> Result<HttpResponse, WebError> {
    let out = Outgoing {
        prefix: "handoff",
        action: &post.acs_url,
        xml: &post.saml_response,
        relay_state: post.relay_state.as_deref(),
    };
    let mut response = render::post_message(locale, Some(&post.sp), &out)?;
    for c in cookies {
        add_cookie(&mut response, &c)?;
    }
    Ok(response)
}

fn add_cookie(response: &mut HttpResponse, cookie: &Cookie<'_>) -> Result<(), WebError> {
    response
        .add_cookie(cookie)
        .map_err(|e| WebError::Internal(e.to_string()))
}

/// A redirect to the form that completes the step.
fn ask_page(locale: Locale, ask: &Ask) -> HttpResponse {
    let code = locale.code();
    render::redirect(&match ask {
        Ask::SignIn => format!("/sign-in?locale={code}"),
        Ask::SecondFactor => format!("/sign-in/mfa?locale={code}"),
        Ask::SecurityKey => format!("/sign-in/mfa?locale={code}&key=required"),
        Ask::Consent(_) => format!("/consent?locale={code}"),
    })
}

/// The page that says why the flow stops here, with the SP's link where there is one.
fn stop_page(locale: Locale, sp: &ServiceProvider, stop: Stop) -> Result<HttpResponse, WebError> {
    match stop {
        Stop::Suspended => render::message(locale, "suspended", Some(sp), None, 403),
        Stop::PhishingResistantRequired | Stop::HardwareKeyRequired => {
            let page = match stop {
                Stop::HardwareKeyRequired => "hardware_key",
                _ => "phishing",
            };
            let link = sp.return_to_sp_url.as_deref().map(|u| (u, "signin.cancel"));
            render::message(locale, page, Some(sp), link, 403)
        }
        Stop::VerifyIdentity => {
            let link = sp
                .failure_to_proof_url
                .as_deref()
                .map(|u| (u, "verify.link"));
            render::message(locale, "verify", Some(sp), link, 403)
        }
    }
}
