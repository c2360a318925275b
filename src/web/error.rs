//! The one place where an error becomes an HTTP status and a page. The match is exhaustive:
//! a new variant forces a decision. Internal detail goes to the log, never to the page.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use thiserror::Error;

use super::i18n::Locale;
use super::intake_errors;
use super::pages::{self, PageError};
use crate::idp::console::ConsoleError;
use crate::idp::intake::catalogue::{IntakeCode, IntakeError};
use crate::idp::{Error as IdpError, SpProblem, UserProblem};
use crate::registry::ValidationError;

/// The error code of a response built from a `WebError`, for the request's log line and
/// metrics (`web::observe` reads it).
#[derive(Debug, Clone)]
pub struct ErrorCode(pub String);

#[derive(Debug, Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// Metadata of a year that is not live (SPEC 20): 404 with the live years' URLs.
    #[error("no metadata for that year")]
    MetadataNotFound { live: Vec<String> },
    /// A SAML request refused by intake: 400 with every error (SPEC 4).
    #[error("SAML request refused: {errors:?}")]
    Rejected {
        errors: Vec<IntakeError>,
        locale: Locale,
        json: bool,
        help_base: String,
        /// The SP named and the audit reference, when known (SPEC 15).
        note: Box<intake_errors::RejectionNote>,
    },
    /// A valid request from an SP that is no longer in service.
    #[error("inactive service provider")]
    InactiveSp { locale: Locale },
    /// A form without its session's CSRF token.
    #[error("CSRF token missing or wrong")]
    Csrf { locale: Locale },
    /// A form post whose session is gone (expired or never started).
    #[error("session expired")]
    SessionExpired { locale: Locale },
    /// Too many attempts from one address, account or session.
    #[error("rate limited")]
    RateLimited { locale: Locale },
    /// The signed-in account has no email for an SP that receives email as NameID.
    #[error("the account has no email to release")]
    NoEmail { locale: Locale },
    /// A form that does not parse.
    #[error("invalid form: {0}")]
    InvalidForm(String),
    /// With the methods the resource does allow (the `Allow` header, RFC 9110 §15.5.6).
    #[error("method not allowed")]
    MethodNotAllowed(&'static str),
    /// A POST body that is not `application/x-www-form-urlencoded` (UTF-8).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// A form POST whose `Sec-Fetch-Site` or `Origin` names another site (SPEC 7).
    #[error("form sent from another site")]
    CrossSite,
    /// One client over the in-process limit of its class (`[limits]`, SPEC 7): nothing
    /// else ran.
    #[error("too many requests from one client")]
    TooManyRequests,
    /// A refusal of the console's JSON API (SPEC 19): its status and its
    /// `{"errors":[{"field","code","message"}]}` body.
    #[error("console API: {status} {errors:?}")]
    Api {
        status: StatusCode,
        errors: Vec<ApiFieldError>,
    },
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// One entry of a console API error body; `field` is empty for the request as a whole.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ApiFieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// The body of every console API error.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ApiErrors {
    pub errors: Vec<ApiFieldError>,
}

impl WebError {
    /// A console API refusal of the request as a whole.
    pub fn api(status: StatusCode, code: &str, message: impl Into<String>) -> WebError {
        WebError::Api {
            status,
            errors: vec![ApiFieldError {
                field: String::new(),
                code: code.to_string(),
                message: message.into(),
            }],
        }
    }

    /// The one mapping from a console use case's error to the API's answer: another
    /// agency's SP is 404 like a missing one (no enumeration), a stale edit 412, a broken
    /// rule 422 naming its field, an SP put in another agency 403, a store failure 503.
    pub fn from_console(e: ConsoleError) -> WebError {
        let field = |status, v: ValidationError| WebError::Api {
            status,
            errors: vec![ApiFieldError {
                field: v.field.to_string(),
                code: v.code.to_string(),
                message: v.message,
            }],
        };
        match e {
            ConsoleError::NotFound => WebError::api(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such service provider",
            ),
            ConsoleError::NoSuchCertificate => WebError::api(
                StatusCode::NOT_FOUND,
                "no_such_certificate",
                "the service provider has no certificate with this SHA-256 fingerprint",
            ),
            ConsoleError::Stale => WebError::api(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                "the service provider changed since you read it: read it again, then retry",
            ),
            ConsoleError::Invalid(v) => field(StatusCode::UNPROCESSABLE_ENTITY, v),
            ConsoleError::Forbidden(v) => field(StatusCode::FORBIDDEN, v),
            ConsoleError::Storage(detail) => WebError::api_unavailable(&detail),
        }
    }

    /// The API's 503 when the database fails (the detail goes to the log only).
    pub fn api_unavailable(detail: &str) -> WebError {
        tracing::warn!(%detail, "database unavailable");
        WebError::api(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable; retry in a few seconds",
        )
    }
}

