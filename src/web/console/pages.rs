//! The console's SP pages (SPEC 19), for a browser signed in with a second factor whose
//! account holds a console role: the SP list, one SP (every field, its certificates) and
//! certificate removal (confirmed). Every change is a form with the session's CSRF token,
//! made through the same use cases as the API and the CLI; one older than the
//! re-authentication window asks for the password first.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::gate::{admit, admit_change, context, failed, page, sp_url};
use super::{reload, run};
use crate::idp::console::{self, ConsoleError};
use crate::registry::{ServiceProvider, SpRecord};
use crate::sessions::SessionRecord;
use crate::web::console_view::{self as view, Posted};
use crate::web::extract::{FullySignedIn, Lang, SessionForm};
use crate::web::i18n::Locale;
use crate::web::render::{self, page_context};
use crate::web::{AppState, WebError};

/// What a page's query may carry: the change just made.
#[derive(Debug, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The changes a page announces after its redirect (anything else is ignored).
const DONE: &[&str] = &["saved", "created", "certs_added", "cert_removed"];

/// `GET /console`: the SPs the account administers.
pub async fn list(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    FullySignedIn(session): FullySignedIn,
) -> Result<HttpResponse, WebError> {
    let actor = match admit(&state, locale, &session).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let (sps, now) = match run(&state, move |p| console::list(p, &actor)).await {
        Ok(found) => found,
        Err(e) => return failed(locale, e),
    };
    let rows: Vec<view::SpRow> = sps.iter().map(|sp| view::row(sp, now)).collect();
    let mut context = context(locale, "console.title", &session);
    context.insert("sps", &rows);
    page("console_list.html", &context, 200)
}

/// The SP page: its settings form (`record`, which may hold what was just posted), its
/// certificates, a notice or an error.
struct SpPage<'a> {
    sp: &'a ServiceProvider,
    record: &'a SpRecord,
    notice: Option<&'a str>,
    error: Option<(&'a str, String)>,
    status: u16,
}

fn sp_page(
    locale: Locale,
    session: &SessionRecord,
    now: chrono::DateTime<chrono::Utc>,
    shown: SpPage<'_>,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(locale, "console.sp_title", None);
    context.insert("title", &shown.sp.friendly_name);
    context.insert("csrf", &session.csrf_token);
    context.insert("id", &shown.sp.public_id());
    context.insert("version", &shown.sp.version);
    view::insert_form(&mut context, locale, shown.record, false);
    context.insert("certificates", &view::certificates(shown.sp, now));
    if let Some(key) = shown.notice {
        context.insert("notice", locale.t(key));
    }
    if let Some((field, message)) = shown.error {
        // Certificates are added with their own box on this page.
        let field = if field == "certs" { "pem" } else { field };
        context.insert("error_field", field);
        context.insert("error", &message);
    }
    page("console_sp.html", &context, shown.status)
}

/// `GET /console/sps/{id}`.
pub async fn show(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    FullySignedIn(session): FullySignedIn,
    id: web::Path<String>,
    q: web::Query<DoneQuery>,
) -> Result<HttpResponse, WebError> {
    let actor = match admit(&state, locale, &session).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let id = id.into_inner();
    let (sp, now) = match run(&state, move |p| console::get(p, &actor, &id)).await {
        Ok(found) => found,
        Err(e) => return failed(locale, e),
    };
    let notice = q
        .done
        .as_deref()
        .and_then(|d| DONE.iter().find(|k| **k == d))
        .map(|d| format!("console.done_{d}"));
    let record = SpRecord::from(&sp);
    let shown = SpPage {
        sp: &sp,
        record: &record,
        notice: notice.as_deref(),
        error: None,
        status: 200,
    };
    sp_page(locale, &session, now, shown)
}

