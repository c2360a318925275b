//! `GET /api/saml/metadata{YEAR}` through the HTTP layer, checked by independent software:
//! `xmlsec1 --verify` pinned to each year's certificate and `xmllint --schema` against the
//! OASIS SAML 2.0 metadata schema (SPEC 10).

use crate::common;

use actix_web::{test, App};

use saml_idp::web;

use common::oracles::{metadata_verifies, schema_valid, METADATA_SCHEMA};

async fn get(path: &str) -> (u16, actix_web::http::header::HeaderMap, Vec<u8>) {
    let db = common::sqlite_db();
    let app =
        test::init_service(App::new().configure(web::configure(common::app_state(&db)))).await;
    let response = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = test::read_body(response).await.to_vec();
    (status, headers, body)
}

#[actix_web::test]
async fn current_year_is_signed_by_its_own_certificate_only() {
    let (status, headers, body) = get("/api/saml/metadata2026").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").map(|v| v.as_bytes()),
        Some(&b"text/xml; charset=utf-8"[..])
    );
    assert_eq!(
        headers.get("cache-control").map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
    assert_eq!(
        headers.get("pragma").map(|v| v.as_bytes()),
        Some(&b"no-cache"[..])
    );
    assert!(metadata_verifies(
        &body,
        &common::key("idp-2026-test-only.crt")
    ));
    assert!(!metadata_verifies(
        &body,
        &common::key("idp-2025-test-only.crt")
    ));
}

#[actix_web::test]
async fn previous_year_is_signed_by_its_own_different_certificate() {
    let (status, _, body) = get("/api/saml/metadata2025").await;
    assert_eq!(status, 200);
    assert!(metadata_verifies(
        &body,
        &common::key("idp-2025-test-only.crt")
    ));
    assert!(!metadata_verifies(
        &body,
        &common::key("idp-2026-test-only.crt")
    ));
}

#[actix_web::test]
async fn metadata_validates_against_the_oasis_schema() {
    for year in ["2025", "2026"] {
        let (_, _, body) = get(&format!("/api/saml/metadata{year}")).await;
        schema_valid(&body, METADATA_SCHEMA)
            .unwrap_or_else(|e| panic!("metadata{year} invalid: {e}"));
    }
}

#[actix_web::test]
async fn metadata_names_the_year_endpoints_and_formats() {
    let (_, _, body) = get("/api/saml/metadata2026").await;
    let xml = String::from_utf8(body).expect("utf-8");
    let entity = format!("entityID=\"{}/api/saml\"", common::BASE_URL);
    assert!(xml.contains(&entity), "{xml}");
    let base = common::BASE_URL;
    for needle in [
        format!("Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{base}/api/saml/auth2026\""),
        format!("Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{base}/api/saml/auth2026\""),
        format!("Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{base}/api/saml/logout2026\""),
        format!("Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"{base}/api/saml/logout2026\""),
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>".to_string(),
        "<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>".to_string(),
        "<md:KeyDescriptor use=\"signing\">".to_string(),
        "<md:ContactPerson contactType=\"technical\">".to_string(),
    ] {
        assert!(xml.contains(&needle), "missing {needle}");
    }
    assert_eq!(
        xml.matches("<ds:Signature ").count(),
        1,
        "exactly one signature"
    );
}

#[actix_web::test]
async fn anything_but_a_live_four_digit_year_is_404_with_the_live_years() {
    for path in [
        "/api/saml/metadata1999",
        "/api/saml/metadata2024",
        "/api/saml/metadata2026.xml",
        "/api/saml/metadataabcd",
        "/api/saml/metadata02026",
        "/api/saml/metadata",
        "/api/saml/metadata%32%30%32%36x",
    ] {
        let (status, headers, body) = get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(
            headers.get("cache-control").map(|v| v.as_bytes()),
            Some(&b"no-store"[..]),
            "{path}"
        );
        // It says which metadata there is (SPEC 20).
        let body = String::from_utf8_lossy(&body).replace("&#x2F;", "/");
        assert!(body.contains("No metadata for that year"), "{path}: {body}");
        for year in ["2025", "2026"] {
            let url = format!("{}/api/saml/metadata{year}", common::BASE_URL);
            assert!(
                body.contains(&format!("<a href=\"{url}\">")),
                "{path}: {body}"
            );
        }
    }
}

#[actix_web::test]
async fn health_and_readiness_answer() {
    let (status, _, body) = get("/healthz").await;
    assert_eq!((status, body.as_slice()), (200, &b"ok\n"[..]));
    let (status, _, body) = get("/readyz").await;
    assert_eq!((status, body.as_slice()), (200, &b"ready\n"[..]));
}