impl From<PageError> for WebError {
    fn from(e: PageError) -> Self {
        WebError::Internal(e.to_string())
    }
}

impl WebError {
    /// The one mapping from a use case's error to what the browser sees: only a store
    /// failure is "database unavailable" (503); a changed SP gets the page of the check it
    /// would now fail; a removed user is a session that ended; a failure to sign or encrypt
    /// is ours (500).
    pub fn from_idp(e: IdpError, locale: Locale) -> WebError {
        let changed = |code, detail: &str| WebError::Rejected {
            errors: vec![IntakeError::with_detail(code, detail)],
            note: Box::default(),
            locale,
            json: false,
            help_base: String::new(),
        };
        match e {
            IdpError::Storage(detail) => WebError::DatabaseUnavailable(detail),
            IdpError::Sp(SpProblem::Inactive) => WebError::InactiveSp { locale },
            IdpError::Sp(SpProblem::Unknown) => changed(
                IntakeCode::UnauthorizedServiceProvider,
                "the service provider is no longer registered",
            ),
            IdpError::Sp(SpProblem::AcsRemoved) => changed(
                IntakeCode::AcsUrlNotRegistered,
                "the Assertion Consumer Service URL was removed after the request was received",
            ),
            IdpError::Sp(SpProblem::CertificateRemoved) => changed(
                IntakeCode::InvalidSignature,
                "the certificate that verified the request is no longer registered",
            ),
            IdpError::Sp(SpProblem::YearNotLive) => WebError::NotFound,
            IdpError::User(UserProblem::Gone) => WebError::SessionExpired { locale },
            IdpError::User(UserProblem::NoEmail) => WebError::NoEmail { locale },
            IdpError::Response(detail) => WebError::Internal(detail),
            IdpError::Random(what) => {
                WebError::Internal(format!("random generator failed: {what}"))
            }
        }
    }

    /// (title, message) shown to the user, in `locale`. Variants that carry their own
    /// locale use it; the others are shown in `locale` (`error_response` has no request, so
    /// English; `localize` re-renders them in the request's language).
    fn public(&self, locale: Locale) -> (&'static str, &'static str) {
        let pair = |l: Locale, prefix: &str| {
            (
                l.t(&format!("{prefix}.title")),
                l.t(&format!("{prefix}.body")),
            )
        };
        match self {
            WebError::NotFound => pair(locale, "errors.not_found"),
            WebError::MetadataNotFound { .. } => pair(locale, "errors.metadata_not_found"),
            WebError::Rejected { locale, .. } => (locale.t("error.title"), locale.t("error.intro")),
            WebError::InactiveSp { locale } => pair(*locale, "inactive"),
            WebError::Csrf { locale } => (
                locale.t("form.invalid_title"),
                locale.t("form.invalid_body"),
            ),
            WebError::SessionExpired { locale } => (
                locale.t("session.expired_title"),
                locale.t("session.expired_body"),
            ),
            WebError::RateLimited { locale } => pair(*locale, "ratelimit"),
            WebError::NoEmail { locale } => pair(*locale, "noemail"),
            WebError::InvalidForm(_) => pair(locale, "errors.invalid_form"),
            WebError::MethodNotAllowed(_) => pair(locale, "errors.method"),
            WebError::UnsupportedMediaType => pair(locale, "errors.media_type"),
            WebError::CrossSite => pair(locale, "errors.cross_site"),
            WebError::TooManyRequests => pair(locale, "errors.too_many"),
            WebError::Api { .. } => pair(locale, "errors.invalid_form"),
            WebError::DatabaseUnavailable(_) => pair(locale, "errors.unavailable"),
            WebError::Internal(_) => pair(locale, "errors.internal"),
        }
    }

    /// The locale a variant carries, if it carries one.
    fn own_locale(&self) -> Option<Locale> {
        match self {
            WebError::Rejected { locale, .. }
            | WebError::InactiveSp { locale }
            | WebError::Csrf { locale }
            | WebError::SessionExpired { locale }
            | WebError::RateLimited { locale }
            | WebError::NoEmail { locale } => Some(*locale),
            WebError::NotFound
            | WebError::MetadataNotFound { .. }
            | WebError::InvalidForm(_)
            | WebError::MethodNotAllowed(_)
            | WebError::UnsupportedMediaType
            | WebError::CrossSite
            | WebError::TooManyRequests
            | WebError::Api { .. }
            | WebError::DatabaseUnavailable(_)
            | WebError::Internal(_) => None,
        }
    }

