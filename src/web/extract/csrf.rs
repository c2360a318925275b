//! Forms checked against their CSRF token before the handler runs (SPEC 7): before there is
//! a session, the browser's double-submit cookie ([`CsrfForm`]); after, the session's own
//! token ([`SessionForm`]). A wrong or missing token is 403 in the request's language.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::gate::{Found, FullySignedIn, Gate};
use super::Lang;
use crate::sessions::SessionRecord;
use crate::web::{session, AppState, WebError};

/// A form that carries a CSRF token.
pub trait HasCsrf {
    fn csrf(&self) -> &str;
}

/// `impl HasCsrf` for forms whose token is the field `csrf`.
macro_rules! has_csrf {
    ($($form:ty),* $(,)?) => {$(
        impl $crate::web::extract::HasCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    )*};
}
pub(crate) use has_csrf;

/// A form posted before there is a session, its token matching the browser's anonymous
/// double-submit cookie.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for CsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + HasCsrf + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = form.await?.into_inner();
            let state = req.app_data::<web::Data<AppState>>().cloned();
            let ok = state.is_some_and(|s| session::anonymous_csrf_ok(&s, &req, form.csrf()));
            if !ok {
                let locale = Lang::of(&req);
                return Err(WebError::Csrf { locale }.into());
            }
            Ok(CsrfForm(form))
        })
    }
}

/// A form of a signed-in browser: the session admitted by the gate `G` (which refuses
/// first, as the page would), then the form's token checked against the session's.
#[derive(Debug)]
pub struct SessionForm<T, G = FullySignedIn> {
    pub form: T,
    pub session: SessionRecord,
    gate: PhantomData<fn() -> G>,
}

impl<T, G> FromRequest for SessionForm<T, G>
where
    T: DeserializeOwned + HasCsrf + 'static,
    G: Gate,
{
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let form = form.await?.into_inner();
            let found = Found::load(&req).await?;
            let locale = found.locale;
            let session = G::admit(found)?.into_session();
            if !session::csrf_ok(&session, form.csrf()) {
                return Err(WebError::Csrf { locale }.into());
            }
            Ok(SessionForm {
                form,
                session,
                gate: PhantomData,
            })
        })
    }
}
