//! Outgoing email (SPEC 17), from the outside: messages written by the `outbox` transport and
//! messages received by a real SMTP server (aiosmtpd, `tests/mail/smtp_server.py`), both read
//! back with Python's email package (`tests/mail/parse_eml.py`); a server that is down or
//! silent; and the application state sending through the configured mailer.

use crate::common;

use common::mail::{eml_files, parse, part, TestSmtpServer};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use saml_idp::config::Config;
use saml_idp::idp::MetadataDocuments;
use saml_idp::ids::SequentialIds;
use saml_idp::mail::{Change, Mail, MailError, Mailer, MailerSetting, Sender};
use saml_idp::web::AppState;
use serde_json::Value;

const PRODUCT: &str = "Example ID";
const FROM: &str = "no-reply@idp.test.example.gov";
/// A link with `&`, which the HTML part must escape and the text part must not.
const RESET: &str = "https://idp.test.example.gov/reset?token=t0k3n&locale=es";
const CONFIRM: &str = "https://idp.test.example.gov/sign_up/confirm?token=c0nf&locale=fr";

fn every_mail() -> Vec<Mail> {
    vec![
        Mail::ConfirmEmail {
            link: CONFIRM.into(),
        },
        Mail::AccountExists {
            sign_in_link: "https://idp.test.example.gov/?locale=en".into(),
            reset_link: RESET.into(),
        },
        Mail::ResetPassword { link: RESET.into() },
        Mail::ConfirmNewEmail {
            link: CONFIRM.into(),
        },
        Mail::AccountChanged {
            change: Change::PasswordChanged,
        },
        Mail::AccountChanged {
            change: Change::AccountDeleted,
        },
        Mail::NoAccount,
        Mail::EmailInUse,
        Mail::AddressRemoved,
        Mail::AccountLocked {
            until: Some("2026-03-15 13:10 UTC".into()),
            reset_link: RESET.into(),
        },
        Mail::SpChanged {
            sp: "Benefits (urn:test:benefits)".into(),
            actor: "an operator (saml-idp)".into(),
            fields: "acs_urls".into(),
            link: "https://idp.test.example.gov/console/sps/dXJu?x=1&y=2".into(),
        },
    ]
}

fn links(mail: &Mail) -> Vec<&str> {
    match mail {
        Mail::ConfirmEmail { link }
        | Mail::ResetPassword { link }
        | Mail::ConfirmNewEmail { link } => {
            vec![link]
        }
        Mail::AccountExists {
            sign_in_link,
            reset_link,
        } => vec![sign_in_link, reset_link],
        Mail::AccountLocked { reset_link, .. } => vec![reset_link],
        Mail::SpChanged { link, .. } => vec![link],
        Mail::AccountChanged { .. } | Mail::NoAccount | Mail::EmailInUse | Mail::AddressRemoved => {
            Vec::new()
        }
    }
}

