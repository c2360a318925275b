//! What handlers read from a request: the page language ([`Lang`]), forms checked against
//! their CSRF token ([`CsrfForm`], [`SessionForm`]), the browser's session as a page needs
//! it ([`SignedIn`], [`FullySignedIn`], [`RecentlySignedIn`]), the forms several pages
//! share, and what the request itself says (JSON wanted, a bounded body, the client address
//! for rate limits).

mod csrf;
mod forms;
mod gate;
mod lang;
mod request;

pub(crate) use csrf::has_csrf;
pub use csrf::{CsrfForm, HasCsrf, SessionForm};
pub use forms::{ButtonForm, EmailForm, KeyRegistrationForm, NewPasswordForm, TokenQuery};
pub use gate::{BrowserSession, Elsewhere, FullySignedIn, RecentlySignedIn, SignedIn};
pub use lang::{Lang, LocaleQuery};
pub use request::{
    check_form_body, client_address, client_ip, locale, rate_key, read_body, wants_json,
};
