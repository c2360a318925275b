//! The console's JSON API (SPEC 19), `/console/api/v1/`: service providers as the TOML record
//! `sp show` prints (plus `id`, `version` and what each certificate is), changed through the
//! same use cases as the console and the CLI. `ETag` is the version; `PATCH` needs `If-Match`.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::bearer::ApiCaller;
use crate::idp::console::certificates::{describe, CertificateInfo};
use crate::idp::console::events::{self, RefusedRequest};
use crate::idp::console::{self, ConsoleError, ConsolePorts};
use crate::registry::{ServiceProvider, SpRecord};
use crate::web::error::ApiErrors;
use crate::web::i18n::Locale;
use crate::web::{intake_errors, AppState, WebError};

/// The largest JSON body the API reads (16 certificates of 4 KiB fit with room).
pub const MAX_BODY: usize = 256 * 1024;

/// One service provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpBody {
    /// The SP's identifier in these URLs (opaque).
    pub id: String,
    /// The stored version, also sent as the `ETag` (`"v3"`).
    pub version: i64,
    #[serde(flatten)]
    pub record: SpRecord,
    /// What each of `certs` is, in the same order.
    pub certificates: Vec<CertificateInfo>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpList {
    pub sps: Vec<SpBody>,
}

/// A certificate to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateUpload {
    /// One PEM certificate (`-----BEGIN CERTIFICATE-----…`): RSA, at least 2048 bits, in date.
    pub pem: String,
}

/// One error code of a refused request, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeBody {
    pub code: String,
    /// What it means (empty for a code the help does not list).
    pub message: String,
    /// How to fix it.
    pub help: String,
    pub help_url: Option<String>,
}

/// One refused request (or several alike within a minute: `count`).
#[derive(Debug, Serialize, ToSchema)]
pub struct EventBody {
    pub at: DateTime<Utc>,
    /// The audit event's kind (`SAML Auth Request`, `Remote Logout initiated`, …).
    pub event: String,
    /// `redirect`, `post` or `back-channel`.
    pub binding: Option<String>,
    pub codes: Vec<CodeBody>,
    pub count: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventBody>,
}

#[derive(Debug, Deserialize)]
pub struct EventQuery {
    limit: Option<i64>,
}

fn body(sp: &ServiceProvider, now: DateTime<Utc>) -> SpBody {
    SpBody {
        id: sp.public_id(),
        version: sp.version,
        record: SpRecord::from(sp),
        certificates: sp.certs.iter().map(|c| describe(c, now)).collect(),
    }
}

fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn answer(status: StatusCode, sp: &ServiceProvider, now: DateTime<Utc>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, etag(sp.version)))
        .json(body(sp, now))
}

/// What `If-Match` asks for.
enum Precondition {
    /// No `If-Match`.
    Absent,
    /// `If-Match: *`: whatever is stored.
    Any,
    /// `If-Match: "v3"`: only over that version.
    Version(i64),
}

impl Precondition {
    /// The version a change must be made over (`None`: the one stored now).
    fn version(&self) -> Option<i64> {
        match self {
            Precondition::Version(v) => Some(*v),
            Precondition::Absent | Precondition::Any => None,
        }
    }
}

fn if_match(req: &HttpRequest) -> Result<Precondition, WebError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(Precondition::Absent);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(Precondition::Any);
    }
    text.trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('v')
        .and_then(|n| n.parse::<i64>().ok())
        .map(Precondition::Version)
        .ok_or_else(|| {
            WebError::api(
                StatusCode::BAD_REQUEST,
                "invalid_if_match",
                "If-Match must be the ETag of a read (\"v3\") or *",
            )
        })
}

/// Runs a console use case; its error as the API answers it.
async fn call<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&ConsolePorts<'_>) -> Result<T, ConsoleError> + Send + 'static,
) -> Result<(T, DateTime<Utc>), WebError> {
    super::run(state, f).await.map_err(WebError::from_console)
}