/// The envelope and the two bodies of a message as the IdP means it.
fn assert_well_formed(message: &Value, mail: &Mail, to: &[&str], lang: &str) {
    assert_eq!(message["defects"], serde_json::json!([]), "{message}");
    assert_eq!(message["from"], format!("{PRODUCT} <{FROM}>"));
    assert_eq!(message["to"], serde_json::json!(to));
    assert_eq!(message["date_valid"], true);
    assert_eq!(message["mime_version"], "1.0");
    assert_eq!(message["content_language"], lang);
    assert_eq!(
        message["ascii_only"], true,
        "headers and bodies are encoded"
    );
    let id = message["message_id"].as_str().expect("Message-ID");
    assert!(
        id.starts_with('<') && id.ends_with("@idp.test.example.gov>"),
        "{id}"
    );
    assert_eq!(message["content_type"], "multipart/alternative");
    let parts = message["parts"].as_array().expect("parts");
    let types: Vec<&str> = parts
        .iter()
        .map(|p| p["content_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, ["text/plain", "text/html"], "text first, then HTML");
    for p in parts {
        assert_eq!(p["charset"], "utf-8");
    }
    let text = part(message, "text/plain");
    let html = part(message, "text/html");
    assert!(text.contains(PRODUCT) && html.contains(PRODUCT));
    assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{html}");
    for link in links(mail) {
        assert!(text.contains(link), "{link} in {text}");
        let escaped = link.replace('&', "&amp;");
        assert!(
            html.contains(&format!("<a href=\"{escaped}\"")),
            "{escaped} in {html}"
        );
        assert!(!html.contains(link) || !link.contains('&'), "& is escaped");
    }
}

/// The subject a message gets in each language (checked through the parsed header, so a
/// non-ASCII subject is also checked to be properly encoded).
fn expected_subject(mail: &Mail, lang: &str) -> String {
    let (en, es, fr) = match mail {
        Mail::ConfirmEmail { .. } => (
            "Confirm your email address for",
            "Confirme su dirección de correo electrónico para",
            "Confirmez votre adresse courriel pour",
        ),
        Mail::AccountExists { .. } => (
            "You already have a {} account",
            "Ya tiene una cuenta de",
            "Vous avez déjà un compte {}",
        ),
        Mail::ResetPassword { .. } => (
            "Reset your {} password",
            "Restablezca su contraseña de",
            "Réinitialisez votre mot de passe {}",
        ),
        Mail::ConfirmNewEmail { .. } => (
            "Confirm your new email address for",
            "Confirme su nueva dirección de correo electrónico para",
            "Confirmez votre nouvelle adresse courriel pour",
        ),
        Mail::AccountChanged { .. } => (
            "Your {} account was changed",
            "Se modificó su cuenta de",
            "Votre compte {} a été modifié",
        ),
        Mail::AccountLocked { .. } => (
            "Your {} account is locked",
            "Su cuenta de {} está bloqueada",
            "Votre compte {} est verrouillé",
        ),
        Mail::NoAccount => (
            "Password reset requested for",
            "Se pidió restablecer una contraseña de",
            "Demande de réinitialisation de mot de passe",
        ),
        Mail::EmailInUse => (
            "Your email address and",
            "Su correo electrónico y",
            "Votre adresse courriel et",
        ),
        Mail::AddressRemoved => (
            "Your email address was removed from a {} account",
            "Se quitó su correo electrónico de una cuenta de",
            "Votre adresse courriel a été retirée d’un compte",
        ),
        Mail::SpChanged { .. } => (
            "A service provider of your agency changed on",
            "Cambió un proveedor de servicios de su agencia en",
            "Un fournisseur de services de votre agence a changé sur",
        ),
    };
    let pattern = match lang {
        "es" => es,
        "fr" => fr,
        _ => en,
    };
    if pattern.contains("{}") {
        pattern.replace("{}", PRODUCT)
    } else {
        format!("{pattern} {PRODUCT}")
    }
}

fn outbox_sender(dir: &Path) -> Sender {
    Sender::new(&MailerSetting::Outbox, dir.to_path_buf(), FROM, PRODUCT)
}

#[test]
fn the_outbox_holds_one_message_per_send_in_every_language() {
    let dir = tempfile::tempdir().expect("temp dir");
    let outbox = dir.path().join("outbox");
    let sender = outbox_sender(&outbox);
    let to = ["person@example.com"];
    let mut sent = Vec::new();
    for lang in ["en", "es", "fr"] {
        for mail in every_mail() {
            sender
                .send(&[to[0].to_string()], &mail, lang)
                .unwrap_or_else(|e| panic!("{lang} {mail:?}: {e}"));
            sent.push((lang, mail));
            assert_eq!(eml_files(&outbox).len(), sent.len(), "one file per message");
        }
    }
    let files = eml_files(&outbox);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().and_then(|n| n.to_str()).unwrap_or("").into())
        .collect();
    for name in &names {
        // {timestamp}-{id}.eml, e.g. 20261201T054200.123456Z-0123456789abcdef.eml
        let (stamp, id) = name
            .trim_end_matches(".eml")
            .split_once('-')
            .expect("timestamp-id");
        assert_eq!(stamp.len(), 23, "{name}");
        assert!(stamp.ends_with('Z') && &stamp[8..9] == "T", "{name}");
        assert!(!id.is_empty(), "{name}");
    }
    assert_eq!(
        std::fs::read_dir(&outbox).expect("outbox").count(),
        files.len(),
        "no temporary file is left behind"
    );
    // The names sort in sending order.
    let parsed = parse(&files);
    for ((lang, mail), message) in sent.iter().zip(&parsed) {
        assert_well_formed(message, mail, &to, lang);
        assert_eq!(message["subject"], expected_subject(mail, lang), "{lang}");
        assert_eq!(message["crlf"], true, "RFC 5322 line ends");
    }
    let changed = part(&parsed[4], "text/plain");
    assert!(changed.contains("Your password was changed."), "{changed}");
    assert!(changed.contains("If this wasn't you, reset your password"));
    let supprime = part(&parsed[2 * every_mail().len() + 5], "text/plain");
    assert!(
        supprime.contains("Votre compte a été supprimé."),
        "{supprime}"
    );
}

#[test]
fn bad_recipients_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sender = outbox_sender(dir.path());
    let mail = Mail::ResetPassword { link: RESET.into() };
    for to in [
        vec![],
        vec!["not-an-address".to_string()],
        vec!["ok@example.com".to_string(), "two@@example.com".to_string()],
        vec!["Bcc: x@example.com\r\nx@example.com".to_string()],
    ] {
        assert_eq!(
            sender.send(&to, &mail, "en"),
            Err(MailError::InvalidRecipient),
            "{to:?}"
        );
    }
    assert!(eml_files(dir.path()).is_empty());
}

