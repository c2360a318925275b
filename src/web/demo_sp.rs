//! `/demo-sp/…` (SPEC 20): the demo service provider's pages, in development mode only
//! (404 otherwise). It keeps its own state in its own cookies, as a separate SP would: the ID
//! of the request it is waiting an answer for, and after a verified Response the NameID and
//! SessionIndex its logout names.

use std::sync::Arc;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde::Deserialize;
use tera::Context;

use super::extract::Lang;
use super::i18n::Locale;
use super::render::{self, page_context};
use super::{AppState, WebError};
use crate::demo_sp::check::{Outcome, Refusal};
use crate::demo_sp::messages::{DemoSession, Level, RequestOptions};
use crate::demo_sp::sp::{self as demo_sp, DemoSp};

/// The AuthnRequest or LogoutRequest ID this browser's last request carried.
const WAITING: &str = "demo_sp_waiting";
/// The demo SP's own session: the verified NameID and SessionIndex (base64url JSON).
const SESSION: &str = "demo_sp_session";

fn demo_handle(state: &AppState) -> Result<Arc<DemoSp>, WebError> {
    state.demo_sp.clone().ok_or(WebError::NotFound)
}

fn cookie(state: &AppState, name: &'static str, value: String, seconds: i64) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(demo_sp::PATH)
        .http_only(true)
        .secure(state.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(seconds))
        .finish()
}

fn session_of(req: &HttpRequest) -> Option<DemoSession> {
    let raw = req.cookie(SESSION)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(raw.value())
        .ok()?;
    serde_json::from_slice(&json).ok()
}

fn session_cookie(state: &AppState, session: &DemoSession) -> Result<Cookie<'static>, WebError> {
    let json = serde_json::to_vec(session).map_err(|e| WebError::Internal(e.to_string()))?;
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
    Ok(cookie(state, SESSION, value, 8 * 3600))
}

/// What the page shows besides its controls.
#[derive(Default)]
struct Shown<'a> {
    outcome: Option<&'a Outcome>,
    refusal: Option<&'a Refusal>,
    signed_out: Option<&'a str>,
}

fn page(
    state: &AppState,
    demo: &DemoSp,
    locale: Locale,
    session: Option<&DemoSession>,
    shown: &Shown<'_>,
) -> Result<Context, WebError> {
    let mut context = page_context(locale, "demo.title", None);
    if shown.refusal.is_some() {
        context.insert("title", locale.t("demo.refused"));
    }
    context.insert("issuer", &demo.issuer);
    context.insert("acs_url", &demo.acs_url);
    context.insert("idp_entity_id", &demo.idp.entity_id);
    context.insert(
        "idp_metadata",
        &state
            .live_years()
            .last()
            .map(|y| format!("{}/metadata{y}", state.entity_id)),
    );
    context.insert("refusal", &shown.refusal.map(ToString::to_string));
    context.insert("signed_out", &shown.signed_out);
    if let Some(outcome) = shown.outcome {
        insert_outcome(&mut context, outcome);
    }
    if let Some(session) = session {
        context.insert("name_id", &session.name_id);
        let year = state.live_years().last().copied();
        let endpoint = year
            .map(|y| format!("{}/remotelogout{y}", state.entity_id))
            .unwrap_or_default();
        let id = state.ids.new_id();
        let body = demo
            .remote_logout_body(session, &id, state.clock.now(), &endpoint)
            .map_err(|e| WebError::Internal(e.to_string()))?;
        context.insert(
            "curl",
            &format!("curl -X POST --data-urlencode 'SAMLRequest={body}' {endpoint}"),
        );
    }
    Ok(context)
}

