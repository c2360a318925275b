//! Composition: a [`Mail`] in a locale becomes a subject, a plain-text body and an HTML body.
//! The words come from the `mail.*` keys of the page catalogues (`locales/*.toml`, so the
//! completeness test covers them); the layout from `templates/mail/message.{txt,html}`,
//! compiled into the binary. HTML values are escaped; a link is shown as a link and as its
//! raw address. Messages carry the links they are given and nothing secret of their own.

use std::sync::LazyLock;

use serde::Serialize;
use tera::{Context, Tera};

use super::{Mail, MailError};
use crate::i18n::Locale;

/// A message ready to be put in an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The language actually used (`en` for an unknown locale).
    pub lang: &'static str,
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "message.txt",
        include_str!("../../templates/mail/message.txt"),
    ),
    (
        "message.html",
        include_str!("../../templates/mail/message.html"),
    ),
];

/// Compiled once; a unit test renders every message, so a broken template fails the tests.
static TERA: LazyLock<Result<Tera, String>> = LazyLock::new(|| {
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.set_escape_fn(escape_html);
    tera.add_raw_templates(TEMPLATES.iter().copied())
        .map(|()| tera)
        .map_err(|e| e.to_string())
});

/// HTML escaping for text and double-quoted attribute values. Unlike tera's default it
/// leaves `/` alone, so the links stay readable in the HTML source of the message.
fn escape_html(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(Serialize)]
struct Link<'a> {
    text: String,
    url: &'a str,
}

/// Which catalogue keys a message uses (`mail.{prefix}.*`), its links with the key of each
/// link's text, the change it announces or the key of a detail line (with its `{until}`),
/// and the notes after the links.
struct Shape<'a> {
    prefix: &'static str,
    links: Vec<(&'static str, &'a str)>,
    change: Option<super::Change>,
    /// A detail line's key and the values of its placeholders.
    detail: Option<(&'static str, Vec<(&'static str, &'a str)>)>,
    notes: &'static [&'static str],
}

fn shape(mail: &Mail) -> Shape<'_> {
    let link_mail = |prefix, links| Shape {
        prefix,
        links,
        change: None,
        detail: None,
        notes: &["validity", "ignore"],
    };
    match mail {
        Mail::ConfirmEmail { link } => link_mail("confirm_email", vec![("action", link.as_str())]),
        Mail::AccountExists {
            sign_in_link,
            reset_link,
        } => link_mail(
            "account_exists",
            vec![
                ("sign_in", sign_in_link.as_str()),
                ("reset", reset_link.as_str()),
            ],
        ),
        Mail::ResetPassword { link } => {
            link_mail("reset_password", vec![("action", link.as_str())])
        }
        Mail::ConfirmNewEmail { link } => {
            link_mail("confirm_new_email", vec![("action", link.as_str())])
        }
        Mail::AccountChanged { change } => Shape {
            prefix: "account_changed",
            links: Vec::new(),
            change: Some(*change),
            detail: None,
            notes: &["not_you"],
        },
        Mail::AccountLocked { until, reset_link } => Shape {
            prefix: "account_locked",
            links: vec![("reset", reset_link.as_str())],
            change: None,
            detail: Some(match until {
                Some(until) => ("account_locked.until", vec![("{until}", until.as_str())]),
                None => ("account_locked.until_reset", Vec::new()),
            }),
            notes: &["not_you"],
        },
        Mail::NoAccount => notice("no_account", &["ignore"]),
        Mail::EmailInUse => notice("email_in_use", &["ignore"]),
        Mail::AddressRemoved => notice("address_removed", &["not_you"]),
        Mail::SpChanged {
            sp,
            actor,
            fields,
            link,
        } => Shape {
            prefix: "sp_changed",
            links: vec![("view", link.as_str())],
            change: None,
            detail: Some((
                "sp_changed.detail",
                vec![("{sp}", sp), ("{actor}", actor), ("{fields}", fields)],
            )),
            notes: &["why"],
        },
    }
}

