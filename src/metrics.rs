//! Prometheus metrics (SPEC 12), one registry per process, exposed at `/metrics`.
//!
//! Every label is bounded: endpoints are route patterns, years are the live years, error codes
//! and audit words come from fixed catalogues, and the SP label is a registered issuer (audit
//! events name an issuer only when it is registered). Request IDs, users, addresses and paths
//! are never labels.
//!
//! What is counted where:
//! - HTTP requests, their latency and error codes: the `web` layer's outermost middleware;
//! - SAML responses per SP, SAML error codes, sign-in results by step, every audit event:
//!   derived from the audit events as they are recorded ([`audit_event`]), so that the
//!   numbers and the audit trail cannot disagree;
//! - XML signing time: around each signature; database time: from a pool checkout to its
//!   return, and the wait for a connection;
//! - pool, registry, audit-buffer and certificate gauges: read when `/metrics` is scraped;
//! - the mail queue (SPEC 17): messages queued, sent, failed attempts and dropped by a cap
//!   where it happens (`mail::queue`); its depth set by the node's worker after each round.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

use crate::sessions::{AuditEvent, AuditKind};

/// Latency buckets in seconds: from a metadata fetch to a database that has stopped answering.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    saml_responses: IntCounterVec,
    saml_errors: IntCounterVec,
    sign_ins: IntCounterVec,
    audit_events: IntCounterVec,
    refused: IntCounterVec,
    signing: Histogram,
    db_held: Histogram,
    db_wait: Histogram,
    service_providers: IntGaugeVec,
    registry_revision: IntGauge,
    db_pool: IntGaugeVec,
    audit_buffered: IntGauge,
    certificate_not_after: IntGaugeVec,
    mail: MailFamilies,
}

/// The mail queue's families (SPEC 17).
struct MailFamilies {
    queued: IntCounterVec,
    sent: IntCounterVec,
    failed: IntCounterVec,
    dropped: IntCounterVec,
    queue: IntGaugeVec,
}

impl MailFamilies {
    fn new(r: &Registry) -> MailFamilies {
        MailFamilies {
            queued: counter(
                r,
                "saml_idp_mail_queued_total",
                "Messages queued, by kind.",
                &["kind"],
            ),
            sent: counter(
                r,
                "saml_idp_mail_sent_total",
                "Messages delivered to the transport, by kind.",
                &["kind"],
            ),
            failed: counter(
                r,
                "saml_idp_mail_failed_attempts_total",
                "Delivery attempts that failed (each is retried), by kind.",
                &["kind"],
            ),
            dropped: counter(
                r,
                "saml_idp_mail_dropped_total",
                "Messages not queued because their address reached a cap (hourly, daily).",
                &["cap"],
            ),
            queue: gauge_vec(
                r,
                "saml_idp_mail_queue_messages",
                "Messages in the queue not sent yet (waiting), and of those the ones that failed at least once (failing).",
                &["state"],
            ),
        }
    }
}

/// What `/metrics` reads from the running node at scrape time.
#[derive(Debug, Clone, Default)]
pub struct Gauges {
    pub service_providers_active: i64,
    pub service_providers_inactive: i64,
    pub registry_revision: i64,
    pub db_pool_open: i64,
    pub db_pool_idle: i64,
    pub db_pool_max: i64,
    pub audit_events_buffered: i64,
    /// (year, Unix time at which its signing certificate expires).
    pub certificate_not_after: Vec<(u16, i64)>,
}

/// The process's metrics. Registration cannot fail for these fixed, distinct names; if it
/// somehow did, the family is still counted, only not exported.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let family = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|_| unreachable_family(name));
    let _ = registry.register(Box::new(family.clone()));
    family
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let family = IntGaugeVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|_| unreachable_family(name));
    let _ = registry.register(Box::new(family.clone()));
    family
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let g = IntGauge::with_opts(Opts::new(name, help)).unwrap_or_else(|_| unreachable_family(name));
    let _ = registry.register(Box::new(g.clone()));
    g
}

