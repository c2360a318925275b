//! Pages people can act on (SPEC 15), from the outside: the sign-in form keeps the address
//! after a wrong password and moves the focus to the password, offers "show password"
//! (its script served), the second-factor field takes backup codes on phones (no numeric
//! keyboard), the consent page says where consent is withdrawn, and the account page has its
//! navigation, buttons named with their item, destructive ones apart, and events in words in
//! every language.

use crate::common;

use common::flow::*;

#[actix_rt::test]
async fn a_wrong_password_keeps_the_address_and_focuses_the_password() {
    let mut f = start();
    let wrong = f.password("ada@example.gov", "not the password").await;
    assert_eq!(wrong.status, 401);
    let body = &wrong.body;
    assert!(body.contains("value=\"ada@example.gov\""), "{body}");
    assert!(
        body.contains("aria-describedby=\"signin-error\" aria-invalid=\"true\" autofocus"),
        "{body}"
    );
    assert!(
        body.contains("<title>The email or password is not correct."),
        "{body}"
    );
    assert!(body.contains("<p class=\"check show-password\" hidden><input id=\"show-password\" type=\"checkbox\" data-shows=\"password\">"));
    assert!(body.contains("<script src=\"/static/show-password.js\"></script>"));
    let script = f.get("/static/show-password.js").await;
    assert_eq!(script.status, 200);
    assert!(script.body.contains("data-shows"));
    // A first visit shows an empty address.
    let fresh = f.get("/sign-in").await;
    assert!(!fresh.body.contains("value=\"ada@example.gov\""));
    assert!(!fresh.body.contains("autofocus"));
}

#[actix_rt::test]
async fn the_second_factor_field_takes_backup_codes_on_phones() {
    let mut f = start();
    f.password("ada@example.gov", PASSWORD).await;
    let page = f.get("/sign-in/mfa").await;
    let field = page
        .body
        .split("<input id=\"code\"")
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .expect("the code field")
        .to_string();
    assert!(!field.contains("inputmode=\"numeric\""), "{field}");
    assert!(field.contains("autocomplete=\"one-time-code\""), "{field}");
    // A backup code typed there signs in.
    let code = f.backup[0].clone();
    let done = f.second_factor(&code, false).await;
    assert_eq!(done.status, 303, "{}", done.body);
}

#[actix_rt::test]
async fn consent_says_where_it_is_withdrawn_and_the_account_page_reads_in_words() {
    for (locale, withdraw, event_words) in [
        (
            "en",
            "You can stop sharing with this service at any time on",
            "with a code from your authentication app",
        ),
        (
            "es",
            "Puede dejar de compartir con este servicio",
            "con un código de su aplicación de autenticación",
        ),
        (
            "fr",
            "Vous pouvez cesser à tout moment de partager",
            "avec un code de votre application d’authentification",
        ),
    ] {
        let mut f = start();
        let page = f
            .request(&authn_request(SP1, "", &["urn:acr.login.gov:auth-only"]))
            .await;
        assert_eq!(page.status, 303);
        f.get(&format!("/?locale={locale}")).await;
        f.password("ada@example.gov", PASSWORD).await;
        let code = f.code();
        f.second_factor(&code, false).await;
        let consent = f.get("/consent").await;
        assert_eq!(consent.status, 200, "{}", consent.body);
        assert!(
            consent.body.contains(withdraw),
            "{locale}: {}",
            consent.body
        );
        assert!(consent.body.contains("href=\"/account?locale="), "{locale}");
        assert!(consent.body.contains("#connected\""), "{locale}");
        let csrf = f.csrf("/consent").await;
        f.post("/consent", &[("csrf", &csrf)]).await;
        f.get("/api/saml/complete").await;

        let account = f.get("/account").await;
        assert_eq!(account.status, 200, "{locale}: {}", account.body);
        let body = &account.body;
        assert!(body.contains(event_words), "{locale}: {body}");
        assert!(!body.contains("(<code>totp</code>)"), "{locale}");
        assert!(body.contains("<li><a href=\"#delete\">"), "{locale}");
        assert!(body.contains("aria-current=\"page\""), "{locale}");
        assert!(body.contains("class=\"button danger\""), "{locale}");
        // "Stop sharing with <the SP's name>".
        let sp_name = f
            .state
            .sp_cache
            .get(SP1)
            .expect("SP1")
            .friendly_name
            .clone();
        let named = format!(
            "{} {}</button>",
            saml_idp::i18n::Locale::parse(locale)
                .expect("locale")
                .t("account.revoke_named"),
            sp_name
        );
        assert!(body.contains(&named), "{locale}: {named}: {body}");
    }
}
