//! `/account/security-keys` (SPEC 17, 18): a signed-in user's WebAuthn keys — the list with
//! names and dates, adding one (options as JSON for the page's script, then the
//! authenticator's answer as a form field), removing one (never the last second factor).
//! Every page needs a full sign-in, and a password entered within 15 minutes; otherwise
//! the browser is sent to enter it again. The rules (suspension, the email, the other
//! sessions ended) live in `idp::account::security_keys`.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::extract::{ButtonForm, KeyRegistrationForm, Lang, RecentlySignedIn, SessionForm};
use super::i18n::Locale;
use super::render::{self, page_context};
use super::{session, AppState, WebError};
use crate::idp::account::security_keys::{self as keys, NewKey};
use crate::idp::account::{Outcome, Problem};
use crate::idp::security_key::Begun;
use crate::sessions::SessionRecord;

/// `/account/security-keys`'s query (the language is read by [`Lang`]).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
    /// Set when the email announcing the change could not be sent.
    unmailed: Option<String>,
}

/// A key as the page lists it.
#[derive(Serialize)]
pub(crate) struct KeyRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) added: String,
    pub(crate) used: String,
}

/// The `{id}` of a key's route: anything but a number is 404, before the session is asked.
pub struct KeyId(i64);

impl FromRequest for KeyId {
    type Error = WebError;
    type Future = std::future::Ready<Result<Self, WebError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req.match_info().get("id").and_then(|id| id.parse().ok());
        std::future::ready(id.map(KeyId).ok_or(WebError::NotFound))
    }
}

/// A form of this page: a full sign-in with a recent password, and the session's token.
type KeyForm<T> = SessionForm<T, RecentlySignedIn>;

pub async fn page(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    q: web::Query<PageQuery>,
    RecentlySignedIn(session): RecentlySignedIn,
) -> Result<HttpResponse, WebError> {
    let notice = match q.done.as_deref() {
        Some("added") => Some("keys.added"),
        Some("removed") => Some("keys.removed"),
        _ => None,
    };
    let unmailed = notice.is_some() && q.unmailed.is_some();
    let shown = Shown {
        notice,
        unmailed,
        error: None,
    };
    show(&state, locale, &session, shown, 200).await
}

/// What the page says above the list: a change made (and whether its email went), or why
/// one was refused (a catalogue key).
#[derive(Default)]
struct Shown {
    notice: Option<&'static str>,
    unmailed: bool,
    error: Option<&'static str>,
}

/// The page, with a notice or an error (or the browser is sent where it must go first).
async fn show(
    state: &web::Data<AppState>,
    locale: Locale,
    session: &SessionRecord,
    shown: Shown,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let stored = session.clone();
    let keys = match state
        .run(locale, move |deps| keys::list(deps, &stored))
        .await?
    {
        Outcome::Done { value, .. } => value,
        other => return Ok(elsewhere(locale, &other)),
    };
    let rows: Vec<KeyRow> = keys
        .iter()
        .map(|k| KeyRow {
            id: k.id,
            name: k.name.clone(),
            added: when(k.created_at),
            used: k
                .last_used_at
                .map_or_else(|| locale.t("keys.never_used").to_string(), when),
        })
        .collect();
    let mut context = page_context(locale, "keys.title", None);
    context.insert("csrf", &session.csrf_token);
    context.insert("keys", &rows);
    context.insert("available", &state.relying_party.is_available());
    for (name, key) in TEXTS {
        context.insert(*name, locale.t(key));
    }
    if let Some(key) = shown.notice {
        context.insert("notice", locale.t(key));
    }
    if shown.unmailed {
        context.insert("unmailed", locale.t("account.unmailed"));
    }
    if let Some(key) = shown.error {
        context.insert("error", locale.t(key));
    }
    render::page("security_keys.html", &context, Vec::new(), status)
}

