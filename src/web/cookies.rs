//! The cookies this IdP sets (SPEC 7): each holds a random 256-bit token (the database keeps
//! only its SHA-256), `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` whenever `base_url` is
//! https.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use chrono::Duration;

use super::AppState;

/// The browser session (after the password step).
pub const SESSION: &str = "saml_idp_session";
/// The stored AuthnRequest this browser is signing in for.
pub const PENDING: &str = "saml_idp_pending";
/// "Remember this browser".
pub const REMEMBER: &str = "saml_idp_remember";
/// The CSRF token of forms shown before there is a session (double submit: the form's
/// value must equal this cookie's), so that showing a page stores nothing.
pub const CSRF: &str = "saml_idp_csrf";
/// A sign-up past its confirmed email (the one-time sign-up token, SPEC 17).
pub const SIGN_UP: &str = "saml_idp_sign_up";

pub fn build(
    state: &AppState,
    name: &'static str,
    value: String,
    max_age: Duration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age.num_seconds()))
        .finish()
}

/// A cookie that deletes `name`.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = build(state, name, String::new(), Duration::zero());
    c.make_removal();
    c
}
