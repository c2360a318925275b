//! The cookies this IdP sets (SPEC 7): each holds a random 256-bit token (the database keeps
//! only its SHA-256), `HttpOnly`, `SameSite=Lax`, `Path=/`, and whenever `base_url` is https
//! `Secure` with the `__Host-` prefix (so no other host of the site can set or shadow one;
//! only the prefixed name is read then).

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;
use chrono::Duration;

use super::AppState;

/// A cookie's name, plain (http) and `__Host-` prefixed (https).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieName {
    plain: &'static str,
    host: &'static str,
}

impl CookieName {
    /// The name the browser holds when the IdP is (or is not) served over https.
    pub fn on(self, secure: bool) -> &'static str {
        if secure {
            self.host
        } else {
            self.plain
        }
    }
}

/// The browser session (after the password step).
pub const SESSION: CookieName = CookieName {
    plain: "saml_idp_session",
    host: "__Host-saml_idp_session",
};
/// The stored AuthnRequest this browser is signing in for.
pub const PENDING: CookieName = CookieName {
    plain: "saml_idp_pending",
    host: "__Host-saml_idp_pending",
};
/// "Remember this browser".
pub const REMEMBER: CookieName = CookieName {
    plain: "saml_idp_remember",
    host: "__Host-saml_idp_remember",
};
/// The random pre-session id of a browser without a session: the forms shown before
/// sign-in carry an HMAC of it under a server key (SPEC 7), so showing a page stores
/// nothing.
pub const CSRF: CookieName = CookieName {
    plain: "saml_idp_csrf",
    host: "__Host-saml_idp_csrf",
};
/// A sign-up past its confirmed email (the one-time sign-up token, SPEC 17).
pub const SIGN_UP: CookieName = CookieName {
    plain: "saml_idp_sign_up",
    host: "__Host-saml_idp_sign_up",
};

/// The language chosen with `?locale=` (or the switcher): not a secret, `HttpOnly` all
/// the same.
pub const LOCALE: CookieName = CookieName {
    plain: "saml_idp_locale",
    host: "__Host-saml_idp_locale",
};

/// The cookie `name` of this request, under the name this IdP gives it.
pub fn read(req: &HttpRequest, name: CookieName) -> Option<Cookie<'static>> {
    let secure = req
        .app_data::<actix_web::web::Data<AppState>>()
        .is_some_and(|state| state.secure_cookies());
    req.cookie(name.on(secure))
}

pub fn build(
    state: &AppState,
    name: CookieName,
    value: String,
    max_age: Duration,
) -> Cookie<'static> {
    Cookie::build(name.on(state.secure_cookies()), value)
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age.num_seconds()))
        .finish()
}

/// A cookie that deletes `name`.
pub fn removal(state: &AppState, name: CookieName) -> Cookie<'static> {
    let mut c = build(state, name, String::new(), Duration::zero());
    c.make_removal();
    c
}