/// Where a browser goes when the account's gate stops it: to sign in (no full sign-in, or
/// the user is suspended or gone), or to type the password again.
fn elsewhere<T>(locale: Locale, outcome: &Outcome<T>) -> HttpResponse {
    match outcome {
        Outcome::ReauthenticationNeeded => render::redirect(&session::reauthenticate_url(locale)),
        _ => render::redirect(&format!("/sign-in?locale={}", locale.code())),
    }
}

/// After a change: the page with its notice, or with why it was refused.
async fn changed<T>(
    state: &web::Data<AppState>,
    locale: Locale,
    session: &SessionRecord,
    outcome: Outcome<T>,
    done: &str,
) -> Result<HttpResponse, WebError> {
    match outcome {
        Outcome::Done { notified, .. } => {
            let unmailed = if notified { "" } else { "&unmailed=1" };
            Ok(render::redirect(&format!(
                "/account/security-keys?locale={}&done={done}{unmailed}",
                locale.code()
            )))
        }
        Outcome::Refused(Problem::NoSuchKey) => Err(WebError::NotFound),
        Outcome::Refused(problem) => {
            let (key, status) = match problem {
                Problem::KeyRefused(why) => render::key_refusal(why),
                _ => ("keys.last_factor", 409),
            };
            let shown = Shown {
                error: Some(key),
                ..Shown::default()
            };
            show(state, locale, session, shown, status).await
        }
        other => Ok(elsewhere(locale, &other)),
    }
}

/// Dates on the page: UTC, to the minute.
fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// (context name, catalogue key) of the page's texts.
pub(crate) const TEXTS: &[(&str, &str)] = &[
    ("intro", "keys.intro"),
    ("list_caption", "keys.list_caption"),
    ("col_name", "keys.col_name"),
    ("col_added", "keys.col_added"),
    ("col_used", "keys.col_used"),
    ("col_actions", "keys.col_actions"),
    ("remove", "keys.remove"),
    ("none", "keys.none"),
    ("add_heading", "keys.add_heading"),
    ("name_label", "keys.name_label"),
    ("name_hint", "keys.name_hint"),
    ("needs_js", "securitykey.needs_js"),
    ("failed_js", "securitykey.browser_failed"),
    ("add_button", "keys.add_button"),
    ("unavailable", "keys.unavailable"),
    ("home", "keys.home"),
];

/// `POST /account/security-keys/options`: the options for `navigator.credentials.create`
/// (the user's keys excluded) and the ceremony token, as JSON.
pub async fn options(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    form: KeyForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let session = form.session;
    let outcome = state
        .run(locale, move |deps| keys::begin_adding(deps, &session))
        .await?;
    match outcome {
        Outcome::Done {
            value: Begun::Ceremony(ceremony),
            ..
        } => render::ceremony_json(&ceremony),
        Outcome::Done {
            value: Begun::RateLimited,
            ..
        } => Err(WebError::RateLimited { locale }),
        Outcome::Done { .. } | Outcome::Refused(_) => Err(WebError::NotFound),
        other => Ok(elsewhere(locale, &other)),
    }
}

/// `POST /account/security-keys`: the authenticator's answer and the key's name.
pub async fn add(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    KeyForm { form, session, .. }: KeyForm<KeyRegistrationForm>,
) -> Result<HttpResponse, WebError> {
    let stored = session.clone();
    let outcome = state
        .run(locale, move |deps| {
            let key = NewKey {
                name: &form.name,
                ceremony: &form.ceremony,
                response: &form.response,
            };
            keys::add(deps, &stored, &key)
        })
        .await?;
    changed(&state, locale, &session, outcome, "added").await
}

/// `POST /account/security-keys/{id}/remove`.
pub async fn remove(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    KeyId(key_id): KeyId,
    form: KeyForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let (session, stored) = (form.session.clone(), form.session);
    let outcome = state
        .run(locale, move |deps| keys::remove(deps, &stored, key_id))
        .await?;
    changed(&state, locale, &session, outcome, "removed").await
}
