//! The forms and queries several pages share.

use serde::Deserialize;

use super::has_csrf;

/// A form that carries only its CSRF token (a button; a WebAuthn ceremony's options).
#[derive(Debug, Deserialize)]
pub struct ButtonForm {
    #[serde(default)]
    pub csrf: String,
}

/// A security key being registered: its name, the ceremony token and the authenticator's
/// answer (JSON), as `/static/webauthn.js` posts them.
#[derive(Debug, Deserialize)]
pub struct KeyRegistrationForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub ceremony: String,
    #[serde(default)]
    pub response: String,
}

/// A form with one email address, posted before there is a session (sign-up, recovery).
#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    pub csrf: String,
    pub email: String,
}

/// An emailed link: `?locale=…&token=…` (the language read by [`super::Lang`]).
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    pub token: String,
}

/// A new password typed twice, with the token of the link that allows it.
#[derive(Debug, Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub token: String,
    pub password: String,
    pub password_confirmation: String,
}

has_csrf!(ButtonForm, KeyRegistrationForm, EmailForm, NewPasswordForm);
