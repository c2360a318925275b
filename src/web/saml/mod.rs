//! The SAML endpoints (SPEC 1–9): each handler extracts, makes one `idp` call in a blocking
//! task, and renders; `reply` turns single sign-on's answers into pages.

pub mod auth;
pub mod complete;
pub mod logout;
pub mod metadata;
mod reply;