fn histogram(registry: &Registry, name: &str, help: &str) -> Histogram {
    let opts = HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec());
    let h = Histogram::with_opts(opts).unwrap_or_else(|_| unreachable_family(name));
    let _ = registry.register(Box::new(h.clone()));
    h
}

/// Names and labels here are constants that prometheus accepts; a typo is caught by the
/// unit test below, which builds every family.
fn unreachable_family(name: &str) -> ! {
    panic!("metric family {name} has an invalid name or labels")
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let r = &registry;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "saml_idp_http_request_duration_seconds",
                "Time from a request's arrival to its response, by endpoint.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["endpoint"],
        )
        .unwrap_or_else(|_| unreachable_family("saml_idp_http_request_duration_seconds"));
        let _ = registry.register(Box::new(http_duration.clone()));
        Metrics {
            http_requests: counter(
                r,
                "saml_idp_http_requests_total",
                "HTTP requests by endpoint, year, status and error code.",
                &["endpoint", "year", "status", "error"],
            ),
            http_duration,
            saml_responses: counter(
                r,
                "saml_idp_saml_responses_total",
                "SAML Responses sent, by service provider.",
                &["sp"],
            ),
            saml_errors: counter(
                r,
                "saml_idp_saml_errors_total",
                "Refused SAML messages, by audit event and error code.",
                &["event", "code"],
            ),
            sign_ins: counter(
                r,
                "saml_idp_sign_ins_total",
                "Sign-in attempts by step (password, second_factor), result and reason.",
                &["step", "result", "reason"],
            ),
            audit_events: counter(
                r,
                "saml_idp_audit_events_total",
                "Audit events recorded, by event and success.",
                &["event", "success"],
            ),
            refused: counter(
                r,
                "saml_idp_requests_refused_total",
                "Requests refused before any use case, and proxy trouble, by reason.",
                &["reason"],
            ),
            signing: histogram(
                r,
                "saml_idp_xml_signing_seconds",
                "Time to sign one XML element (digest and RSA signature).",
            ),
            db_held: histogram(
                r,
                "saml_idp_db_connection_held_seconds",
                "Time a database connection is held by one unit of work.",
            ),
            db_wait: histogram(
                r,
                "saml_idp_db_pool_wait_seconds",
                "Time spent waiting for a connection from the pool.",
            ),
            service_providers: gauge_vec(
                r,
                "saml_idp_service_providers",
                "Registered service providers in this node's cache, by state.",
                &["state"],
            ),
            registry_revision: gauge(
                r,
                "saml_idp_registry_revision",
                "Registry revision this node's cache holds.",
            ),
            db_pool: gauge_vec(
                r,
                "saml_idp_db_pool_connections",
                "Database pool connections: open, idle, and the most allowed (max).",
                &["state"],
            ),
            audit_buffered: gauge(
                r,
                "saml_idp_audit_events_buffered",
                "Audit events recorded and not yet stored.",
            ),
            certificate_not_after: gauge_vec(
                r,
                "saml_idp_signing_certificate_not_after_seconds",
                "When each live year's signing certificate expires (Unix time).",
                &["year"],
            ),
            mail: MailFamilies::new(r),
            registry,
        }
    }

    /// One HTTP request, as the outermost middleware saw it.
    pub fn http_request(
        &self,
        endpoint: &str,
        year: &str,
        status: u16,
        error: &str,
        elapsed: Duration,
    ) {
        self.http_requests
            .with_label_values(&[endpoint, year, status_label(status), error])
            .inc();
        self.http_duration
            .with_label_values(&[endpoint])
            .observe(elapsed.as_secs_f64());
    }

    /// A request refused (or mis-forwarded) before any use case ran: `reason` is one of a
    /// fixed set (`client_limit_saml`, `client_limit_form`, `cross_site_post`,
    /// `forwarded_unparsed`).
    pub fn refused(&self, reason: &'static str) {
        self.refused.with_label_values(&[reason]).inc();
    }

    pub fn signing(&self, elapsed: Duration) {
        self.signing.observe(elapsed.as_secs_f64());
    }

    pub fn db_held(&self, elapsed: Duration) {
        self.db_held.observe(elapsed.as_secs_f64());
    }

    pub fn db_wait(&self, elapsed: Duration) {
        self.db_wait.observe(elapsed.as_secs_f64());
    }

    /// A message queued (`kind` is one of `Mail::kind`'s fixed names).
    pub fn mail_queued(&self, kind: &str) {
        self.mail.queued.with_label_values(&[kind]).inc();
    }

    pub fn mail_sent(&self, kind: &str) {
        self.mail.sent.with_label_values(&[kind]).inc();
    }

    pub fn mail_failed(&self, kind: &str) {
        self.mail.failed.with_label_values(&[kind]).inc();
    }

    /// A message not queued: its address reached the `cap` (`hourly`, `daily`).
    pub fn mail_dropped(&self, cap: &str) {
        self.mail.dropped.with_label_values(&[cap]).inc();
    }

    /// The queue as the worker last saw it.
    pub fn mail_queue(&self, waiting: u64, failing: u64) {
        for (state, n) in [("waiting", waiting), ("failing", failing)] {
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            self.mail.queue.with_label_values(&[state]).set(n);
        }
    }

    /// The text exposition, with the gauges read from the node just now.
    pub fn render(&self, gauges: &Gauges) -> String {
        self.service_providers
            .with_label_values(&["active"])
            .set(gauges.service_providers_active);
        self.service_providers
            .with_label_values(&["inactive"])
            .set(gauges.service_providers_inactive);
        self.registry_revision.set(gauges.registry_revision);
        for (state, value) in [
            ("open", gauges.db_pool_open),
            ("idle", gauges.db_pool_idle),
            ("max", gauges.db_pool_max),
        ] {
            self.db_pool.with_label_values(&[state]).set(value);
        }
        self.audit_buffered.set(gauges.audit_events_buffered);
        for (year, not_after) in &gauges.certificate_not_after {
            self.certificate_not_after
                .with_label_values(&[&year.to_string()])
                .set(*not_after);
        }
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The statuses this IdP answers with, labelled by their exact code; anything else by its
/// class, so the label stays a bounded set.
const KNOWN_STATUSES: &[(u16, &str)] = &[
    (200, "200"),
    (204, "204"),
    (302, "302"),
    (303, "303"),
    (304, "304"),
    (400, "400"),
    (401, "401"),
    (403, "403"),
    (404, "404"),
    (405, "405"),
    (409, "409"),
    (413, "413"),
    (415, "415"),
    (429, "429"),
    (500, "500"),
    (503, "503"),
];

fn status_label(status: u16) -> &'static str {
    if let Some((_, label)) = KNOWN_STATUSES.iter().find(|(code, _)| *code == status) {
        return label;
    }
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Counts one audit event in the families derived from the trail.
pub fn audit_event(event: &AuditEvent) {
    let m = &*METRICS;
    let success = if event.success { "true" } else { "false" };
    let kind = event.event.as_str();
    m.audit_events.with_label_values(&[kind, success]).inc();
    let detail = event.detail.as_deref().unwrap_or("");
    match event.event {
        AuditKind::SamlAuth if event.success => {
            if let Some(sp) = &event.issuer {
                m.saml_responses.with_label_values(&[sp]).inc();
            }
        }
        AuditKind::SignInSuccess => {
            m.sign_ins
                .with_label_values(&[sign_in_step(detail), "success", detail])
                .inc();
        }
        AuditKind::SignInFailure => {
            m.sign_ins
                .with_label_values(&[sign_in_step(detail), "failure", detail])
                .inc();
        }
        _ => {}
    }
    if event.event.is_saml_message() && !event.success {
        for code in detail.split(',').filter(|c| is_code(c)) {
            m.saml_errors.with_label_values(&[kind, code]).inc();
        }
    }
}

/// The step a sign-in audit word belongs to (the words are fixed in `idp::sign_in`).
fn sign_in_step(detail: &str) -> &'static str {
    match detail {
        "password" | "unknown_account" | "wrong_password" | "suspended" => "password",
        "locked" | "account_locked" => "any",
        _ => "second_factor",
    }
}

