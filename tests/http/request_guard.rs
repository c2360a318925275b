//! What stands in front of every handler (SPEC 7), from the outside: the in-process
//! per-client limiter answers 429 before anything is written (no audit row, no pending
//! request, no rate-limit row), each class and client with its own allowance; form POSTs
//! that say they come from another site are refused, while service providers still post
//! SAML messages from theirs.

use crate::common;

use std::sync::Arc;

use common::flow::*;
use saml_idp::config::ClientLimits;
use saml_idp::web::request_guard::RequestGuard;

/// A flow whose limiter allows `saml` SAML requests and `posts` form POSTs per client.
fn limited(saml: u32, posts: u32) -> Flow {
    let mut f = start();
    let limits = ClientLimits {
        saml_per_minute: saml,
        posts_per_minute: posts,
    };
    let clock = f.state.clock.clone();
    f.state.guard = Arc::new(RequestGuard::new(&limits, &f.state.config.base_url, clock));
    f
}

fn rows(f: &Flow, table: &str) -> i64 {
    // Reading the trail stores what the audit buffer holds first.
    f.state.stores.audit.recent(1).expect("audit");
    common::stores::count_table(&f._db, table)
}

#[actix_web::test]
async fn saml_requests_over_the_limit_write_nothing() {
    let mut f = limited(5, 100);
    for n in 0..5 {
        let refused = f
            .get(&format!("/api/saml/auth2026?SAMLRequest=AAAA{n}"))
            .await;
        assert_eq!(refused.status, 400, "malformed, within the limit");
    }
    let audited = rows(&f, "audit_events");
    let unsigned = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
    for n in 0..3 {
        let over = f
            .get(&format!("/api/saml/auth2026?SAMLRequest=AAAA{n}"))
            .await;
        assert_eq!(over.status, 429, "{}", over.body);
        assert_eq!(over.header("retry-after"), "60");
        assert!(over.body.contains("Too many requests"), "{}", over.body);
        let over = f.request(&unsigned).await;
        assert_eq!(over.status, 429);
    }
    assert_eq!(
        rows(&f, "audit_events"),
        audited,
        "no audit row over the limit"
    );
    assert_eq!(
        rows(&f, "pending_requests"),
        0,
        "no pending row over the limit"
    );
    // The tool counts with the SAML endpoints; metadata does not count.
    assert_eq!(f.get("/tools/saml-request").await.status, 429);
    assert_eq!(f.get("/api/saml/metadata2026").await.status, 200);
    // Form POSTs have an allowance of their own.
    assert_eq!(f.password("ada@example.gov", "wrong").await.status, 401);
    // Another client has its own.
    f.peer = Some("198.51.100.9:4000".parse().expect("address"));
    assert_eq!(f.request(&unsigned).await.status, 303);
    assert_eq!(rows(&f, "pending_requests"), 1);
    let metrics = f.get("/metrics").await.body;
    assert!(
        metrics.contains("saml_idp_requests_refused_total{reason=\"client_limit_saml\"}"),
        "{metrics}"
    );
}

#[actix_web::test]
async fn form_posts_over_the_limit_write_nothing() {
    let mut f = limited(100, 3);
    for _ in 0..3 {
        assert_eq!(f.password("ada@example.gov", "wrong").await.status, 401);
    }
    let limits = rows(&f, "rate_limits");
    for n in 0..5 {
        let email = format!("nobody{n}@example.gov");
        let over = f.password(&email, "wrong").await;
        assert_eq!(over.status, 429, "{}", over.body);
    }
    assert_eq!(
        rows(&f, "rate_limits"),
        limits,
        "no rate-limit row over the limit"
    );
    assert_eq!(f.get("/sign-in").await.status, 200, "pages still show");
    // The allowance refills with time (one post per 20 seconds at 3 per minute).
    f.tick(20);
    assert_eq!(f.password("ada@example.gov", "wrong").await.status, 401);
    assert_eq!(f.password("ada@example.gov", "wrong").await.status, 429);
}

