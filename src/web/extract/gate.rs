//! The browser's session as a handler needs it (SPEC 7), loaded and checked before the
//! handler runs. Each gate refuses as the pages always have: a page without the session it
//! needs sends the browser to sign in (303, [`Elsewhere`]); a form post whose session is gone
//! during sign-in is "session expired" (401).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use thiserror::Error;

use super::Lang;
use crate::sessions::SessionRecord;
use crate::web::i18n::Locale;
use crate::web::{render, session, AppState, WebError};

/// Where a browser without the session a page needs is sent instead (303 See Other).
#[derive(Debug, Error)]
pub enum Elsewhere {
    /// `/sign-in`: no session, or not far enough through sign-in.
    #[error("not signed in")]
    SignIn(Locale),
    /// `/sign-in?notice=reauthenticate`: signed in, but the password is too old.
    #[error("the password must be entered again")]
    Reauthenticate(Locale),
}

impl ResponseError for Elsewhere {
    fn status_code(&self) -> StatusCode {
        StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> HttpResponse {
        render::redirect(&match self {
            Elsewhere::SignIn(locale) => format!("/sign-in?locale={}", locale.code()),
            Elsewhere::Reauthenticate(locale) => session::reauthenticate_url(*locale),
        })
    }
}

/// What a gate decides on: the state, the request's language and method, and the live
/// session of this browser, if any.
pub struct Found {
    pub(super) state: web::Data<AppState>,
    pub(super) locale: Locale,
    method: Method,
    session: Option<SessionRecord>,
}

impl Found {
    pub(super) async fn load(req: &HttpRequest) -> Result<Found, actix_web::Error> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or_else(|| WebError::Internal("no application state".into()))?;
        let locale = Lang::of(req);
        let session = session::current(&state, req, locale).await?;
        Ok(Found {
            state,
            locale,
            method: req.method().clone(),
            session,
        })
    }

    /// A page (GET, HEAD) sends the browser to sign in; a form post is "session expired".
    fn not_signed_in(&self) -> actix_web::Error {
        if matches!(self.method, Method::GET | Method::HEAD) {
            Elsewhere::SignIn(self.locale).into()
        } else {
            WebError::SessionExpired {
                locale: self.locale,
            }
            .into()
        }
    }
}

/// A rule about the session, checked by the extractor of the same name; the session it
/// admits is what [`super::SessionForm`] checks a form's CSRF token against.
pub trait Gate: Sized + 'static {
    fn admit(found: Found) -> Result<Self, actix_web::Error>;
    fn into_session(self) -> SessionRecord;
}

/// The password step done (the second factor may still be ahead). Without it, a page sends
/// the browser to `/sign-in` and a form post is "session expired".
#[derive(Debug)]
pub struct SignedIn(pub SessionRecord);

/// The password and a second factor; else `/sign-in`.
#[derive(Debug)]
pub struct FullySignedIn(pub SessionRecord);

/// As [`FullySignedIn`], with the password entered within the re-authentication window
/// (SPEC 17); else the sign-in page that asks for it again.
#[derive(Debug)]
pub struct RecentlySignedIn(pub SessionRecord);

/// The live session of this browser, if any (never refuses; a store failure is 503).
#[derive(Debug)]
pub struct BrowserSession(pub Option<SessionRecord>);

impl Gate for SignedIn {
    fn admit(found: Found) -> Result<Self, actix_web::Error> {
        match found.session {
            Some(s) if s.user_id.is_some() && s.password_at.is_some() => Ok(SignedIn(s)),
            _ => Err(found.not_signed_in()),
        }
    }

    fn into_session(self) -> SessionRecord {
        self.0
    }
}

impl Gate for FullySignedIn {
    fn admit(found: Found) -> Result<Self, actix_web::Error> {
        match found.session {
            Some(s) if session::fully_signed_in(&s) => Ok(FullySignedIn(s)),
            _ => Err(Elsewhere::SignIn(found.locale).into()),
        }
    }

    fn into_session(self) -> SessionRecord {
        self.0
    }
}

impl Gate for RecentlySignedIn {
    fn admit(found: Found) -> Result<Self, actix_web::Error> {
        let (state, locale) = (found.state.clone(), found.locale);
        let FullySignedIn(s) = FullySignedIn::admit(found)?;
        if session::recent_password(&state, &s) {
            Ok(RecentlySignedIn(s))
        } else {
            Err(Elsewhere::Reauthenticate(locale).into())
        }
    }

    fn into_session(self) -> SessionRecord {
        self.0
    }
}

impl BrowserSession {
    fn admit(found: Found) -> Result<Self, actix_web::Error> {
        Ok(BrowserSession(found.session))
    }
}

macro_rules! from_request {
    ($($gate:ident),*) => {$(
        impl FromRequest for $gate {
            type Error = actix_web::Error;
            type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let req = req.clone();
                Box::pin(async move { $gate::admit(Found::load(&req).await?) })
            }
        }
    )*};
}

from_request!(SignedIn, FullySignedIn, RecentlySignedIn, BrowserSession);
