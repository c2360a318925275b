//! Error pages that carry no language of their own (404, 405, 415) speak the request's
//! language (SPEC 14): the `locale` parameter, else `Accept-Language`, else English.

use crate::common;

use actix_web::test;
use common::flow::*;

#[actix_rt::test]
async fn a_missing_page_is_explained_in_the_request_language() {
    let mut f = start();
    let fr = f.get("/no-such-page?locale=fr").await;
    assert_eq!(fr.status, 404);
    assert!(fr.body.contains("<html lang=\"fr\">"), "{}", fr.body);
    assert!(fr.body.contains("Page introuvable"), "{}", fr.body);
    assert!(fr.body.contains("Accueil"), "{}", fr.body);

    // The choice is remembered (a cookie) and wins over Accept-Language...
    f.headers = vec![("Accept-Language".into(), "es-MX,es;q=0.9".into())];
    let remembered = f.get("/api/saml/metadata1999").await;
    assert!(
        remembered.body.contains("<html lang=\"fr\">"),
        "{}",
        remembered.body
    );
    // ...which decides for a browser that chose nothing.
    f.jar.clear();
    let es = f.get("/api/saml/metadata1999").await;
    assert_eq!(es.status, 404);
    assert!(
        es.body.contains("No hay metadatos para ese año"),
        "{}",
        es.body
    );

    f.headers.clear();
    let en = f.get("/no-such-page").await;
    assert!(en.body.contains("Page not found"), "{}", en.body);
}

#[actix_rt::test]
async fn a_wrong_method_keeps_its_allow_header_in_any_language() {
    let mut f = start();
    let answer = f
        .send(test::TestRequest::put().uri("/sign-in?locale=es"))
        .await;
    assert_eq!(answer.status, 405);
    assert!(
        answer.body.contains("Método no permitido"),
        "{}",
        answer.body
    );
    let raw = test::call_service(
        &test::init_service(
            actix_web::App::new().configure(saml_idp::web::configure(f.state.clone())),
        )
        .await,
        test::TestRequest::put()
            .uri("/sign-in?locale=fr")
            .to_request(),
    )
    .await;
    let allow = raw.headers().get("allow").and_then(|v| v.to_str().ok());
    assert_eq!(allow, Some("GET, HEAD, POST"));
}

/// Every page offers the three languages, each link the same page with the other query
/// parameters kept; a choice made with `?locale=` holds on the next page (SPEC 15).
#[actix_rt::test]
async fn the_language_switcher_keeps_the_page_and_the_choice() {
    let mut f = start();
    let page = f.get("/sign-up/confirm?token=abc%2Bdef&locale=fr").await;
    assert!(page.body.contains("<html lang=\"fr\">"), "{}", page.body);
    for (code, name) in [("en", "English"), ("es", "Español"), ("fr", "Français")] {
        let link = format!("href=\"?token=abc%2Bdef&amp;locale={code}\" lang=\"{code}\"");
        assert!(page.body.contains(&link), "{link}: {}", page.body);
        assert!(page.body.contains(name));
    }
    assert!(page.body.contains("aria-current=\"true\">Français"));
    let cookie = page.header("set-cookie");
    assert!(
        cookie.contains("locale=fr") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let next = f.get("/sign-in").await;
    assert!(next.body.contains("<html lang=\"fr\">"), "{}", next.body);
    let back = f.get("/sign-in?locale=en").await;
    assert!(back.body.contains("<html lang=\"en\">"));
    assert!(f.get("/").await.body.contains("<html lang=\"en\">"));
    // The header names the organization.
    assert!(back
        .body
        .contains("<p class=\"brand\">saml-idp development identity provider</p>"));
}