#[test]
fn several_recipients_get_one_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sender = outbox_sender(dir.path());
    let to = ["first@example.com", "second@example.org"];
    let mail = Mail::AccountChanged {
        change: Change::EmailAdded,
    };
    sender
        .send(&to.map(String::from), &mail, "es-MX")
        .expect("sent");
    let parsed = parse(&eml_files(dir.path()));
    assert_eq!(parsed.len(), 1);
    assert_well_formed(&parsed[0], &mail, &to, "es");
    assert_eq!(parsed[0]["subject"], "Se modificó su cuenta de Example ID");
}

/// A sender to `server` as the IdP would build it.
fn smtp_sender(server: &TestSmtpServer, credentials: Option<(&str, &str)>) -> Sender {
    Sender::new(
        &server.setting(credentials),
        PathBuf::from("/nonexistent"),
        FROM,
        PRODUCT,
    )
}

#[test]
fn smtp_delivers_to_a_real_server() {
    let server = TestSmtpServer::start(&[]);
    let sender = smtp_sender(&server, None);
    let to = ["persona@example.com", "otra@example.org"];
    let reset = Mail::ResetPassword { link: RESET.into() };
    sender
        .send(&to.map(String::from), &reset, "es")
        .expect("sent over SMTP");
    let confirm = Mail::ConfirmEmail {
        link: CONFIRM.into(),
    };
    sender
        .send(&[to[0].to_string()], &confirm, "fr")
        .expect("sent over SMTP");
    let received = server.received();
    assert_eq!(received.len(), 2, "the server answered 250 after writing");
    let (envelope, message) = &received[0];
    assert_eq!(envelope["mail_from"], FROM);
    assert_eq!(envelope["rcpt_tos"], serde_json::json!(to));
    assert_eq!(envelope["login"], Value::Null);
    assert_well_formed(message, &reset, &to, "es");
    assert_eq!(
        message["subject"],
        "Restablezca su contraseña de Example ID"
    );
    assert!(part(message, "text/plain").contains("1 hora"));
    let (envelope, message) = &received[1];
    assert_eq!(envelope["rcpt_tos"], serde_json::json!([to[0]]));
    assert_well_formed(message, &confirm, &[to[0]], "fr");
    assert_eq!(
        message["subject"],
        "Confirmez votre adresse courriel pour Example ID"
    );
}

#[test]
fn smtp_authenticates_with_the_credentials_of_the_url() {
    let server = TestSmtpServer::start(&["--auth", "mailer@idp:s3cr3t pass"]);
    let mail = Mail::AccountChanged {
        change: Change::TotpAdded,
    };
    let to = ["someone@example.com".to_string()];
    // The URL form, percent-encoded, as an operator writes it.
    let setting: MailerSetting = format!(
        "smtp://mailer%40idp:s3cr3t%20pass@127.0.0.1:{}",
        server.port
    )
    .parse()
    .expect("URL");
    let sender = Sender::new(&setting, PathBuf::from("/nonexistent"), FROM, PRODUCT);
    sender.send(&to, &mail, "en").expect("sent with AUTH");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0["login"], "mailer@idp");
    assert_eq!(
        received[0].1["subject"],
        "Your Example ID account was changed"
    );

    for credentials in [None, Some(("mailer@idp", "wrong-password"))] {
        let err = smtp_sender(&server, credentials)
            .send(&to, &mail, "en")
            .expect_err("refused");
        let MailError::Unavailable(reason) = &err else {
            panic!("{err:?}")
        };
        for secret in ["mailer@idp", "wrong-password", "someone@example.com"] {
            assert!(!reason.contains(secret), "{reason}");
        }
        assert!(reason.contains("refused"), "{reason}");
    }
    assert_eq!(server.received().len(), 1, "nothing more was delivered");
}

