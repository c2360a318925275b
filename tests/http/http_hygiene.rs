//! HTTP hygiene (SPEC 1, 3; issue 13): HEAD wherever GET works, `Allow` on every 405, 415
//! for POST bodies that are not UTF-8 forms, RelayState that is not clean UTF-8 refused, and
//! the ID hardening of incoming signatures (no `xml:id`, no namespaced `ID`).

use crate::common;

use actix_web::test::TestRequest;
use base64::Engine;

use common::flow::*;

async fn status_and_allow(f: &mut Flow, req: TestRequest) -> (u16, String) {
    let app = actix_web::test::init_service(
        actix_web::App::new().configure(saml_idp::web::configure(f.state.clone())),
    )
    .await;
    let response = actix_web::test::call_service(&app, req.to_request()).await;
    let allow = response
        .headers()
        .get("allow")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (response.status().as_u16(), allow)
}

#[actix_web::test]
async fn head_works_wherever_get_does() {
    let mut f = start();
    for path in [
        "/api/saml/metadata2026",
        "/api/saml/metadata2025",
        "/sign-in",
        "/",
        "/help/errors",
        "/healthz",
        "/static/site.css",
    ] {
        let head = f
            .send(
                TestRequest::default()
                    .method(actix_web::http::Method::HEAD)
                    .uri(path),
            )
            .await;
        // (actix's HTTP/1 writer drops the body of a HEAD answer on the wire)
        assert_eq!(head.status, 200, "HEAD {path}");
    }
    let missing = f
        .send(
            TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri("/api/saml/metadata1999"),
        )
        .await;
    assert_eq!(missing.status, 404);
}

/// Pages show secrets or belong to a session: none may be cached (SPEC 7); the static
/// assets may.
#[actix_web::test]
async fn pages_are_never_cached_and_assets_are() {
    let mut f = start();
    let xml = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
    f.sign_in_fully(&xml, false).await;
    for path in [
        "/",
        "/sign-in",
        "/sign-in/mfa",
        "/account",
        "/account/security-keys",
        "/sign-up",
        "/forgot-password",
        "/help/errors",
        "/tools/saml-request",
        "/api/saml/metadata2026",
        "/api/saml/logout2026",
        "/no-such-page",
    ] {
        let answer = f.get(path).await;
        assert_eq!(
            answer.header("cache-control"),
            "no-store",
            "{path}: {}",
            answer.status
        );
    }
    let css = f.get("/static/site.css").await;
    assert_eq!(css.header("cache-control"), "public, max-age=3600");
}

#[actix_web::test]
async fn every_405_says_what_is_allowed() {
    let mut f = start();
    use actix_web::http::Method;
    for (method, path, allow) in [
        (Method::PUT, "/api/saml/auth2026", "GET, HEAD, POST"),
        (Method::GET, "/api/saml/authpost2026", "POST"),
        (Method::GET, "/api/saml/remotelogout2026", "POST"),
        (
            Method::PUT,
            "/api/saml/logout2026",
            "GET, HEAD, POST, DELETE",
        ),
        (Method::POST, "/api/saml/metadata2026", "GET, HEAD"),
        (Method::PATCH, "/sign-in", "GET, HEAD, POST"),
        (Method::DELETE, "/consent", "GET, HEAD, POST"),
        (Method::GET, "/sign-out", "POST"),
        (Method::POST, "/", "GET, HEAD"),
    ] {
        let req = TestRequest::default().method(method.clone()).uri(path);
        assert_eq!(
            status_and_allow(&mut f, req).await,
            (405, allow.to_string()),
            "{method} {path}"
        );
    }
    let req = TestRequest::default()
        .method(Method::PUT)
        .uri("/api/saml/auth1999");
    assert_eq!(
        status_and_allow(&mut f, req).await.0,
        404,
        "a year that is not live"
    );
}

#[actix_web::test]
async fn post_bodies_must_be_utf8_forms() {
    let mut f = start();
    let xml = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
    let field = format!(
        "SAMLRequest={}",
        url::form_urlencoded::byte_serialize(
            base64::engine::general_purpose::STANDARD
                .encode(xml.as_bytes())
                .as_bytes()
        )
        .collect::<String>()
    );
    for path in [
        "/api/saml/auth2026",
        "/api/saml/authpost2026",
        "/api/saml/logout2026",
        "/api/saml/remotelogout2026",
        "/sign-in",
    ] {
        for content_type in [
            Some("text/xml"),
            Some("application/json"),
            Some("application/x-www-form-urlencoded; charset=iso-8859-1"),
            Some("multipart/form-data; boundary=x"),
            None,
        ] {
            let mut req = TestRequest::post().uri(path).set_payload(field.clone());
            if let Some(t) = content_type {
                req = req.insert_header(("Content-Type", t));
            }
            assert_eq!(f.send(req).await.status, 415, "{path} {content_type:?}");
        }
    }
    let ok = TestRequest::post()
        .uri("/api/saml/authpost2026")
        .insert_header((
            "Content-Type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        ))
        .set_payload(field.clone());
    assert_eq!(f.send(ok).await.status, 303, "a UTF-8 form is fine");
}

#[actix_web::test]
async fn relay_state_must_be_clean_utf8() {
    let mut f = start();
    let xml = authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]);
    let value: String = url::form_urlencoded::byte_serialize(
        saml_idp::saml::codec::encode_redirect(xml.as_bytes()).as_bytes(),
    )
    .collect();
    for relay in ["a%00b", "%C0%AF", "%FF%FE", "line%0Abreak"] {
        let answer = f
            .get(&format!(
                "/api/saml/auth2026?SAMLRequest={value}&RelayState={relay}"
            ))
            .await;
        assert_eq!(answer.status, 400, "{relay}");
        assert!(answer.body.contains("malformed_request"), "{relay}");
    }
    let fine = f
        .get(&format!(
            "/api/saml/auth2026?SAMLRequest={value}&RelayState=%C3%A4+ok"
        ))
        .await;
    assert_eq!(fine.status, 303);
}

/// The JSON answer's messages for a signed POST-binding request with `edit` applied.
async fn signed_request_messages(f: &mut Flow, edit: &dyn Fn(&str) -> String) -> String {
    let xml = std::fs::read_to_string(common::fixture("requests/post-signed-xmlsec1.xml"))
        .expect("fixture");
    let body = format!(
        "SAMLRequest={}",
        url::form_urlencoded::byte_serialize(
            base64::engine::general_purpose::STANDARD
                .encode(edit(&xml).as_bytes())
                .as_bytes()
        )
        .collect::<String>()
    );
    let req = TestRequest::post()
        .uri("/api/saml/authpost2026")
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .insert_header(("Accept", "application/json"))
        .set_payload(body);
    let answer = f.send(req).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    answer.body
}

#[actix_web::test]
async fn xml_id_and_namespaced_id_attributes_are_refused_before_verification() {
    let mut f = start();
    let on_issuer = |attr: &'static str| {
        move |xml: &str| xml.replacen("<saml:Issuer", &format!("<saml:Issuer {attr}"), 1)
    };
    // An ordinary extra attribute breaks only the digest: the signature does not verify.
    let control = signed_request_messages(&mut f, &on_issuer("x=\"1\"")).await;
    assert!(control.contains("no_matching_certificate"), "{control}");
    for attr in ["xml:id=\"_other\"", "xmlns:e=\"urn:evil\" e:ID=\"_other\""] {
        let body = signed_request_messages(&mut f, &on_issuer(attr)).await;
        assert!(
            body.contains("invalid_signature") && body.contains("wrong_signature_structure"),
            "{attr}: {body}"
        );
    }
}