fn insert_outcome(context: &mut Context, outcome: &Outcome) {
    context.insert("status", &outcome.status);
    context.insert("sub_status", &outcome.sub_status);
    context.insert("succeeded", &outcome.succeeded());
    context.insert("response_signed", &outcome.response_signed);
    context.insert("response_xml", &outcome.response_xml);
    context.insert("assertion_xml", &outcome.assertion_xml);
    if let Some(a) = &outcome.assertion {
        context.insert("result_name_id", &a.session.name_id);
        context.insert("name_id_format", &a.session.name_id_format);
        context.insert("session_index", &a.session.session_index);
        context.insert("assertion_signed", &a.assertion_signed);
        context.insert("encryption", &a.encryption);
        context.insert("authn_context", &a.authn_context);
        context.insert("authn_instant", &a.authn_instant);
        context.insert("not_on_or_after", &a.not_on_or_after);
        context.insert("attributes", &a.attributes);
    }
}

/// `GET /demo-sp/`: what the demo SP is, its buttons, and the session it holds.
pub async fn home(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
) -> Result<HttpResponse, WebError> {
    let demo = demo_handle(&state)?;
    let session = session_of(&req);
    let context = page(&state, &demo, locale, session.as_ref(), &Shown::default())?;
    render::page("demo_sp.html", &context, Vec::new(), 200)
}

/// `GET /demo-sp` → `/demo-sp/`.
pub async fn slash(state: web::Data<AppState>) -> Result<HttpResponse, WebError> {
    let demo = demo_handle(&state)?;
    Ok(render::redirect(&demo.home_url))
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    level: Option<String>,
    force_authn: Option<String>,
    is_passive: Option<String>,
}