/// A change, then `status` with the SP (and its `Location` when created).
async fn change(
    state: &web::Data<AppState>,
    status: StatusCode,
    f: impl FnOnce(&ConsolePorts<'_>) -> Result<ServiceProvider, ConsoleError> + Send + 'static,
) -> Result<HttpResponse, WebError> {
    let (sp, now) = call(state, f).await?;
    super::reload(state).await;
    let mut response = answer(status, &sp, now);
    if status == StatusCode::CREATED {
        let location = format!("/console/api/v1/sps/{}", sp.public_id());
        if let Ok(value) = header::HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
    }
    Ok(response)
}

#[utoipa::path(get, path = "/console/api/v1/sps", tag = "service providers",
    responses((status = 200, body = SpList), (status = 401, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn list(
    state: web::Data<AppState>,
    ApiCaller(actor): ApiCaller,
) -> Result<HttpResponse, WebError> {
    let (sps, now) = call(&state, move |p| console::list(p, &actor)).await?;
    Ok(HttpResponse::Ok().json(SpList {
        sps: sps.iter().map(|sp| body(sp, now)).collect(),
    }))
}

#[utoipa::path(post, path = "/console/api/v1/sps", tag = "service providers",
    request_body = SpRecord,
    responses((status = 201, body = SpBody), (status = 403, body = ApiErrors),
        (status = 422, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn create(
    state: web::Data<AppState>,
    ApiCaller(actor): ApiCaller,
    record: web::Json<SpRecord>,
) -> Result<HttpResponse, WebError> {
    let record = record.into_inner();
    change(&state, StatusCode::CREATED, move |p| {
        console::create(p, &actor, record)
    })
    .await
}

#[utoipa::path(get, path = "/console/api/v1/sps/{id}", tag = "service providers",
    params(("id" = String, Path, description = "The SP's id")),
    responses((status = 200, body = SpBody, headers(("ETag" = String))),
        (status = 404, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn show(
    state: web::Data<AppState>,
    ApiCaller(actor): ApiCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    let (sp, now) = call(&state, move |p| console::get(p, &actor, &id)).await?;
    Ok(answer(StatusCode::OK, &sp, now))
}

#[utoipa::path(patch, path = "/console/api/v1/sps/{id}", tag = "service providers",
    params(("id" = String, Path), ("If-Match" = String, Header, description = "The ETag read")),
    request_body(content = SpRecord,
        description = "Any of the fields; null clears an optional one; the issuer cannot change"),
    responses((status = 200, body = SpBody), (status = 412, body = ApiErrors),
        (status = 422, body = ApiErrors), (status = 428, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiCaller(actor): ApiCaller,
    id: web::Path<String>,
    fields: web::Json<serde_json::Value>,
) -> Result<HttpResponse, WebError> {
    let precondition = if_match(&req)?;
    if let Precondition::Absent = precondition {
        return Err(WebError::api(
            StatusCode::PRECONDITION_REQUIRED,
            "if_match_required",
            "send If-Match with the ETag of your read, so that nobody's change is lost",
        ));
    }
    let version = precondition.version();
    let serde_json::Value::Object(fields) = fields.into_inner() else {
        return Err(invalid_json("the body must be a JSON object of fields"));
    };
    let id = id.into_inner();
    change(&state, StatusCode::OK, move |p| {
        console::update(p, &actor, &id, version, |record| merge(record, fields))
    })
    .await
}

/// `fields` over `record`: each named field replaced (null clears it).
fn merge(
    record: &mut SpRecord,
    fields: serde_json::Map<String, serde_json::Value>,
) -> Result<(), ConsoleError> {
    let refuse = |field: &'static str, code, message: String| {
        Err(ConsoleError::Invalid(crate::registry::ValidationError {
            field,
            code,
            message,
        }))
    };
    let Ok(serde_json::Value::Object(mut merged)) = serde_json::to_value(&*record) else {
        return refuse("", "internal", "the record could not be read".into());
    };
    for (name, value) in fields {
        if matches!(
            name.as_str(),
            "id" | "version" | "created_at" | "updated_at"
        ) {
            return refuse("", "read_only", format!("{name} is set by the IdP"));
        }
        if value.is_null() {
            merged.remove(&name);
        } else {
            merged.insert(name, value);
        }
    }
    match serde_json::from_value::<SpRecord>(serde_json::Value::Object(merged)) {
        Ok(updated) => {
            *record = updated;
            Ok(())
        }
        Err(e) => refuse("", "invalid_json", e.to_string()),
    }
}

#[utoipa::path(delete, path = "/console/api/v1/sps/{id}", tag = "service providers",
    description = "Deactivates the SP: its requests are refused; it stays registered.",
    params(("id" = String, Path)),
    responses((status = 200, body = SpBody), (status = 404, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn deactivate(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiCaller(actor): ApiCaller,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let version = if_match(&req)?.version();
    let id = id.into_inner();
    change(&state, StatusCode::OK, move |p| {
        console::deactivate(p, &actor, &id, version)
    })
    .await
}

#[utoipa::path(post, path = "/console/api/v1/sps/{id}/certificates", tag = "certificates",
    params(("id" = String, Path)),
    request_body = CertificateUpload,
    responses((status = 201, body = SpBody), (status = 422, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn add_certificate(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiCaller(actor): ApiCaller,
    id: web::Path<String>,
    upload: web::Json<CertificateUpload>,
) -> Result<HttpResponse, WebError> {
    let version = if_match(&req)?.version();
    let (id, pem) = (id.into_inner(), upload.into_inner().pem);
    change(&state, StatusCode::CREATED, move |p| {
        console::add_certificate(p, &actor, &id, version, &pem)
    })
    .await
}

#[utoipa::path(delete, path = "/console/api/v1/sps/{id}/certificates/{sha256}",
    tag = "certificates",
    params(("id" = String, Path), ("sha256" = String, Path, description = "SHA-256 fingerprint, hex")),
    responses((status = 200, body = SpBody), (status = 404, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn remove_certificate(
    state: web::Data<AppState>,
    req: HttpRequest,
    ApiCaller(actor): ApiCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, WebError> {
    let version = if_match(&req)?.version();
    let (id, sha256) = path.into_inner();
    change(&state, StatusCode::OK, move |p| {
        console::remove_certificate(p, &actor, &id, version, &sha256)
    })
    .await
}

#[utoipa::path(get, path = "/console/api/v1/sps/{id}/events", tag = "service providers",
    description = "The SP's most recent refused requests (no user, no client address).",
    params(("id" = String, Path), ("limit" = Option<i64>, Query, description = "1 to 200, default 50")),
    responses((status = 200, body = EventList), (status = 404, body = ApiErrors)),
    security(("bearer" = [])))]
pub async fn events(
    state: web::Data<AppState>,
    ApiCaller(actor): ApiCaller,
    id: web::Path<String>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, WebError> {
    let (id, limit) = (id.into_inner(), query.limit.unwrap_or(50));
    let ((_, refused), _) = call(&state, move |p| events::refused(p, &actor, &id, limit)).await?;
    let base = state.config.base_url.trim_end_matches('/').to_string();
    Ok(HttpResponse::Ok().json(EventList {
        events: refused.iter().map(|r| event_body(r, &base)).collect(),
    }))
}

fn event_body(refused: &RefusedRequest, help_base: &str) -> EventBody {
    EventBody {
        at: refused.at,
        event: refused.kind.as_str().to_string(),
        binding: refused.binding.map(|b| b.as_str().to_string()),
        codes: refused
            .codes
            .iter()
            .map(|code| {
                let explained = intake_errors::explain(code, Locale::En, help_base);
                let (message, help, help_url) = match explained {
                    Some((message, help, url)) => (message, help, Some(url)),
                    None => (String::new(), String::new(), None),
                };
                CodeBody {
                    code: code.clone(),
                    message,
                    help,
                    help_url,
                }
            })
            .collect(),
        count: refused.count,
    }
}

fn invalid_json(message: &str) -> WebError {
    WebError::api(StatusCode::BAD_REQUEST, "invalid_json", message)
}

/// How a JSON body that cannot be read is refused: 415 when it is not JSON, 413 when it is
/// too large, 400 otherwise (with serde's words: they name the field).
pub fn json_error(e: actix_web::error::JsonPayloadError) -> WebError {
    use actix_web::error::JsonPayloadError as E;
    match e {
        E::ContentType => WebError::api(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        ),
        E::Overflow { .. } | E::OverflowKnownLength { .. } => WebError::api(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {MAX_BODY} bytes"),
        ),
        E::Deserialize(e) => invalid_json(&e.to_string()),
        other => invalid_json(&other.to_string()),
    }
}