/// Error codes are lower-case words with underscores; anything else is not a label.
fn is_code(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 64
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &str, success: bool, issuer: Option<&str>, detail: &str) -> AuditEvent {
        AuditEvent {
            event: AuditKind::parse(name).expect("a kind the IdP writes"),
            issuer: issuer.map(str::to_string),
            user_public_id: None,
            success,
            detail: Some(detail.into()),
            count: 1,
            binding: None,
            reference: None,
        }
    }

    #[test]
    fn every_family_is_exported_with_bounded_labels() {
        METRICS.http_request(
            "/api/saml/auth{year}",
            "2026",
            200,
            "",
            Duration::from_millis(3),
        );
        METRICS.signing(Duration::from_micros(900));
        METRICS.db_held(Duration::from_micros(200));
        METRICS.db_wait(Duration::from_micros(10));
        METRICS.mail_queued("reset_password");
        METRICS.mail_sent("reset_password");
        METRICS.mail_failed("no_account");
        METRICS.mail_dropped("hourly");
        METRICS.mail_queue(3, 1);
        audit_event(&event(
            "SAML Auth",
            true,
            Some("urn:sp:metrics-test"),
            "handoff",
        ));
        audit_event(&event(
            "SAML Auth Request",
            false,
            None,
            "invalid_signature,unknown_issuer",
        ));
        audit_event(&event("Sign In Failure", false, None, "wrong_code"));
        audit_event(&event(
            "Remote Logout initiated",
            false,
            None,
            "replayed_request",
        ));
        let text = METRICS.render(&Gauges {
            service_providers_active: 2,
            db_pool_idle: 3,
            certificate_not_after: vec![(2026, 1_800_000_000)],
            ..Gauges::default()
        });
        for needle in [
            "saml_idp_http_requests_total{endpoint=\"/api/saml/auth{year}\",error=\"\",status=\"200\",year=\"2026\"}",
            "saml_idp_http_request_duration_seconds_bucket{endpoint=\"/api/saml/auth{year}\",le=\"0.005\"}",
            "saml_idp_saml_responses_total{sp=\"urn:sp:metrics-test\"}",
            "saml_idp_saml_errors_total{code=\"invalid_signature\",event=\"SAML Auth Request\"}",
            "saml_idp_saml_errors_total{code=\"unknown_issuer\",event=\"SAML Auth Request\"}",
            "saml_idp_saml_errors_total{code=\"replayed_request\",event=\"Remote Logout initiated\"}",
            "saml_idp_sign_ins_total{reason=\"wrong_code\",result=\"failure\",step=\"second_factor\"}",
            "saml_idp_audit_events_total{event=\"SAML Auth\",success=\"true\"}",
            "saml_idp_xml_signing_seconds_count",
            "saml_idp_db_connection_held_seconds_count",
            "saml_idp_db_pool_wait_seconds_count",
            "saml_idp_db_pool_connections{state=\"idle\"} 3",
            "saml_idp_service_providers{state=\"active\"} 2",
            "saml_idp_audit_events_buffered 0",
            "saml_idp_registry_revision 0",
            "saml_idp_mail_queued_total{kind=\"reset_password\"}",
            "saml_idp_mail_sent_total{kind=\"reset_password\"}",
            "saml_idp_mail_failed_attempts_total{kind=\"no_account\"}",
            "saml_idp_mail_dropped_total{cap=\"hourly\"}",
            "saml_idp_mail_queue_messages{state=\"waiting\"} 3",
            "saml_idp_mail_queue_messages{state=\"failing\"} 1",
            "saml_idp_signing_certificate_not_after_seconds{year=\"2026\"} 1800000000",
        ] {
            assert!(text.contains(needle), "{needle} missing from\n{text}");
        }
    }

    #[test]
    fn only_code_words_become_labels() {
        assert!(is_code("invalid_signature"));
        assert!(!is_code("Bad Thing"));
        assert!(!is_code("<script>"));
        assert!(!is_code(""));
        assert_eq!(sign_in_step("password"), "password");
        assert_eq!(sign_in_step("totp"), "second_factor");
        assert_eq!(sign_in_step("wrong_password"), "password");
        assert_eq!(status_label(418), "4xx");
    }
}
