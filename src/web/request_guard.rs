//! What stands in front of every handler, before any use case or database (SPEC 7): the
//! in-process per-client limiter and the cross-site check on form POSTs (the middleware that
//! applies them is `web::guard_requests`).
//!
//! - **The limiter** counts, per client (the address `extract::client_address` gives: an
//!   IPv4 address, an IPv6 /64), the requests to the SAML endpoints and
//!   `/tools/saml-request` (`[limits] saml_per_minute`) and every other form POST
//!   (`posts_per_minute`). Over the limit the answer is 429 and nothing else runs: no audit
//!   row, no pending request, no rate-limit row, no token. The buckets live in this process
//!   only (each node counts its own), and idle ones are forgotten, so a flood of addresses
//!   cannot grow memory without bound.
//! - **Cross-site form POSTs** are refused (403): a `Sec-Fetch-Site` other than
//!   `same-origin` or `none`, or, from browsers that do not send it, an `Origin` other than
//!   `base_url`'s. The SAML endpoints are exempt: service providers post to them from their
//!   own sites by design.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use actix_web::http::Method;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::Clock;
use crate::config::ClientLimits;

/// Forget idle clients once every this many checks.
const SWEEP_EVERY: u64 = 4096;

/// The class of a request, each with its own allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The SAML endpoints (metadata aside) and `/tools/saml-request`.
    Saml,
    /// Any other POST (every form of the site).
    Post,
}

/// The buckets' time is the IdP's injected clock (tests move it by hand), made monotonic:
/// a clock set back (NTP, a test) neither refills nor empties a bucket.
#[derive(Clone)]
struct GuardClock {
    clock: Arc<dyn Clock>,
    latest: Arc<AtomicU64>,
}

impl governor::clock::Clock for GuardClock {
    type Instant = std::time::Duration;

    fn now(&self) -> std::time::Duration {
        let micros = u64::try_from(self.clock.now().timestamp_micros()).unwrap_or(0);
        let latest = self.latest.fetch_max(micros, Ordering::Relaxed).max(micros);
        std::time::Duration::from_micros(latest)
    }
}

type Buckets = RateLimiter<
    String,
    DashMapStateStore<String>,
    GuardClock,
    governor::middleware::NoOpMiddleware<std::time::Duration>,
>;

pub struct RequestGuard {
    saml: Buckets,
    posts: Buckets,
    checks: AtomicU64,
    /// `base_url`'s origin (`https://idp.example.gov`), for the `Origin` check.
    origin: String,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN))
}

impl RequestGuard {
    pub fn new(limits: &ClientLimits, base_url: &str, clock: Arc<dyn Clock>) -> RequestGuard {
        let origin = url::Url::parse(base_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let clock = GuardClock {
            clock,
            latest: Arc::new(AtomicU64::new(0)),
        };
        let buckets = |n| RateLimiter::dashmap_with_clock(per_minute(n), clock.clone());
        RequestGuard {
            saml: buckets(limits.saml_per_minute),
            posts: buckets(limits.posts_per_minute),
            checks: AtomicU64::new(0),
            origin,
        }
    }

    /// Counts one request of `class` from `client`; false when over its allowance.
    pub fn allow(&self, class: Class, client: &str) -> bool {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.saml.retain_recent();
            self.posts.retain_recent();
        }
        let limiter = match class {
            Class::Saml => &self.saml,
            Class::Post => &self.posts,
        };
        limiter.check_key(&client.to_string()).is_ok()
    }

    /// Clients this node currently remembers (both classes).
    pub fn remembered(&self) -> usize {
        self.saml.len() + self.posts.len()
    }

    /// Whether a form POST says it comes from another site.
    pub fn is_cross_site(&self, fetch_site: Option<&str>, origin: Option<&str>) -> bool {
        match (fetch_site, origin) {
            (Some(site), _) => !matches!(site, "same-origin" | "none"),
            (None, Some(origin)) => origin != self.origin,
            (None, None) => false,
        }
    }
}

/// Which allowance a request draws on, if any.
pub fn class_of(method: &Method, path: &str) -> Option<Class> {
    let saml = path.starts_with("/api/saml/") && !path.starts_with("/api/saml/metadata");
    if saml || path == "/tools/saml-request" {
        Some(Class::Saml)
    } else if method == Method::POST {
        Some(Class::Post)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(saml: u32, posts: u32) -> RequestGuard {
        let limits = ClientLimits {
            saml_per_minute: saml,
            posts_per_minute: posts,
        };
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 3, 15, 12, 0, 0).unwrap();
        RequestGuard::new(
            &limits,
            "https://idp.example.gov/",
            Arc::new(crate::clock::FixedClock(now)),
        )
    }

    #[test]
    fn each_client_has_its_own_allowance_per_class() {
        let g = guard(3, 2);
        for _ in 0..3 {
            assert!(g.allow(Class::Saml, "198.51.100.7"));
        }
        assert!(
            !g.allow(Class::Saml, "198.51.100.7"),
            "the fourth in a minute"
        );
        assert!(g.allow(Class::Saml, "198.51.100.8"), "another client");
        assert!(g.allow(Class::Post, "198.51.100.7"), "another class");
        assert!(g.allow(Class::Post, "198.51.100.7"));
        assert!(!g.allow(Class::Post, "198.51.100.7"));
        assert_eq!(g.remembered(), 3);
    }

    #[test]
    fn requests_are_classed_by_path_and_method() {
        assert_eq!(
            class_of(&Method::GET, "/api/saml/auth2026"),
            Some(Class::Saml)
        );
        assert_eq!(
            class_of(&Method::POST, "/api/saml/remotelogout2026"),
            Some(Class::Saml)
        );
        assert_eq!(class_of(&Method::GET, "/api/saml/metadata2026"), None);
        assert_eq!(
            class_of(&Method::GET, "/tools/saml-request"),
            Some(Class::Saml)
        );
        assert_eq!(class_of(&Method::POST, "/sign-in"), Some(Class::Post));
        assert_eq!(class_of(&Method::GET, "/sign-in"), None);
    }

    #[test]
    fn only_same_origin_posts_pass() {
        let g = guard(1, 1);
        assert!(!g.is_cross_site(Some("same-origin"), None));
        assert!(!g.is_cross_site(Some("none"), None));
        assert!(
            g.is_cross_site(Some("same-site"), None),
            "a sibling subdomain"
        );
        assert!(g.is_cross_site(Some("cross-site"), Some("https://idp.example.gov")));
        assert!(!g.is_cross_site(None, Some("https://idp.example.gov")));
        assert!(g.is_cross_site(None, Some("https://evil.example")));
        assert!(g.is_cross_site(None, Some("null")));
        assert!(
            !g.is_cross_site(None, None),
            "no browser header: not a browser's cross-site post"
        );
    }
}
