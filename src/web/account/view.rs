//! The account page's content: the overview turned into what the template shows (localised
//! attribute names, times in UTC), the notice of the change just made, and each problem's
//! message and status.

use crate::sessions::AuditKind;
use actix_web::http::header;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::idp::account::overview::Overview;
use crate::idp::account::Problem;
use crate::web::i18n::Locale;
use crate::web::render::{self, page_context};
use crate::web::WebError;

/// The changes the page may announce after a redirect (`?done=`); each has the message
/// `account.done.{word}`.
pub const DONE: &[&str] = &[
    "password_changed",
    "email_add_requested",
    "email_added",
    "email_removed",
    "email_for_sp_changed",
    "totp_added",
    "totp_removed",
    "backup_codes_regenerated",
    "consent_revoked",
];

/// The localised name of an event of the user's own list (one without a translation is
/// shown by its stored name).
fn event_name(locale: Locale, event: AuditKind) -> String {
    let key = match event {
        AuditKind::SignInSuccess => "account.event.sign_in_success",
        AuditKind::SignInFailure => "account.event.sign_in_failure",
        AuditKind::Account => "account.event.account",
        other => return other.as_str().to_string(),
    };
    locale.t(key).to_string()
}

/// An event's detail in words (`account.detail.{code}`); a code without a translation (a
/// newer node's) is shown as stored.
fn detail_words(locale: Locale, code: &str) -> String {
    let key = format!("account.detail.{code}");
    match locale.t(&key) {
        words if words == key => code.to_string(),
        words => words.to_string(),
    }
}

/// What the page says above everything else.
pub enum Notice {
    None,
    /// A change was made (a word of [`DONE`]); `unmailed` when its email could not be sent.
    Done {
        word: &'static str,
        unmailed: bool,
    },
    /// A refused change: the catalogue key of its message, and the field it is about (the
    /// page shows it there, marks the field invalid and moves the focus to it).
    Problem(&'static str, Option<&'static str>),
}

impl Notice {
    /// The notice named by the page's query; an unknown word shows nothing.
    pub fn from_query(done: Option<&str>, unmailed: bool) -> Notice {
        match done.and_then(|d| DONE.iter().copied().find(|w| *w == d)) {
            Some(word) => Notice::Done { word, unmailed },
            None => Notice::None,
        }
    }
}

/// The field of the account page's form a refused change is about: `action` is the change
/// (its `done` word), the problem says which of its fields.
pub fn failed_field(action: &str, problem: &Problem) -> Option<&'static str> {
    match (action, problem) {
        ("password_changed", Problem::WrongPassword) => Some("current-password"),
        ("password_changed", Problem::NewPassword(_)) => Some("new-password"),
        ("email_add_requested", Problem::InvalidEmail | Problem::TooManyEmails) => {
            Some("new-email")
        }
        ("account_deleted", Problem::WrongPassword) => Some("delete-password"),
        ("account_deleted", Problem::WrongCode) => Some("delete-code"),
        _ => None,
    }
}

/// The message key and HTTP status of a refused change.
pub fn problem(problem: Problem) -> (&'static str, u16) {
    match problem {
        Problem::WrongPassword => ("account.problem.wrong_password", 401),
        Problem::WrongCode => ("mfa.failed", 401),
        Problem::Locked => ("signin.locked", 403),
        Problem::RateLimited => ("ratelimit.body", 429),
        Problem::NewPassword(p) => (p.message_key(), 400),
        Problem::InvalidEmail => ("signup.invalid_email", 400),
        Problem::TooManyEmails => ("account.problem.too_many_emails", 400),
        Problem::UnknownEmail => ("account.problem.unknown_email", 404),
        Problem::LastEmail => ("account.problem.last_email", 409),
        Problem::LastFactor => ("account.problem.last_factor", 409),
        Problem::TotpAlreadySet => ("account.problem.totp_already_set", 409),
        Problem::NoTotp => ("account.problem.no_totp", 409),
        Problem::SetupExpired => ("account.problem.setup_expired", 410),
        Problem::LinkDead => ("account.problem.link_dead", 410),
        Problem::NotConnected => ("account.problem.not_connected", 404),
        Problem::KeyRefused(why) => render::key_refusal(why),
        Problem::NoSuchKey => ("errors.not_found.body", 404),
    }
}

/// `2026-03-15 12:00 UTC`
pub fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[derive(Serialize)]
struct ConnectedView {
    issuer: String,
    name: String,
    attributes: Vec<&'static str>,
    consented_at: String,
    last_signed_in: Option<String>,
}

#[derive(Serialize)]
struct EventView {
    at: String,
    event: String,
    detail: String,
    sp: Option<String>,
    success: bool,
}

#[derive(Serialize)]
struct EmailView<'a> {
    id: i64,
    address: &'a str,
    for_sps: bool,
}

/// The account page (never cached: it shows the account's addresses).
pub fn page(
    locale: Locale,
    csrf: &str,
    overview: &Overview,
    notice: Notice,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, "account.title", None);
    context.insert("csrf", csrf);
    match notice {
        Notice::None => {}
        Notice::Done { word, unmailed } => {
            context.insert("notice", locale.t(&format!("account.done.{word}")));
            if unmailed {
                context.insert("unmailed", locale.t("account.unmailed"));
            }
        }
        Notice::Problem(key, field) => {
            context.insert("error", locale.t(key));
            if let Some(field) = field {
                context.insert("error_field", field);
            }
        }
    }
    let emails: Vec<EmailView<'_>> = overview
        .emails
        .iter()
        .map(|e| EmailView {
            id: e.id,
            address: &e.address,
            for_sps: e.for_sps,
        })
        .collect();
    context.insert("emails", &emails);
    context.insert("totp", &overview.totp);
    context.insert("totp_removable", &overview.totp_removable);
    context.insert("backup_codes_left", &overview.backup_codes_left);
    context.insert("connected", &connected(locale, overview));
    context.insert("events", &events(locale, overview));
    let mut response = render::page("account.html", &context, Vec::new(), status)?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// Each connected SP, with the attributes it received by their localised names.
fn connected(locale: Locale, overview: &Overview) -> Vec<ConnectedView> {
    overview
        .connected
        .iter()
        .map(|c| ConnectedView {
            issuer: c.issuer.clone(),
            name: c.name.clone(),
            attributes: c
                .attributes
                .iter()
                .map(|a| locale.t(&format!("attr.{a}")))
                .filter(|label| !label.is_empty())
                .collect(),
            consented_at: time(c.consented_at),
            last_signed_in: c.last_signed_in.map(time),
        })
        .collect()
}

fn events(locale: Locale, overview: &Overview) -> Vec<EventView> {
    overview
        .events
        .iter()
        .map(|e| EventView {
            at: time(e.at),
            event: event_name(locale, e.event),
            detail: e
                .detail
                .as_deref()
                .map(|d| detail_words(locale, d))
                .unwrap_or_default(),
            sp: e.sp.clone(),
            success: e.success,
        })
        .collect()
}