#[actix_web::test]
async fn forms_posted_from_another_site_are_refused() {
    let mut f = start();
    let csrf = f.csrf("/sign-in").await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", "ada@example.gov"),
        ("password", PASSWORD),
    ];
    for (name, value) in [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
        ("Origin", "https://evil.example"),
        ("Origin", "null"),
    ] {
        f.headers = vec![(name.into(), value.into())];
        let refused = f.post("/sign-in", &fields).await;
        assert_eq!(refused.status, 403, "{name}: {value}");
        assert!(
            refused.body.contains("Form sent from another site"),
            "{}",
            refused.body
        );
        assert!(
            !f.jar.contains_key("__Host-saml_idp_session"),
            "{name}: {value}: no session"
        );
    }
    let origin = f.state.config.base_url.clone();
    for (name, value) in [
        ("Sec-Fetch-Site", "same-origin"),
        ("Origin", origin.as_str()),
    ] {
        f.headers = vec![(name.into(), value.into())];
        let csrf = f.csrf("/sign-in").await;
        let fields = [
            ("csrf", csrf.as_str()),
            ("email", "ada@example.gov"),
            ("password", "wrong"),
        ];
        assert_eq!(
            f.post("/sign-in", &fields).await.status,
            401,
            "{name}: {value}"
        );
    }
    // A service provider posts its AuthnRequest from its own site (POST binding).
    f.headers = vec![
        ("Sec-Fetch-Site".into(), "cross-site".into()),
        ("Origin".into(), "https://sp.example.gov".into()),
    ];
    let xml = stamped(
        &authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]),
        f.state.clock.now(),
    );
    let value = common::b64(xml.as_bytes());
    let posted = f
        .post("/api/saml/auth2026", &[("SAMLRequest", value.as_str())])
        .await;
    assert!(
        !posted.body.contains("Form sent from another site"),
        "{}",
        posted.body
    );
    assert_eq!(
        posted.status, 200,
        "the page that re-posts with the cookies"
    );
}

/// Over https every cookie is `__Host-` prefixed (Secure, `Path=/`, no Domain) and only that
/// name is read; the pre-session CSRF token is an HMAC of the cookie's random id under a
/// server key, so a value the client chose (or planted from a sibling host) is refused.
#[actix_web::test]
async fn pre_session_csrf_is_an_hmac_and_cookies_are_host_prefixed() {
    let mut f = start();
    assert!(f.state.config.base_url.starts_with("https://"));
    let page = f.get("/sign-in").await;
    let set: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(set.len(), 1, "{set:?}");
    let cookie = set[0];
    assert!(cookie.starts_with("__Host-saml_idp_csrf="), "{cookie}");
    for attribute in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let id = f.jar["__Host-saml_idp_csrf"].clone();
    let token = form_field(&page.body, "csrf").expect("csrf");
    assert_ne!(
        token, id,
        "the form carries an HMAC, not the cookie's value"
    );
    assert_eq!(token.len(), 64, "HMAC-SHA256, hex");

    let post = |csrf: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf),
                ("email", "ada@example.gov"),
                ("password", "wrong"),
            ])
            .finish()
    };
    // The client's own choice, as cookie and field alike (double submit is not enough).
    f.jar
        .insert("__Host-saml_idp_csrf".into(), "chosen-by-attacker".into());
    assert_eq!(
        f.post_raw("/sign-in", post("chosen-by-attacker"))
            .await
            .status,
        403
    );
    // A cookie without the prefix (set by another host of the site) is not read.
    f.jar.clear();
    f.jar.insert("saml_idp_csrf".into(), id.clone());
    assert_eq!(f.post_raw("/sign-in", post(&token)).await.status, 403);
    // The browser's own id with the page's token: the form is taken (a wrong password).
    f.jar.clear();
    f.jar.insert("__Host-saml_idp_csrf".into(), id);
    assert_eq!(f.post_raw("/sign-in", post(&token)).await.status, 401);
}
