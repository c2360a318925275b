//! The password step (`/sign-in`) and the second factor (`/sign-in/mfa`), SPEC 7: CSRF on
//! every form, a per-IP rate limit (429), account lock-out after 10 failures for 10 minutes,
//! the same work for unknown emails as for wrong passwords, a new session token after the
//! password, TOTP codes usable once, "remember this browser" for 30 days. Audit events carry
//! no PII.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{Duration, DurationRound};
use serde::Deserialize;

use super::flow::{self, page_context, render_page};
use super::i18n::Locale;
use super::session::{self, REMEMBER_COOKIE, REMEMBER_DAYS};
use super::{AppState, WebError};
use crate::accounts::{backup_codes, password, totp, UserRecord, UserStatus};
use crate::idp::pending::token_hash;
use crate::sessions::{AuditEvent, MfaMethod};

pub const LOCK_AFTER: i32 = 10;
pub const LOCK_MINUTES: i64 = 10;
/// Sign-in and second-factor posts per address per minute.
pub const IP_LIMIT_PER_MINUTE: i32 = 30;

#[derive(Debug, Deserialize)]
pub struct LocaleQuery {
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
}

#[derive(Debug, Deserialize)]
pub struct MfaForm {
    #[serde(default)]
    csrf: String,
    code: String,
    remember: Option<String>,
}

pub async fn form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = flow::locale(&req, q.locale.as_deref());
    let (session, cookie) = session::current_or_start(&state, &req).await?;
    let mut context = page_context(&state, &req, locale, "signin.title").await?;
    context.insert("csrf", &session.csrf_token);
    render_page("sign_in.html", &context, cookie, 200)
}

/// The posting session (past the password step when `after_password`), its CSRF token
/// checked, and this address's rate limit counted.
async fn checked_session(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    csrf: &str,
    after_password: bool,
) -> Result<crate::sessions::SessionRecord, WebError> {
    let session = session::current(state, req)
        .await?
        .filter(|s| !after_password || s.password_at.is_some())
        .ok_or(WebError::SessionExpired { locale })?;
    if !session::csrf_ok(&session, csrf) {
        return Err(WebError::Csrf { locale });
    }
    rate_limit(state, req, locale).await?;
    Ok(session)
}

/// Counts a hit for this address; refuses past the limit.
async fn rate_limit(state: &AppState, req: &HttpRequest, locale: Locale) -> Result<(), WebError> {
    let ip = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into());
    let now = state.clock.now();
    let window = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let limiter = state.rate_limiter.clone();
    let allowed =
        flow::block(move || limiter.hit(&format!("sign-in:{ip}"), window, IP_LIMIT_PER_MINUTE))
            .await?;
    if allowed {
        Ok(())
    } else {
        Err(WebError::RateLimited { locale })
    }
}

pub async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let locale = flow::locale(&req, q.locale.as_deref());
    let session = checked_session(&state, &req, locale, &form.csrf, false).await?;
    let outcome = check_password(&state, form.into_inner()).await?;
    let user = match outcome {
        PasswordOutcome::Ok(user) => user,
        PasswordOutcome::Wrong => {
            return retry(
                &state,
                &req,
                locale,
                &session.csrf_token,
                "signin.failed",
                401,
            )
            .await
        }
        PasswordOutcome::Locked => {
            return retry(
                &state,
                &req,
                locale,
                &session.csrf_token,
                "signin.locked",
                403,
            )
            .await
        }
        PasswordOutcome::Suspended => {
            return flow::message(&state, &req, locale, "suspended", None, 403).await
        }
    };
    let (fresh, cookie) = session::start(&state, Some(session.token_hash)).await?;
    let (store, now, id) = (state.sessions.clone(), state.clock.now(), user.id);
    let hash = fresh.token_hash.clone();
    flow::block(move || store.set_password(&hash, id, now)).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/sign-in/mfa?locale={}", locale.code()),
        ))
        .cookie(cookie)
        .finish())
}

async fn retry(
    state: &AppState,
    req: &HttpRequest,
    locale: Locale,
    csrf: &str,
    message_key: &str,
    status: u16,
) -> Result<HttpResponse, WebError> {
    let mut context = page_context(state, req, locale, "signin.title").await?;
    context.insert("csrf", csrf);
    context.insert("error", locale.t(message_key));
    render_page("sign_in.html", &context, None, status)
}

enum PasswordOutcome {
    Ok(Box<UserRecord>),
    Wrong,
    Locked,
    Suspended,
}

/// Finds the user and checks the password, counting failures; unknown emails cost the same.
async fn check_password(state: &AppState, form: PasswordForm) -> Result<PasswordOutcome, WebError> {
    let (accounts, crypto, audit, now) = (
        state.accounts.clone(),
        state.account_crypto.clone(),
        state.audit.clone(),
        state.clock.now(),
    );
    flow::block(move || {
        let user = match crypto.email_lookup(&form.email) {
            Some((_, lookup)) => accounts.find_by_email(&lookup).map_err(|e| e.to_string())?,
            None => None,
        };
        let Some(user) = user else {
            password::verify_dummy(&form.password);
            audit_sign_in(&*audit, None, false, "unknown_account", now)?;
            return Ok::<_, String>(PasswordOutcome::Wrong);
        };
        if user.locked_until.is_some_and(|until| until > now) {
            audit_sign_in(&*audit, Some(&user), false, "locked", now)?;
            return Ok(PasswordOutcome::Locked);
        }
        if !password::verify_password(&form.password, &user.password_hash) {
            let count = accounts
                .record_failure(user.id, LOCK_AFTER, now + Duration::minutes(LOCK_MINUTES))
                .map_err(|e| e.to_string())?;
            audit_sign_in(&*audit, Some(&user), false, "wrong_password", now)?;
            return Ok(if count >= LOCK_AFTER {
                PasswordOutcome::Locked
            } else {
                PasswordOutcome::Wrong
            });
        }
        if user.status == UserStatus::Suspended {
            audit_sign_in(&*audit, Some(&user), false, "suspended", now)?;
            return Ok(PasswordOutcome::Suspended);
        }
        accounts
            .reset_failures(user.id)
            .map_err(|e| e.to_string())?;
        audit_sign_in(&*audit, Some(&user), true, "password", now)?;
        Ok(PasswordOutcome::Ok(Box::new(user)))
    })
    .await
}

