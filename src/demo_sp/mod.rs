//! The demo service provider (SPEC 20): in development mode the server also plays an SP
//! under `/demo-sp/`, so that a newcomer has something to sign in to from the first command.
//! It is an SP like any other: registered in the registry (issuer `{base_url}/demo-sp`, its
//! own development key), talking to the IdP only through SAML over HTTP (signed Redirect
//! AuthnRequests and LogoutRequests out, Responses in), and trusting only what the IdP's
//! metadata says. Never built in production mode.
//!
//! No HTTP and no database here: `web::demo_sp` serves it and registers it.
//!
//! - `sp`: the demo SP, its key and its registration record;
//! - `idp_view`: what it reads from the IdP's metadata;
//! - `messages`: the requests it sends;
//! - `check`: its checks of a Response or LogoutResponse (`decrypt` below it).

pub mod check;
mod decrypt;
pub mod error;
pub mod idp_view;
pub mod messages;
pub mod sp;