/// `GET /demo-sp/login?level=…`: a signed AuthnRequest, the browser sent to the IdP with it.
pub async fn login(
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, WebError> {
    let demo = demo_handle(&state)?;
    let level = match query.level.as_deref() {
        None => Level::Default,
        Some(name) => Level::parse(name)
            .ok_or_else(|| WebError::InvalidForm(format!("unknown level {name:?}")))?,
    };
    let options = RequestOptions {
        level,
        force_authn: query.force_authn.is_some(),
        is_passive: query.is_passive.is_some(),
    };
    let id = state.ids.new_id();
    let url = demo
        .authn_request_url(options, &id, state.clock.now())
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let waiting = cookie(&state, WAITING, id, 15 * 60);
    render::with_cookies(render::redirect(&url), [waiting])
}

#[derive(Debug, Deserialize)]
pub struct PostedResponse {
    #[serde(rename = "SAMLResponse", default)]
    saml_response: String,
    #[serde(rename = "RelayState")]
    _relay_state: Option<String>,
}

/// A posted message checked by `check` off the async threads (libxml2 and libxmlsec1 work)
/// against the request ID this browser is waiting on; the cookie that forgets that ID.
async fn checked<T: Send + 'static>(
    state: &AppState,
    req: &HttpRequest,
    form: web::Form<PostedResponse>,
    check: impl FnOnce(&DemoSp, &str, Option<&str>) -> Result<T, Refusal> + Send + 'static,
) -> Result<(Arc<DemoSp>, Result<T, Refusal>, Cookie<'static>), WebError> {
    let demo = demo_handle(state)?;
    let expected = req.cookie(WAITING).map(|c| c.value().to_string());
    let posted = form.into_inner().saml_response;
    let checked = web::block({
        let demo = demo.clone();
        move || check(&demo, &posted, expected.as_deref())
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    Ok((demo, checked, cookie(state, WAITING, String::new(), 0)))
}

/// The page naming the check that failed (400); the demo SP's session is kept.
fn refused(
    state: &AppState,
    demo: &DemoSp,
    req: &HttpRequest,
    locale: Locale,
    refusal: &Refusal,
    done: Cookie<'static>,
) -> Result<HttpResponse, WebError> {
    // Its fixed name only: a refusal's text may quote the message (a URL, an ID).
    tracing::info!(check = refusal.code(), "the demo SP refused a message");
    let shown = Shown {
        refusal: Some(refusal),
        ..Shown::default()
    };
    let context = page(state, demo, locale, session_of(req).as_ref(), &shown)?;
    render::page("demo_sp.html", &context, vec![done], 400)
}

/// `POST /demo-sp/acs`: the Response, checked; the outcome or the check that failed (400).
pub async fn acs(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    form: web::Form<PostedResponse>,
) -> Result<HttpResponse, WebError> {
    let now = state.clock.now();
    let (demo, checked, done) = checked(&state, &req, form, move |demo, posted, expected| {
        demo.check_response(posted, expected, now)
    })
    .await?;
    let outcome = match checked {
        Ok(outcome) => outcome,
        Err(refusal) => return refused(&state, &demo, &req, locale, &refusal, done),
    };
    let session = outcome.assertion.as_ref().map(|a| a.session.clone());
    let mut cookies = vec![done];
    if let Some(session) = &session {
        cookies.push(session_cookie(&state, session)?);
    }
    let current = session.or_else(|| session_of(&req));
    let shown = Shown {
        outcome: Some(&outcome),
        ..Shown::default()
    };
    let context = page(&state, &demo, locale, current.as_ref(), &shown)?;
    render::page("demo_sp.html", &context, cookies, 200)
}

/// `POST /demo-sp/logout`: SP-initiated logout, a signed LogoutRequest over Redirect.
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, WebError> {
    let demo = demo_handle(&state)?;
    let Some(session) = session_of(&req) else {
        return Ok(render::redirect(&demo.home_url));
    };
    let id = state.ids.new_id();
    let url = demo
        .logout_request_url(&session, &id, state.clock.now())
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let waiting = cookie(&state, WAITING, id, 15 * 60);
    render::with_cookies(render::redirect(&url), [waiting])
}

/// `POST /demo-sp/slo`: the IdP's LogoutResponse; the demo SP's session ends when it is
/// verified.
pub async fn slo(
    state: web::Data<AppState>,
    req: HttpRequest,
    Lang(locale): Lang,
    form: web::Form<PostedResponse>,
) -> Result<HttpResponse, WebError> {
    let (demo, checked, done) = checked(&state, &req, form, |demo, posted, expected| {
        demo.check_logout_response(posted, expected)
    })
    .await?;
    let status = match checked {
        Ok(status) => status,
        Err(refusal) => return refused(&state, &demo, &req, locale, &refusal, done),
    };
    let gone = cookie(&state, SESSION, String::new(), 0);
    let shown = Shown {
        signed_out: Some(&status),
        ..Shown::default()
    };
    let context = page(&state, &demo, locale, None, &shown)?;
    render::page("demo_sp.html", &context, vec![done, gone], 200)
}

impl AppState {
    /// The state with the demo SP of this IdP: its key under the data directory, its view of
    /// the IdP from the newest live year's metadata, and its registration, made (or brought
    /// up to date, when `base_url` or its key changed) through the console's use case as the
    /// operator, so it is validated and audited like any SP.
    pub fn with_demo_sp(mut self) -> Result<AppState, String> {
        let year = self
            .live_years()
            .last()
            .copied()
            .ok_or("no live year to read the IdP metadata of")?;
        let metadata = self
            .metadata
            .get(year)
            .ok_or("no metadata for the newest live year")?;
        let (key, outcome) =
            demo_sp::ensure_key(&self.config.data_dir, year).map_err(|e| e.to_string())?;
        if let crate::crypto::dev_keys::DevKeyOutcome::Created(path) = outcome {
            tracing::warn!(certificate = %path.display(), "created the demo SP's development key");
        }
        let demo = DemoSp::new(&self.config.base_url, key, &metadata).map_err(|e| e.to_string())?;
        let record = demo.record();
        crate::idp::console::import_all(
            &self.console_ports(),
            &crate::idp::console::Actor::Operator,
            &[record],
        )
        .map_err(|e| format!("registering the demo SP: {e}"))?;
        self.sp_cache
            .refresh()
            .map_err(|e| format!("reloading the registry: {e}"))?;
        tracing::info!(url = %demo.home_url, "demo SP ready (development mode; demo_sp = false turns it off)");
        self.demo_sp = Some(Arc::new(demo));
        Ok(self)
    }
}
