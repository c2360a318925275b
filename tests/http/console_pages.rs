//! The console's pages (SPEC 19) from the outside, on every backend: who gets in (signed in
//! with a second factor and a role; a security key when configured), an agency
//! administrator's view (another agency's SP is 404), every change through a form (CSRF
//! checked, the password again after 15 minutes, a stale edit refused with nothing lost,
//! each refusal shown next to its field, HTML stored as text), a new SP from pasted metadata
//! reviewed then saved, certificates added and removed with confirmation, the refused
//! requests page, and the IdP metadata page.

use crate::common;

use common::flow::*;
use saml_idp::accounts::roles::Role;
use saml_idp::registry::public_id;

const ADA: &str = "ada@example.gov";
const GSA_SP: &str = "urn:test:console:gsa-portal";
const IRS_SP: &str = "urn:test:console:irs-portal";

fn gsa() -> Role {
    Role::AgencyAdmin {
        agency: "GSA".into(),
    }
}

async fn sign_in(f: &mut Flow) {
    sign_in_directly(f, ADA).await;
}

/// Registers an SP of `agency` straight in the registry (as an operator would).
fn register(f: &Flow, issuer: &str, agency: &str) {
    let record = saml_idp::registry::SpRecord {
        issuer: issuer.into(),
        friendly_name: Some(format!("{agency} portal")),
        agency: Some(agency.into()),
        acs_urls: vec![format!("https://{}.example.gov/acs", agency.to_lowercase())],
        certs: vec![common::pem("sp1-test-only.crt")],
        active: true,
        ..Default::default()
    };
    let sp = saml_idp::registry::validate(&record, std::path::Path::new(".")).expect("valid");
    common::registry_of(&f.state).add(&sp).expect("add");
}

fn sp_path(issuer: &str) -> String {
    format!("/console/sps/{}", public_id(issuer))
}

/// The form fields of the SP page, as the browser would post them back.
fn settings(body: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for name in [
        "csrf",
        "version",
        "friendly_name",
        "agency",
        "logout_url",
        "return_to_sp_url",
        "failure_to_proof_url",
    ] {
        fields.push((name.to_string(), form_field(body, name).unwrap_or_default()));
    }
    fields.push(("active".into(), "on".into()));
    fields.push(("ial".into(), "1".into()));
    fields.push(("block_encryption".into(), "aes256-cbc".into()));
    let acs = body
        .split("name=\"acs_urls\"")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split("</textarea").next())
        .unwrap_or_default()
        .to_string();
    fields.push(("acs_urls".into(), acs));
    fields
}

fn with(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    fields.retain(|(n, _)| n != name);
    fields.push((name.into(), value.into()));
    fields
}

async fn post(f: &mut Flow, path: &str, fields: &[(String, String)]) -> Answer {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    f.post(path, &pairs).await
}

#[actix_web::test]
async fn only_signed_in_administrators_get_in_and_only_to_their_agency() {
    for (backend, mut f, _) in every_backend_recording_mail() {
        register(&f, GSA_SP, "GSA");
        register(&f, IRS_SP, "IRS");
        let anonymous = f.get("/console").await;
        assert_eq!(anonymous.status, 303, "{backend}");
        assert!(
            anonymous.location.starts_with("/sign-in"),
            "{}",
            anonymous.location
        );
        sign_in(&mut f).await;
        let no_role = f.get("/console").await;
        assert_eq!(no_role.status, 403, "{backend}: {}", no_role.body);
        assert!(no_role.body.contains("user grant"), "{}", no_role.body);

        grant_role(&f, ADA, gsa());
        let list = f.get("/console").await;
        assert_eq!(list.status, 200, "{backend}");
        assert!(
            list.body.contains(GSA_SP) && !list.body.contains(IRS_SP),
            "{}",
            list.body
        );
        assert!(
            list.body.contains("Valid until 2036-11-19"),
            "{}",
            list.body
        );
        let theirs = f.get(&sp_path(IRS_SP)).await;
        assert_eq!(
            theirs.status, 404,
            "{backend}: another agency's SP does not exist"
        );
        let events = f.get(&format!("{}/events", sp_path(IRS_SP))).await;
        assert_eq!(events.status, 404, "{backend}");
        let csrf = f.csrf(&sp_path(GSA_SP)).await;
        let posted = post(
            &mut f,
            &sp_path(IRS_SP),
            &[("csrf".into(), csrf), ("version".into(), "1".into())],
        )
        .await;
        assert_eq!(posted.status, 404, "{backend}");
        let metadata = f.get("/console/metadata").await;
        assert_eq!(metadata.status, 200);
        assert!(
            metadata.body.contains("/api/saml/metadata2026"),
            "{}",
            metadata.body
        );
        // In Spanish and French too.
        let es = f.get("/console?locale=es").await;
        assert!(es.body.contains("Proveedores de servicios"), "{}", es.body);
        let fr = f.get(&format!("{}?locale=fr", sp_path(GSA_SP))).await;
        assert!(
            fr.body.contains("Enregistrer les modifications"),
            "{}",
            fr.body
        );
    }
}