/// A message without links: its intro and its notes.
fn notice(prefix: &'static str, notes: &'static [&'static str]) -> Shape<'static> {
    Shape {
        prefix,
        links: Vec::new(),
        change: None,
        detail: None,
        notes,
    }
}

/// `mail` in `locale` (`en`, `es`, `fr`, or a tag such as `es-MX`; anything else is English),
/// naming `product` (the organization's display name).
pub fn compose(mail: &Mail, locale: &str, product: &str) -> Result<Composed, MailError> {
    let locale = Locale::parse(locale).unwrap_or(Locale::En);
    let t = |key: &str| {
        locale
            .t(&format!("mail.{key}"))
            .replace("{product}", product)
    };
    let shape = shape(mail);
    let prefix = shape.prefix;
    let change = shape
        .change
        .map(|change| t(&format!("change.{}", change.as_str())));
    let detail = shape.detail.map(|(key, values)| {
        values
            .into_iter()
            .fold(t(key), |line, (placeholder, value)| {
                line.replace(placeholder, value)
            })
    });
    let extra: Vec<String> = change.into_iter().chain(detail).collect();
    let (links, notes) = (shape.links, shape.notes);
    let subject = t(&format!("{prefix}.subject"));
    let links: Vec<Link<'_>> = links
        .into_iter()
        .map(|(key, url)| Link {
            text: t(&format!("{prefix}.{key}")),
            url,
        })
        .collect();
    let notes: Vec<String> = notes
        .iter()
        .map(|key| t(&format!("{prefix}.{key}")))
        .collect();
    let mut context = Context::new();
    context.insert("lang", locale.code());
    context.insert("subject", &subject);
    context.insert("intro", &t(&format!("{prefix}.intro")));
    context.insert("extra", &extra);
    context.insert("links", &links);
    context.insert("notes", &notes);
    context.insert("copy_link", &t("copy_link"));
    context.insert("footer", &t("footer"));
    Ok(Composed {
        text: render("message.txt", &context)?,
        html: render("message.html", &context)?,
        subject,
        lang: locale.code(),
    })
}

fn render(name: &str, context: &Context) -> Result<String, MailError> {
    let tera = TERA
        .as_ref()
        .map_err(|e| MailError::Unavailable(format!("the mail templates do not compile: {e}")))?;
    tera.render(name, context)
        .map_err(|e| MailError::Unavailable(format!("the mail template {name} failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Change;

    const CHANGES: &[Change] = &[
        Change::PasswordChanged,
        Change::PasswordReset,
        Change::EmailAdded,
        Change::EmailRemoved,
        Change::EmailForSpChanged,
        Change::TotpAdded,
        Change::TotpRemoved,
        Change::SecurityKeyAdded,
        Change::SecurityKeyRemoved,
        Change::BackupCodesRegenerated,
        Change::ConsentRevoked,
        Change::SignedOutEverywhere,
        Change::AccountDeleted,
    ];

    fn every_mail() -> Vec<Mail> {
        let mut mails = vec![
            Mail::ConfirmEmail {
                link: "https://idp.example.gov/sign_up/confirm?token=abc".into(),
            },
            Mail::AccountExists {
                sign_in_link: "https://idp.example.gov/".into(),
                reset_link: "https://idp.example.gov/reset?token=def".into(),
            },
            Mail::ResetPassword {
                link: "https://idp.example.gov/reset?token=ghi".into(),
            },
            Mail::ConfirmNewEmail {
                link: "https://idp.example.gov/account/email/confirm?token=jkl".into(),
            },
        ];
        mails.extend(
            CHANGES
                .iter()
                .map(|&change| Mail::AccountChanged { change }),
        );
        for until in [Some("2026-03-15 13:10 UTC".to_string()), None] {
            mails.push(Mail::AccountLocked {
                until,
                reset_link: "https://idp.example.gov/forgot-password".into(),
            });
        }
        mails.extend([Mail::NoAccount, Mail::EmailInUse, Mail::AddressRemoved]);
        mails.push(Mail::SpChanged {
            sp: "Tax <Filing> (urn:gov:tax)".into(),
            actor: "user 5b8f…".into(),
            fields: "acs_urls, certs".into(),
            link: "https://idp.example.gov/console/sps/dXJu".into(),
        });
        mails
    }

    /// Every message in every language: product named, links in both bodies, nothing left
    /// untranslated and no raw placeholder.
    #[test]
    fn every_message_renders_in_every_language() {
        for locale in ["en", "es", "fr"] {
            for mail in every_mail() {
                let c = compose(&mail, locale, "Example ID").expect("composes");
                assert_eq!(c.lang, locale);
                for part in [&c.subject, &c.text, &c.html] {
                    assert!(part.contains("Example ID"), "{locale} {mail:?}: {part}");
                    assert!(!part.contains("{product}"), "{locale} {mail:?}");
                }
                // a key missing from the catalogue would leave an empty element
                assert!(!c.subject.trim().is_empty());
                assert!(!c.html.contains("<p></p>") && !c.html.contains("\"></a>"));
                assert!(!c.html.contains("<strong></strong>"), "{locale} {mail:?}");
                assert!(c.html.contains(&format!("<html lang=\"{locale}\">")));
                let links: Vec<&str> = match &mail {
                    Mail::ConfirmEmail { link }
                    | Mail::ResetPassword { link }
                    | Mail::ConfirmNewEmail { link } => vec![link],
                    Mail::AccountExists {
                        sign_in_link,
                        reset_link,
                    } => vec![sign_in_link, reset_link],
                    Mail::AccountLocked { reset_link, .. } => vec![reset_link],
                    Mail::SpChanged { link, .. } => vec![link],
                    Mail::AccountChanged { .. }
                    | Mail::NoAccount
                    | Mail::EmailInUse
                    | Mail::AddressRemoved => vec![],
                };
                for link in links {
                    assert!(c.text.contains(link), "{locale} {mail:?}");
                    assert!(c.html.contains(&format!("<a href=\"{link}\"")));
                }
            }
        }
    }

    #[test]
    fn validity_and_reason_are_stated() {
        let link = "https://idp.example.gov/x".to_string();
        let confirm = compose(&Mail::ConfirmEmail { link: link.clone() }, "en", "P").unwrap();
        assert!(confirm.text.contains("24 hours"), "{}", confirm.text);
        assert!(confirm.text.contains("started creating a P account"));
        let reset = compose(&Mail::ResetPassword { link: link.clone() }, "fr", "P").unwrap();
        assert!(reset.text.contains("1 heure"), "{}", reset.text);
        let added = compose(&Mail::ConfirmNewEmail { link }, "es", "P").unwrap();
        assert!(added.text.contains("24 horas"), "{}", added.text);
    }

    #[test]
    fn account_changed_says_what_and_what_to_do() {
        let mail = Mail::AccountChanged {
            change: Change::SecurityKeyRemoved,
        };
        let en = compose(&mail, "en", "P").unwrap();
        assert_eq!(en.subject, "Your P account was changed");
        assert!(en.text.contains("A security key was removed."));
        assert!(en.text.contains("If this wasn't you, reset your password"));
        assert!(en.html.contains("If this wasn&#x27;t you"), "{}", en.html);
        assert!(!en.html.contains("<a "), "no link needed");
        let fr = compose(&mail, "fr", "P").unwrap();
        assert!(fr.text.contains("Une clé de sécurité a été supprimée."));
        // each change has its own phrase
        let phrases: std::collections::BTreeSet<String> = CHANGES
            .iter()
            .map(|&change| {
                compose(&Mail::AccountChanged { change }, "en", "P")
                    .unwrap()
                    .text
            })
            .collect();
        assert_eq!(phrases.len(), CHANGES.len());
    }

    #[test]
    fn unknown_locales_are_english_and_regions_are_their_language() {
        let mail = Mail::ResetPassword {
            link: "https://idp.example.gov/r".into(),
        };
        let de = compose(&mail, "de", "P").unwrap();
        assert_eq!(de.lang, "en");
        assert_eq!(de.subject, "Reset your P password");
        assert_eq!(compose(&mail, "", "P").unwrap().lang, "en");
        let mx = compose(&mail, "es-MX", "P").unwrap();
        assert_eq!(mx.subject, "Restablezca su contraseña de P");
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let link = "https://idp.example.gov/c?token=a&locale=fr\"><script>".to_string();
        let c = compose(
            &Mail::ConfirmEmail { link: link.clone() },
            "en",
            "A & B <i>",
        )
        .unwrap();
        assert!(c.text.contains(&link));
        assert!(c.html.contains(
            "href=\"https://idp.example.gov/c?token=a&amp;locale=fr&quot;&gt;&lt;script&gt;\""
        ));
        assert!(!c.html.contains("<script>"));
        assert!(!c.html.contains("<i>"));
        assert!(c.html.contains("A &amp; B &lt;i&gt;"));
        assert_eq!(c.subject, "Confirm your email address for A & B <i>");
    }
}