/// A change to one SP from its page: made, or the page again with the refusal.
async fn change_sp(
    state: web::Data<AppState>,
    locale: Locale,
    session: SessionRecord,
    id: String,
    done: &'static str,
    posted: Posted,
    edit: impl FnOnce(&Posted, &mut SpRecord) + Send + 'static,
) -> Result<HttpResponse, WebError> {
    let back = format!("/console/sps/{id}");
    let actor = match admit_change(&state, locale, &session, &back).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let version = posted.version().unwrap_or(-1);
    let (who, target) = (actor.clone(), id.clone());
    let changed = run(&state, move |p| {
        let mut attempted = None;
        let result = console::update(p, &who, &target, Some(version), |record| {
            edit(&posted, record);
            attempted = Some(record.clone());
            Ok(())
        });
        Ok((result, attempted))
    })
    .await;
    let ((result, attempted), now) = match changed {
        Ok(found) => found,
        Err(e) => return failed(locale, e),
    };
    match result {
        Ok(sp) => {
            reload(&state).await;
            Ok(render::redirect(&sp_url(locale, &sp.public_id(), done)))
        }
        Err(ConsoleError::Stale) => {
            let (sp, _) = match run(&state, move |p| console::get(p, &actor, &id)).await {
                Ok(found) => found,
                Err(e) => return failed(locale, e),
            };
            let record = SpRecord::from(&sp);
            let shown = SpPage {
                sp: &sp,
                record: &record,
                notice: None,
                error: Some(("", locale.t("console.stale").to_string())),
                status: 409,
            };
            sp_page(locale, &session, now, shown)
        }
        Err(ConsoleError::Invalid(v) | ConsoleError::Forbidden(v)) => {
            let (sp, _) = match run(&state, move |p| console::get(p, &actor, &id)).await {
                Ok(found) => found,
                Err(e) => return failed(locale, e),
            };
            let record = attempted.unwrap_or_else(|| SpRecord::from(&sp));
            let shown = SpPage {
                sp: &sp,
                record: &record,
                notice: None,
                error: Some((v.field, v.message)),
                status: 422,
            };
            sp_page(locale, &session, now, shown)
        }
        Err(e) => failed(locale, e),
    }
}

/// `POST /console/sps/{id}`: the settings form.
pub async fn save(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    id: web::Path<String>,
    SessionForm { form, session, .. }: SessionForm<Posted>,
) -> Result<HttpResponse, WebError> {
    change_sp(
        state,
        locale,
        session,
        id.into_inner(),
        "saved",
        form,
        |posted, record| {
            posted.apply(record, false, false);
        },
    )
    .await
}

/// `POST /console/sps/{id}/certificates`: one or more PEM certificates pasted at once.
pub async fn add_certificates(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    id: web::Path<String>,
    SessionForm { form, session, .. }: SessionForm<Posted>,
) -> Result<HttpResponse, WebError> {
    change_sp(
        state,
        locale,
        session,
        id.into_inner(),
        "certs_added",
        form,
        |posted, record| {
            record
                .certs
                .extend(view::pem_blocks(posted.get("pem").unwrap_or_default()));
        },
    )
    .await
}

/// `GET /console/sps/{id}/certificates/{sha256}/remove`: what would be removed, and a
/// button to confirm.
pub async fn confirm_removal(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    FullySignedIn(session): FullySignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let actor = match admit(&state, locale, &session).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let (id, sha256) = path.into_inner();
    let target = id.clone();
    let (sp, now) = match run(&state, move |p| console::get(p, &actor, &target)).await {
        Ok(found) => found,
        Err(e) => return failed(locale, e),
    };
    let Some(cert) = view::certificates(&sp, now)
        .into_iter()
        .find(|c| c.sha256 == sha256.to_ascii_lowercase())
    else {
        return failed(locale, ConsoleError::NoSuchCertificate);
    };
    let mut context = context(locale, "console.remove_title", &session);
    context.insert("id", &id);
    context.insert("version", &sp.version);
    context.insert("sp_name", &sp.friendly_name);
    context.insert("cert", &cert);
    context.insert("last", &(sp.certs.len() == 1));
    page("console_remove_cert.html", &context, 200)
}

/// `POST /console/sps/{id}/certificates/{sha256}/remove`.
pub async fn remove_certificate(
    state: web::Data<AppState>,
    Lang(locale): Lang,
    path: web::Path<(String, String)>,
    SessionForm { form, session, .. }: SessionForm<Posted>,
) -> Result<HttpResponse, WebError> {
    let (id, sha256) = path.into_inner();
    let back = format!("/console/sps/{id}");
    let actor = match admit_change(&state, locale, &session, &back).await? {
        Ok(actor) => actor,
        Err(page) => return Ok(page),
    };
    let version = form.version().unwrap_or(-1);
    let removed = run(&state, move |p| {
        console::remove_certificate(p, &actor, &id, Some(version), &sha256)
    })
    .await;
    match removed {
        Ok((sp, _)) => {
            reload(&state).await;
            Ok(render::redirect(&sp_url(
                locale,
                &sp.public_id(),
                "cert_removed",
            )))
        }
        Err(ConsoleError::Stale) => render::message(
            locale,
            "console.stale_page",
            None,
            Some((&back, "console.back_to_sp")),
            409,
        ),
        Err(ConsoleError::Invalid(v)) => {
            let mut context = context(locale, "console.remove_title", &session);
            context.insert("error", &v.message);
            context.insert("back", &back);
            page("console_refused.html", &context, 422)
        }
        Err(e) => failed(locale, e),
    }
}
