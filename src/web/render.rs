//! Rendering the flow's pages: the common page context (language, title, the SP being
//! signed in to and its Cancel link, SPEC 15), message pages, redirects, and the page that
//! posts a SAML message to an SP (HTTP-POST binding).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use actix_web::cookie::Cookie;
use actix_web::http::header::HeaderValue;
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use tera::Context;

use super::i18n::Locale;
pub use super::pages::layout_context;
use super::{pages, post_page, WebError};
use crate::registry::ServiceProvider;

/// Title and language, and when the page belongs to a sign-in for an SP, its friendly name
/// and the Cancel link.
pub fn page_context(locale: Locale, title_key: &str, sp: Option<&ServiceProvider>) -> Context {
    let mut context = layout_context(locale);
    context.insert("title", locale.t(title_key));
    if let Some(sp) = sp {
        context.insert("sp_name", &sp.friendly_name);
        context.insert("cancel_url", &format!("/cancel?locale={}", locale.code()));
    }
    context
}

pub fn page(
    template: &str,
    context: &Context,
    cookies: Vec<Cookie<'static>>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let html = pages::render(template, context)?;
    let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    for c in cookies {
        response.cookie(c);
    }
    Ok(response.content_type("text/html; charset=utf-8").body(html))
}

/// A page with a title, a paragraph and maybe a link: `{prefix}.title`, `{prefix}.body`.
pub fn message(
    locale: Locale,
    prefix: &str,
    sp: Option<&ServiceProvider>,
    link: Option<(&str, &str)>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, &format!("{prefix}.title"), sp);
    context.insert("body", locale.t(&format!("{prefix}.body")));
    if let Some((url, key)) = link {
        context.insert("link_url", url);
        context.insert("link_text", locale.t(key));
    }
    page("message.html", &context, Vec::new(), status)
}

/// A "check your email" page (`{prefix}.title`, `{prefix}.body`). In development mode with
/// the outbox mailer, it also says where the message went: nobody receives email there
/// (SPEC 20).
pub fn mail_sent(
    state: &super::AppState,
    locale: Locale,
    prefix: &str,
    sp: Option<&ServiceProvider>,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, &format!("{prefix}.title"), sp);
    context.insert("body", locale.t(&format!("{prefix}.body")));
    let development = state.config.mode == crate::config::Mode::Development;
    if development && state.config.mailer == crate::mail::MailerSetting::Outbox {
        let outbox = state.config.data_dir.join("outbox");
        let shown = std::fs::canonicalize(&outbox).unwrap_or(outbox);
        context.insert("note", locale.t("mail.outbox_note"));
        context.insert("note_path", &shown.display().to_string());
    }
    page("message.html", &context, Vec::new(), 200)
}

/// A ceremony for the page's script: `{"ceremony": token, "options": {"publicKey": …}}`.
pub fn ceremony_json(
    ceremony: &crate::idp::security_key::Ceremony,
) -> Result<HttpResponse, WebError> {
    let options: serde_json::Value = serde_json::from_str(&ceremony.options)
        .map_err(|e| WebError::Internal(format!("ceremony options: {e}")))?;
    let body = serde_json::json!({ "ceremony": ceremony.token, "options": options });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-store"))
        .body(body.to_string()))
}

/// Why a key could not be registered, as the page says it: (catalogue key, status).
pub fn key_refusal(why: crate::idp::security_key::Refusal) -> (&'static str, u16) {
    use crate::idp::security_key::Refusal;
    match why {
        Refusal::BadName => ("keys.bad_name", 400),
        Refusal::AlreadyRegistered => ("keys.already_registered", 409),
        Refusal::Expired => ("keys.expired", 400),
        Refusal::Unavailable => ("keys.unavailable", 404),
        Refusal::WrongUser | Refusal::Malformed | Refusal::Invalid => ("keys.refused", 400),
    }
}

/// `response` with `cookies` added (new values, or removals from `cookies::removal`).
pub fn with_cookies(
    mut response: HttpResponse,
    cookies: impl IntoIterator<Item = Cookie<'static>>,
) -> Result<HttpResponse, WebError> {
    for cookie in cookies {
        response
            .add_cookie(&cookie)
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    Ok(response)
}

pub fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// A SAML message on its way to an SP endpoint.
pub struct Outgoing<'a> {
    /// `{prefix}.title` and `{prefix}.body` are the page's texts.
    pub prefix: &'static str,
    pub action: &'a str,
    pub xml: &'a [u8],
    pub relay_state: Option<&'a str>,
}

/// The page that posts a SAML message to an SP endpoint (HTTP-POST binding, SAML bindings
/// §3.5): one form, `SAMLResponse` base64 without line breaks, `RelayState` only if one was
/// sent and verbatim, auto-submitted by a same-origin script with a button for the rest;
/// the CSP allows posting to that one origin.
pub fn post_message(
    locale: Locale,
    sp: Option<&ServiceProvider>,
    out: &Outgoing<'_>,
) -> Result<HttpResponse, WebError> {
    let encoded = crate::saml::codec::encode_post(out.xml);
    let html = post_page::page(
        locale,
        out.prefix,
        &post_page::PostValues {
            action: out.action,
            encoded: &encoded,
            relay_state: out.relay_state,
            sp_name: sp.map(|sp| sp.friendly_name.as_str()),
        },
    )?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", post_csp(out.action)))
        .body(html))
}

/// The auto-post page's Content-Security-Policy: the form may post to the page's own origin
/// and to the destination's. A node posts to the few ACS and logout URLs its SPs registered,
/// over and over, so each destination's header is built once (parsing the URL was about 1 %
/// of a signed-in Response, issue 23); the cache starts over past [`CSP_CACHE_ENTRIES`].
fn post_csp(action: &str) -> HeaderValue {
    static BUILT: LazyLock<Mutex<HashMap<String, HeaderValue>>> = LazyLock::new(Default::default);
    if let Some(csp) = BUILT
        .lock()
        .ok()
        .and_then(|built| built.get(action).cloned())
    {
        return csp;
    }
    let origin = url::Url::parse(action)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; form-action 'self' {origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    // An origin's ASCII serialisation holds no byte a header value refuses; were it ever to,
    // the page may post nowhere but its own origin.
    let csp = HeaderValue::from_str(&csp).unwrap_or(HeaderValue::from_static(
        "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    if let Ok(mut built) = BUILT.lock() {
        if built.len() >= CSP_CACHE_ENTRIES {
            built.clear();
        }
        built.insert(action.to_string(), csp.clone());
    }
    csp
}

const CSP_CACHE_ENTRIES: usize = 1024;
