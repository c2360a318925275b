//! `/account/security-keys` (SPEC 17, 18): a signed-in user's WebAuthn keys — the list with
//! names and dates, adding one (options as JSON for the page's script, then the
//! authenticator's answer as a form field), removing one (never the last second factor).
//! Every page needs a full sign-in, and a password entered within 15 minutes; otherwise
//! the browser is sent to enter it again.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::extract::{ButtonForm, KeyRegistrationForm, Lang, RecentlySignedIn, SessionForm};
use super::i18n::Locale;
use super::render::{self, page_context};
use super::{AppState, WebError};
use crate::idp::security_key::{self, Begun, Finish, KeyHolder, Removal};
use crate::sessions::SessionRecord;

/// `/account/security-keys`'s query (the language is read by [`Lang`]).
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    done: Option<String>,
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
    show(&state, locale, &session, notice, None, 200).await
}

/// The page, with a notice or an error.
async fn show(
    state: &web::Data<AppState>,
    locale: Locale,
    session: &SessionRecord,
    notice: Option<&str>,
    error: Option<&str>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let stored = session.clone();
    let (_, keys) = state
        .run(locale, move |deps| {
            security_key::user_and_keys(deps, &stored)
        })
        .await?;
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
    if let Some(key) = notice {
        context.insert("notice", locale.t(key));
    }
    if let Some(key) = error {
        context.insert("error", locale.t(key));
    }
    render::page("security_keys.html", &context, Vec::new(), status)
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
    let begun = state
        .run(locale, move |deps| {
            let (user, keys) = security_key::user_and_keys(deps, &session)?;
            let Some(handle) = security_key::handle_of(&user) else {
                return Ok(Begun::Unavailable);
            };
            // The account's label in the authenticator: its sign-in email (else its public id).
            let label =
                security_key::sign_in_email(deps, &user)?.unwrap_or_else(|| user.public_id.clone());
            let holder = KeyHolder {
                handle,
                user_id: Some(user.id),
                name: &label,
                display_name: &label,
            };
            let exclude: Vec<String> = keys.into_iter().map(|k| k.credential_id).collect();
            security_key::begin_registration(deps, &holder, &exclude)
        })
        .await?;
    match begun {
        Begun::Ceremony(ceremony) => render::ceremony_json(&ceremony),
        Begun::RateLimited => Err(WebError::RateLimited { locale }),
        Begun::NoKeys | Begun::Unavailable => Err(WebError::NotFound),
    }
}

/// `POST /account/security-keys`: the authenticator's answer and the key's name.
pub async fn add(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    KeyForm { form, session, .. }: KeyForm<KeyRegistrationForm>,
) -> Result<HttpResponse, WebError> {
    let stored = session.clone();
    let finished = state
        .run(locale, move |deps| {
            let (user, _) = security_key::user_and_keys(deps, &stored)?;
            security_key::register_for_user(deps, &user, &form.name, &form.ceremony, &form.response)
        })
        .await?;
    match finished {
        Finish::Done(_) => Ok(render::redirect(&format!(
            "/account/security-keys?locale={}&done=added",
            locale.code()
        ))),
        Finish::Refused(why) => {
            let (key, status) = render::key_refusal(why);
            show(&state, locale, &session, None, Some(key), status).await
        }
    }
}

/// `POST /account/security-keys/{id}/remove`.
pub async fn remove(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    KeyId(key_id): KeyId,
    form: KeyForm<ButtonForm>,
) -> Result<HttpResponse, WebError> {
    let (session, stored) = (form.session.clone(), form.session);
    let removal = state
        .run(locale, move |deps| {
            let (user, _) = security_key::user_and_keys(deps, &stored)?;
            security_key::remove_for_user(deps, &user, key_id)
        })
        .await?;
    match removal {
        Removal::Removed => Ok(render::redirect(&format!(
            "/account/security-keys?locale={}&done=removed",
            locale.code()
        ))),
        Removal::NotFound => Err(WebError::NotFound),
        Removal::LastFactor => {
            show(
                &state,
                locale,
                &session,
                None,
                Some("keys.last_factor"),
                409,
            )
            .await
        }
    }
}
