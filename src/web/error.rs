//! The one place where an error becomes an HTTP status and a page. The match is exhaustive:
//! a new variant forces a decision. Internal detail goes to the log, never to the page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use thiserror::Error;

use super::pages;

#[derive(Debug, Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl WebError {
    /// (title, message) shown to the user.
    fn public(&self) -> (&'static str, &'static str) {
        match self {
            WebError::NotFound => ("Page not found", "There is nothing at this address."),
            WebError::MethodNotAllowed => (
                "Method not allowed",
                "This address does not accept that request method.",
            ),
            WebError::DatabaseUnavailable(_) => (
                "Service unavailable",
                "The service is temporarily unavailable. Please try again in a moment.",
            ),
            WebError::Internal(_) => (
                "Error",
                "Something went wrong on our side. Please try again.",
            ),
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            WebError::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            WebError::DatabaseUnavailable(detail) => {
                tracing::warn!(%detail, "database unavailable")
            }
            WebError::Internal(detail) => tracing::error!(%detail, "internal error"),
            WebError::NotFound | WebError::MethodNotAllowed => {}
        }
        let (title, message) = self.public();
        HttpResponse::build(self.status_code())
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ))
            .body(pages::error_page(title, message))
    }
}
