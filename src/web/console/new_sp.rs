//! Adding a service provider from the console (SPEC 19): an empty form, or one filled from
//! the SP's pasted metadata and shown for review (nothing saved), then saved through the
//! same use case as the API and the CLI.

use actix_web::{web, HttpResponse};

use super::gate::{admit, admit_change, context, failed, page, sp_url};
use super::{reload, run};
use crate::idp::console::{self, Actor, ConsoleError};
use crate::registry::SpRecord;
use crate::saml::sp_metadata::parse_sp_metadata;
use crate::sessions::SessionRecord;
use crate::web::console_view::{self as view, Posted};
use crate::web::extract::{FullySignedIn, Lang, SessionForm};
use crate::web::i18n::Locale;
use crate::web::render;
use crate::web::{AppState, WebError};

/// The new-SP page: the form (prefilled from metadata, or empty), the metadata box.
fn new_page(
    locale: Locale,
    session: &SessionRecord,
    record: &SpRecord,
    notice: Option<&str>,
    error: Option<(&str, String)>,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = context(locale, "console.new_title", session);
    view::insert_form(&mut context, locale, record, true);
    if let Some(key) = notice {
        context.insert("notice", locale.t(key));
    }
    if let Some((field, message)) = error {
        context.insert("error_field", field);
        context.insert("error", &message);
    }
    page("console_new.html", &context, status)
}

fn blank(actor: &Actor) -> SpRecord {
    let agency = match actor {
        Actor::User { roles, .. } if roles.len() == 1 => roles[0].agency().map(str::to_string),
        _ => None,
    };
    SpRecord {
        active: true,
        agency,
        ..SpRecord::default()
    }
}

/// `GET /console/new`.
pub async fn new_form(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    FullySignedIn(session): FullySignedIn,
) -> Result<HttpResponse, WebError> {
    let actor = match admit(&state, locale, &session).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    new_page(locale, &session, &blank(&actor), None, None, 200)
}

/// `POST /console/new/metadata`: the SP's metadata read into the form, shown for review
/// (nothing is saved).
pub async fn from_metadata(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<Posted>,
) -> Result<HttpResponse, WebError> {
    let actor = match admit(&state, locale, &session).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let mut record = blank(&actor);
    let xml = form.get("metadata").unwrap_or_default().trim().to_string();
    match parse_sp_metadata(xml.as_bytes()) {
        Ok(metadata) => {
            record.issuer.clone_from(&metadata.entity_id);
            record.apply_metadata(&metadata);
            let review = Some("console.review");
            new_page(locale, &session, &record, review, None, 200)
        }
        Err(e) => {
            let error = Some(("metadata", e.to_string()));
            new_page(locale, &session, &record, None, error, 422)
        }
    }
}

/// `POST /console/new`: the new SP saved.
pub async fn create(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    SessionForm { form, session, .. }: SessionForm<Posted>,
) -> Result<HttpResponse, WebError> {
    let actor = match admit_change(&state, locale, &session, "/console/new").await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let mut record = blank(&actor);
    form.apply(&mut record, true, true);
    let attempted = record.clone();
    match run(&state, move |p| console::create(p, &actor, record)).await {
        Ok((sp, _)) => {
            reload(&state).await;
            Ok(render::redirect(&sp_url(
                locale,
                &sp.public_id(),
                "created",
            )))
        }
        Err(ConsoleError::Invalid(v) | ConsoleError::Forbidden(v)) => {
            let error = Some((v.field, v.message));
            new_page(locale, &session, &attempted, None, error, 422)
        }
        Err(e) => failed(locale, e),
    }
}
