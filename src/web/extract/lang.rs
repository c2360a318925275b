//! [`Lang`]: the page language of a request (SPEC 14).

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::Deserialize;

use super::request::locale;
use crate::web::i18n::Locale;

/// `?locale=` on every page.
#[derive(Debug, Default, Deserialize)]
pub struct LocaleQuery {
    pub locale: Option<String>,
}

/// The request's language: the `locale` query parameter, else `Accept-Language`, else
/// English. A query string that does not parse is refused as `web::Query` refuses it (400).
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Locale);

impl Lang {
    /// The same choice for code that cannot refuse (an extractor's own refusal): a query
    /// string that does not parse counts as no parameter.
    pub fn of(req: &HttpRequest) -> Locale {
        let query = web::Query::<LocaleQuery>::from_query(req.query_string()).ok();
        locale(req, query.and_then(|q| q.into_inner().locale).as_deref())
    }
}

impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let query = web::Query::<LocaleQuery>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let query = query.await?;
            Ok(Lang(locale(&req, query.locale.as_deref())))
        })
    }
}
