//! `/tools/saml-request` (SPEC 12): paste a `SAMLRequest` value, a whole URL or a POST body
//! and read what `idp::decode` reports: the XML, the SP, the signature verdict and every
//! error the SAML endpoints would answer with. No session, nothing stored; the form's CSRF
//! token is the double-submit cookie.

use actix_web::{web, HttpRequest, HttpResponse};

use super::extract::{self, LocaleQuery};
use super::i18n::Locale;
use super::render::{self, page_context};
use super::{blocking, decode_view, session, AppState, WebError};
use crate::idp::decode;

/// The empty form.
pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    page(&state, &req, locale, "", None, None)
}

/// The report of the pasted input, under the form holding it.
pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    body: web::Payload,
) -> Result<HttpResponse, WebError> {
    let locale = extract::locale(&req, q.locale.as_deref());
    let Ok(bytes) = extract::read_body(body, state.config.limits.body).await else {
        return page(&state, &req, locale, "", Some("decode.too_large"), None);
    };
    let (mut csrf, mut input) = (String::new(), String::new());
    for (name, value) in url::form_urlencoded::parse(&bytes) {
        match name.as_ref() {
            "csrf" => csrf = value.into_owned(),
            "input" => input = value.into_owned(),
            _ => {}
        }
    }
    if !session::anonymous_csrf_ok(&state, &req, &csrf) {
        return Err(WebError::Csrf { locale });
    }
    if input.trim().is_empty() {
        return page(&state, &req, locale, "", Some("decode.empty"), None);
    }
    let worker = state.clone();
    let pasted = input.clone();
    let report = blocking::run(locale, move || {
        let years = worker.live_years();
        let ctx = decode::Context {
            config: &worker.config,
            entity_id: &worker.entity_id,
            live_years: &years,
            now: worker.clock.now(),
        };
        Ok(decode::report(&pasted, &ctx, &worker.sp_cache))
    })
    .await?;
    let view = decode_view::view(&report, locale);
    page(&state, &req, locale, &input, None, Some(&view))
}

fn page(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    input: &str,
    notice: Option<&str>,
    report: Option<&decode_view::View>,
) -> Result<HttpResponse, WebError> {
    let (csrf, cookie) = session::anonymous_csrf(state, req)?;
    let mut context = page_context(locale, "decode.title", None);
    context.insert("csrf", &csrf);
    context.insert("input", input);
    for key in decode_view::PAGE_LABELS {
        context.insert(key.replace('.', "_"), locale.t(key));
    }
    if let Some(key) = notice {
        context.insert("notice", locale.t(key));
    }
    if let Some(report) = report {
        context.insert("report", report);
    }
    let status = if notice == Some("decode.too_large") {
        413
    } else {
        200
    };
    render::page(
        "tools_saml_request.html",
        &context,
        cookie.into_iter().collect(),
        status,
    )
}