#[test]
fn a_refused_recipient_is_unavailable_without_naming_the_address() {
    let server = TestSmtpServer::start(&["--reject", "nobody"]);
    let err = smtp_sender(&server, None)
        .send(
            &["nobody@example.com".to_string()],
            &Mail::ResetPassword { link: RESET.into() },
            "en",
        )
        .expect_err("refused");
    let MailError::Unavailable(reason) = &err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("550"), "{reason}");
    assert!(!reason.contains("nobody"), "{reason}");
    assert!(!err.to_string().contains('@'), "{err}");
    assert!(server.received().is_empty());
}

fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn a_server_that_is_down_is_unavailable_at_once() {
    let port = unused_port();
    let setting: MailerSetting = format!("smtp://alice:pw-secret@127.0.0.1:{port}")
        .parse()
        .expect("URL");
    let sender = Sender::new(&setting, PathBuf::from("/nonexistent"), FROM, PRODUCT);
    let started = Instant::now();
    let err = sender
        .send(
            &["person@example.com".to_string()],
            &Mail::ConfirmEmail {
                link: CONFIRM.into(),
            },
            "en",
        )
        .expect_err("nobody listens");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "within the timeout"
    );
    assert_eq!(
        err,
        MailError::Unavailable("cannot connect to the SMTP server".into())
    );
    for secret in ["person@example.com", "alice", "pw-secret"] {
        assert!(!err.to_string().contains(secret), "{err}");
    }
}

#[test]
fn a_server_that_never_answers_times_out() {
    // Connections are accepted by the kernel but nobody ever sends a greeting.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let setting: MailerSetting = format!("smtp://127.0.0.1:{port}").parse().expect("URL");
    let sender = Sender::new(&setting, PathBuf::from("/nonexistent"), FROM, PRODUCT);
    let started = Instant::now();
    let err = sender
        .send(
            &["person@example.com".to_string()],
            &Mail::AccountChanged {
                change: Change::PasswordReset,
            },
            "en",
        )
        .expect_err("silent server");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(9) && elapsed < Duration::from_secs(20),
        "{elapsed:?}"
    );
    assert_eq!(
        err,
        MailError::Unavailable("the SMTP server did not answer in time".into())
    );
    drop(listener);
}

/// The state the server builds queues what the use cases send through `Deps`, and its worker
/// delivers it through the configured mailer: by default the outbox under `data_dir`.
#[test]
fn the_application_state_sends_through_the_configured_outbox() {
    for (backend, db) in common::every_backend() {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config: Config = common::config(&db.url);
        config.data_dir = data_dir.path().to_path_buf();
        assert_eq!(config.mailer, MailerSetting::Outbox);
        assert_eq!(config.mail_from, FROM, "no-reply@ the host of base_url");
        let keys = common::key_ring();
        let metadata =
            MetadataDocuments::build(&config, &keys, &SequentialIds::default()).expect("metadata");
        let sp_cache = Arc::new(saml_idp::idp::SpCache::new(common::registry(&db)));
        let state = AppState::build(
            Arc::new(config),
            Arc::new(keys),
            Arc::new(metadata),
            sp_cache,
            saml_idp::store::compose(&db.db, common::clock()),
            common::clock(),
            Arc::new(SequentialIds::default()),
            common::account_crypto(),
        );
        let mail = Mail::ConfirmNewEmail {
            link: CONFIRM.into(),
        };
        state
            .deps()
            .mailer
            .send(&["new@example.com".to_string()], &mail, "fr")
            .expect("queued");
        let outbox = data_dir.path().join("outbox");
        assert!(eml_files(&outbox).is_empty(), "{backend}: queued, not sent");
        let round = state.mail_worker.run_once().expect("round");
        assert_eq!(round.sent, 1, "{backend}");
        let files = eml_files(&outbox);
        assert_eq!(files.len(), 1, "{backend}");
        let parsed = parse(&files);
        assert_eq!(
            parsed[0]["from"],
            "saml-idp development identity provider <no-reply@idp.test.example.gov>",
            "{backend}: the organization's display name"
        );
        assert_eq!(
            parsed[0]["subject"],
            "Confirmez votre nouvelle adresse courriel pour saml-idp development identity provider"
        );
    }
}