#[actix_web::test]
async fn a_security_key_can_be_required() {
    let mut f = start_configured(common::sqlite_db(), common::now(), |c| {
        c.console_requires_security_key = true;
    });
    grant_role(&f, ADA, Role::Admin);
    sign_in(&mut f).await;
    let page = f.get("/console").await;
    assert_eq!(page.status, 403, "TOTP is not a security key");
    assert!(page.body.contains("Security key needed"), "{}", page.body);
}

#[actix_web::test]
async fn edits_are_checked_escaped_versioned_and_reauthenticated() {
    for (backend, mut f, mailer) in every_backend_recording_mail() {
        register(&f, GSA_SP, "GSA");
        grant_role(&f, ADA, gsa());
        sign_in(&mut f).await;
        let path = sp_path(GSA_SP);
        let page = f.get(&path).await;
        assert_eq!(page.status, 200, "{backend}");
        let fields = settings(&page.body);

        // Without the CSRF token: 403, nothing changed.
        let forged = with(fields.clone(), "csrf", "forged");
        let forged = with(forged, "friendly_name", "Forged");
        assert_eq!(post(&mut f, &path, &forged).await.status, 403, "{backend}");

        // HTML in a field is stored as text and shown escaped.
        let named = with(
            fields.clone(),
            "friendly_name",
            "<script>alert(1)</script> Portal",
        );
        let saved = post(&mut f, &path, &named).await;
        assert_eq!(saved.status, 303, "{backend}: {}", saved.body);
        assert!(saved.location.contains("done=saved"), "{}", saved.location);
        let page = f.get(&saved.location).await;
        assert!(
            page.body.contains("Your changes were saved"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("<script>alert(1)"), "escaped");
        assert!(page
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt; Portal"));
        let stored = common::registry_of(&f.state)
            .find(GSA_SP)
            .expect("find")
            .expect("sp");
        assert_eq!(stored.friendly_name, "<script>alert(1)</script> Portal");

        // A second administrator who opened version 1: refused, the first change kept.
        let stale = with(fields.clone(), "friendly_name", "Stale edit");
        let refused = post(&mut f, &path, &stale).await;
        assert_eq!(refused.status, 409, "{backend}: {}", refused.body);
        assert!(refused
            .body
            .contains("changed this service provider after you opened it"));
        assert!(
            refused.body.contains("&lt;script&gt;"),
            "the current version is shown"
        );

        // A field error is shown next to its field, which is marked invalid.
        let current = settings(&refused.body);
        let relative = with(current.clone(), "acs_urls", "/relative/acs");
        let invalid = post(&mut f, &path, &relative).await;
        assert_eq!(invalid.status, 422, "{backend}");
        assert!(
            invalid.body.contains("id=\"acs_urls-error\""),
            "{}",
            invalid.body
        );
        assert!(invalid.body.contains("aria-invalid=\"true\""));
        assert!(
            invalid.body.contains("/relative/acs"),
            "what was typed is kept"
        );
        let http = with(current.clone(), "agency", "IRS");
        assert_eq!(
            post(&mut f, &path, &http).await.status,
            422,
            "{backend}: another agency"
        );

        // After 15 minutes, a change asks for the password first and then comes back.
        // (The session stays alive while it is used; the password is 16 minutes old.)
        f.tick(8 * 60);
        assert_eq!(f.get(&path).await.status, 200);
        f.tick(8 * 60);
        let late = with(current.clone(), "friendly_name", "Late");
        let asked = post(&mut f, &path, &late).await;
        assert_eq!(asked.status, 303, "{backend}");
        assert!(
            asked.location.starts_with("/account/reauthenticate"),
            "{}",
            asked.location
        );
        let reauth_page = f.get(&asked.location).await;
        let csrf = form_field(&reauth_page.body, "csrf").expect("csrf");
        let next = form_field(&reauth_page.body, "next").expect("next");
        assert_eq!(next, path);
        let back = f
            .post(
                "/account/reauthenticate",
                &[("csrf", &csrf), ("password", PASSWORD), ("next", &next)],
            )
            .await;
        assert_eq!(back.location, format!("{path}?locale=en"), "{backend}");
        let evil = f
            .post(
                "/account/reauthenticate",
                &[
                    ("csrf", &csrf),
                    ("password", PASSWORD),
                    ("next", "//evil.example/console"),
                ],
            )
            .await;
        assert_eq!(evil.location, "/account?locale=en", "never another site");
        let saved = post(&mut f, &path, &late).await;
        assert_eq!(saved.status, 303, "{backend}: {}", saved.body);

        let notices = mailer
            .sent()
            .into_iter()
            .filter(|s| matches!(s.mail, saml_idp::mail::Mail::SpChanged { .. }))
            .count();
        assert_eq!(notices, 2, "{backend}: one notice per saved change");
    }
}

#[actix_web::test]
async fn a_new_sp_from_pasted_metadata_is_reviewed_then_saved_and_its_certificates_rotated() {
    for (backend, mut f, _) in every_backend_recording_mail() {
        grant_role(&f, ADA, gsa());
        sign_in(&mut f).await;
        let csrf = f.csrf("/console/new").await;
        let metadata = std::fs::read_to_string(common::root().join("metadata/example-sp.xml"))
            .expect("metadata");
        let reviewed = f
            .post(
                "/console/new/metadata",
                &[("csrf", &csrf), ("metadata", &metadata)],
            )
            .await;
        assert_eq!(reviewed.status, 200, "{backend}: {}", reviewed.body);
        assert!(
            reviewed.body.contains("Review every field"),
            "{}",
            reviewed.body
        );
        let issuer = form_field(&reviewed.body, "issuer").expect("issuer prefilled");
        assert!(!issuer.is_empty());
        assert_eq!(
            common::registry_of(&f.state)
                .list()
                .expect("list")
                .iter()
                .filter(|sp| sp.issuer == issuer)
                .count(),
            0,
            "nothing saved yet"
        );

        for (bad, word) in [
            ("<!DOCTYPE x [<!ENTITY a \"b\">]><x/>", "DOCTYPE"),
            ("<md:EntityDescriptor", "not acceptable XML"),
        ] {
            let refused = f
                .post(
                    "/console/new/metadata",
                    &[("csrf", &csrf), ("metadata", bad)],
                )
                .await;
            assert_eq!(refused.status, 422, "{backend} {bad}");
            assert!(
                refused.body.contains("id=\"metadata-error\""),
                "{}",
                refused.body
            );
            let _ = word;
        }

        // Saving what was reviewed (the agency is the administrator's own).
        let mut fields = settings(&reviewed.body);
        fields.push(("issuer".into(), issuer.clone()));
        let certs = reviewed
            .body
            .split("name=\"certs\"")
            .nth(1)
            .and_then(|rest| rest.split('>').nth(1))
            .and_then(|rest| rest.split("</textarea").next())
            .unwrap_or_default()
            .to_string();
        fields.push(("certs".into(), certs));
        let created = post(&mut f, "/console/new", &fields).await;
        assert_eq!(created.status, 303, "{backend}: {}", created.body);
        let path = sp_path(&issuer);
        assert!(created.location.starts_with(&path), "{}", created.location);
        let stored = common::registry_of(&f.state)
            .find(&issuer)
            .expect("find")
            .expect("created");
        assert_eq!(stored.agency.as_deref(), Some("GSA"));

        // A private key pasted by mistake is refused and not repeated.
        let page = f.get(&path).await;
        let csrf = form_field(&page.body, "csrf").expect("csrf");
        let version = form_field(&page.body, "version").expect("version");
        let key = common::pem("sp1-test-only.key");
        let refused = f
            .post(
                &format!("{path}/certificates"),
                &[("csrf", &csrf), ("version", &version), ("pem", &key)],
            )
            .await;
        assert_eq!(refused.status, 422, "{backend}");
        assert!(refused.body.contains("private key"), "{}", refused.body);
        assert!(!refused.body.contains(key.lines().nth(1).expect("line")));

        // Two certificates at once (rotation), then one removed after confirmation.
        let two = format!(
            "{}\n{}",
            common::pem("sp2-test-only.crt"),
            common::pem("sp1-second-test-only.crt")
        );
        let added = f
            .post(
                &format!("{path}/certificates"),
                &[("csrf", &csrf), ("version", &version), ("pem", &two)],
            )
            .await;
        assert_eq!(added.status, 303, "{backend}: {}", added.body);
        let page = f.get(&added.location).await;
        let count = |body: &str| body.matches("/remove?locale=").count();
        let before = count(&page.body);
        let stored = common::registry_of(&f.state)
            .find(&issuer)
            .expect("find")
            .expect("sp");
        let sha = stored.certs[0].sha256_fingerprint();
        let confirm = f.get(&format!("{path}/certificates/{sha}/remove")).await;
        assert_eq!(confirm.status, 200, "{backend}");
        assert!(confirm.body.contains(sha), "the page names the certificate");
        let csrf = form_field(&confirm.body, "csrf").expect("csrf");
        let version = form_field(&confirm.body, "version").expect("version");
        let removed = f
            .post(
                &format!("{path}/certificates/{sha}/remove"),
                &[("csrf", &csrf), ("version", &version)],
            )
            .await;
        assert_eq!(removed.status, 303, "{backend}: {}", removed.body);
        let page = f.get(&removed.location).await;
        assert_eq!(count(&page.body), before - 1, "{backend}");
        assert!(page.body.contains("The certificate was removed"));
    }
}

#[actix_web::test]
async fn refused_requests_are_shown_with_help_and_no_personal_data() {
    let mut f = start();
    grant_role(&f, ADA, Role::Admin);
    let wrong = authn_request(
        SP1,
        r#"AssertionConsumerServiceURL="https://evil.example/acs""#,
        &["urn:acr.login.gov:auth-only"],
    );
    assert_eq!(f.request(&wrong).await.status, 400);
    sign_in(&mut f).await;
    let page = f.get(&format!("{}/events", sp_path(SP1))).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("acs_url_not_registered"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("SAML Auth Request, HTTP-Redirect"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("/help/errors?locale=en#acs_url_not_registered"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/tools/saml-request"));
    assert!(!page.body.contains(ADA));
}

#[actix_web::test]
async fn an_sp_removed_meanwhile_gets_a_clear_page_and_nothing_is_written() {
    let mut f = start();
    register(&f, GSA_SP, "GSA");
    grant_role(&f, ADA, gsa());
    sign_in(&mut f).await;
    let path = sp_path(GSA_SP);
    let page = f.get(&path).await;
    let fields = with(settings(&page.body), "friendly_name", "Renamed");
    common::registry_of(&f.state)
        .remove(GSA_SP)
        .expect("removed by someone else");
    let saved = post(&mut f, &path, &fields).await;
    assert_eq!(saved.status, 404, "{}", saved.body);
    assert!(
        saved.body.contains("Service provider not found"),
        "{}",
        saved.body
    );
    assert!(saved.body.contains("href=\"/console\""), "{}", saved.body);
    assert!(common::registry_of(&f.state)
        .find(GSA_SP)
        .expect("find")
        .is_none());
}