fn audit_sign_in(
    audit: &dyn crate::sessions::AuditLog,
    user: Option<&UserRecord>,
    success: bool,
    detail: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    let event = AuditEvent {
        event: if success {
            "Sign In Success".into()
        } else {
            "Sign In Failure".into()
        },
        issuer: None,
        user_public_id: user.map(|u| u.public_id.clone()),
        success,
        detail: Some(detail.to_string()),
    };
    audit.record(&event, now).map_err(|e| e.to_string())
}

pub async fn mfa_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
) -> Result<HttpResponse, WebError> {
    let locale = flow::locale(&req, q.locale.as_deref());
    let Some(session) = session::current(&state, &req)
        .await?
        .filter(|s| s.password_at.is_some())
    else {
        return Ok(flow::redirect(&format!(
            "/sign-in?locale={}",
            locale.code()
        )));
    };
    let mut context = page_context(&state, &req, locale, "mfa.title").await?;
    context.insert("csrf", &session.csrf_token);
    render_page("mfa.html", &context, None, 200)
}

pub async fn mfa_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    q: web::Query<LocaleQuery>,
    form: web::Form<MfaForm>,
) -> Result<HttpResponse, WebError> {
    let locale = flow::locale(&req, q.locale.as_deref());
    let session = checked_session(&state, &req, locale, &form.csrf, true).await?;
    let user_id = session.user_id.ok_or(WebError::SessionExpired { locale })?;
    let Some(method) = check_second_factor(&state, user_id, form.code.clone()).await? else {
        let mut context = page_context(&state, &req, locale, "mfa.title").await?;
        context.insert("csrf", &session.csrf_token);
        context.insert("error", locale.t("mfa.failed"));
        return render_page("mfa.html", &context, None, 401);
    };
    let (store, now, hash) = (
        state.sessions.clone(),
        state.clock.now(),
        session.token_hash.clone(),
    );
    let remember = form.remember.is_some();
    let remember_token = if remember {
        state.ids.secret_token()
    } else {
        None
    };
    let remembered = remember_token.as_deref().map(token_hash);
    flow::block(move || {
        store.set_mfa(&hash, method, now)?;
        if let Some(r) = remembered {
            store.remember_browser(&r, user_id, now + Duration::days(REMEMBER_DAYS))?;
        }
        Ok::<_, crate::sessions::SessionError>(())
    })
    .await?;
    let mut response = flow::redirect("/api/saml/complete");
    if let Some(token) = remember_token {
        let c = session::cookie(
            &state,
            REMEMBER_COOKIE,
            token,
            Duration::days(REMEMBER_DAYS),
        );
        response
            .add_cookie(&c)
            .map_err(|e| WebError::Internal(e.to_string()))?;
    }
    Ok(response)
}

/// A TOTP code (once per step, ±1 step) or an unused backup code.
async fn check_second_factor(
    state: &AppState,
    user_id: i64,
    code: String,
) -> Result<Option<MfaMethod>, WebError> {
    let (accounts, crypto, audit, now) = (
        state.accounts.clone(),
        state.account_crypto.clone(),
        state.audit.clone(),
        state.clock.now(),
    );
    flow::block(move || {
        let user = accounts
            .get(user_id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the signed-in user no longer exists".to_string())?;
        let totp_ok = user
            .totp_secret_sealed
            .as_deref()
            .and_then(|sealed| crypto.open_totp(&user.public_id, sealed))
            .and_then(|secret| totp::verify(&secret, &code, now.timestamp(), user.totp_last_step))
            .map(|step| accounts.claim_totp_step(user.id, step))
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or(false);
        let method = if totp_ok {
            Some(MfaMethod::Totp)
        } else {
            let codes = accounts
                .unused_backup_codes(user.id)
                .map_err(|e| e.to_string())?;
            let hashes: Vec<String> = codes.iter().map(|(_, h)| h.clone()).collect();
            match backup_codes::find(&code, &hashes).and_then(|i| codes.get(i)) {
                Some((id, _))
                    if accounts
                        .claim_backup_code(*id, now)
                        .map_err(|e| e.to_string())? =>
                {
                    Some(MfaMethod::BackupCode)
                }
                _ => None,
            }
        };
        if method.is_none() {
            accounts
                .record_failure(user.id, LOCK_AFTER, now + Duration::minutes(LOCK_MINUTES))
                .map_err(|e| e.to_string())?;
        }
        let detail = method.map_or("wrong_code", MfaMethod::as_str);
        audit_sign_in(&*audit, Some(&user), method.is_some(), detail, now)?;
        Ok::<_, String>(method)
    })
    .await
}