    /// The error page of a variant that carries no locale, in `locale` (the request's), with
    /// the same status and headers; `None` for the others (already in their language).
    pub fn localize(&self, locale: Locale) -> Option<HttpResponse> {
        if self.own_locale().is_some() || matches!(self, WebError::Api { .. }) {
            return None;
        }
        Some(self.response_in(locale))
    }

    /// The error's code for logs and metrics: the intake codes of a refused SAML request
    /// (comma-separated, catalogue order), else a fixed word per variant. Never detail text.
    pub fn code(&self) -> String {
        match self {
            WebError::Rejected { errors, .. } => crate::idp::audit::codes(errors),
            WebError::NotFound | WebError::MetadataNotFound { .. } => "not_found".into(),
            WebError::InactiveSp { .. } => "inactive_service_provider".into(),
            WebError::Csrf { .. } => "csrf".into(),
            WebError::SessionExpired { .. } => "session_expired".into(),
            WebError::RateLimited { .. } => "rate_limited".into(),
            WebError::NoEmail { .. } => "no_email".into(),
            WebError::InvalidForm(_) => "invalid_form".into(),
            WebError::MethodNotAllowed(_) => "method_not_allowed".into(),
            WebError::UnsupportedMediaType => "unsupported_media_type".into(),
            WebError::CrossSite => "cross_site".into(),
            WebError::TooManyRequests => "too_many_requests".into(),
            WebError::Api { errors, .. } => errors
                .first()
                .map_or_else(|| "api".into(), |e| format!("api_{}", e.code)),
            WebError::DatabaseUnavailable(_) => "database_unavailable".into(),
            WebError::Internal(_) => "internal".into(),
        }
    }

    fn response_in(&self, locale: Locale) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.extensions_mut().insert(ErrorCode(self.code()));
        if let WebError::MethodNotAllowed(allow) = self {
            response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        if let WebError::DatabaseUnavailable(_) = self {
            // The database restarts in seconds (SPEC 13); clients may come back then.
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        if let WebError::TooManyRequests = self {
            // The buckets refill within the minute.
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("60")));
        }
        if let WebError::Api { status, errors } = self {
            if *status == StatusCode::UNAUTHORIZED {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"console\""),
                ));
            }
            let body = ApiErrors {
                errors: errors.clone(),
            };
            return response
                .insert_header((
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ))
                .body(serde_json::to_string(&body).unwrap_or_default());
        }
        let (content_type, body) = match self {
            WebError::Rejected {
                errors,
                locale,
                json: true,
                help_base,
                note,
            } => (
                "application/json",
                intake_errors::json(errors, *locale, help_base, note),
            ),
            WebError::Rejected {
                errors,
                locale,
                help_base,
                note,
                ..
            } => (
                "text/html; charset=utf-8",
                intake_errors::html(errors, *locale, help_base, note),
            ),
            _ => {
                let locale = self.own_locale().unwrap_or(locale);
                let (title, message) = self.public(locale);
                let links = match self {
                    WebError::MetadataNotFound { live } => live.as_slice(),
                    _ => &[],
                };
                (
                    "text/html; charset=utf-8",
                    pages::error_page_with_links(locale, title, message, links),
                )
            }
        };
        response
            .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
            .body(body)
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::NotFound | WebError::MetadataNotFound { .. } => StatusCode::NOT_FOUND,
            WebError::Rejected { .. } => StatusCode::BAD_REQUEST,
            WebError::InactiveSp { .. } => StatusCode::FORBIDDEN,
            WebError::Csrf { .. } => StatusCode::FORBIDDEN,
            WebError::SessionExpired { .. } => StatusCode::UNAUTHORIZED,
            WebError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::NoEmail { .. } => StatusCode::FORBIDDEN,
            WebError::InvalidForm(_) => StatusCode::BAD_REQUEST,
            WebError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            WebError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WebError::CrossSite => StatusCode::FORBIDDEN,
            WebError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            WebError::Api { status, .. } => *status,
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
            WebError::Rejected { errors, .. } => {
                let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
                tracing::info!(?codes, "SAML request refused");
            }
            WebError::Csrf { .. } => tracing::warn!("form refused: CSRF token missing or wrong"),
            WebError::RateLimited { .. } => tracing::warn!("rate limit reached"),
            WebError::CrossSite => tracing::info!("form refused: sent from another site"),
            WebError::TooManyRequests => tracing::info!("client over its request limit"),
            WebError::InvalidForm(detail) => tracing::info!(%detail, "invalid form"),
            WebError::NotFound
            | WebError::MetadataNotFound { .. }
            | WebError::Api { .. }
            | WebError::MethodNotAllowed(_)
            | WebError::UnsupportedMediaType
            | WebError::InactiveSp { .. }
            | WebError::NoEmail { .. }
            | WebError::SessionExpired { .. } => {}
        }
        self.response_in(Locale::En)
    }
}
