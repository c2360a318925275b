//! Every page template in `templates/`, rendered with the context its handler builds: the
//! page's own content comes out, hostile values come out escaped, and a template that has
//! no context here fails the test by name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::json;
use tera::Context;

use super::*;
use crate::idp::intake::catalogue::IntakeCode;
use crate::web::i18n::Locale;
use crate::web::pages::Translations;

mod account_cases;
mod console_cases;
mod demo_cases;

const SCRIPT: &str = "<script>alert(1)</script>";
const BREAKOUT: &str = "\"><img src=x>";

/// A value someone outside the IdP chose (an SP's name, a RelayState, a request's detail).
fn hostile(what: &str) -> String {
    format!("{what} {SCRIPT} {BREAKOUT}")
}

/// As tera writes a value into the page (it also escapes `/`).
fn esc(value: &str) -> String {
    tera::escape_html(value)
}

const EN: Locale = Locale::En;
const CSRF: &str = "csrf-token-1";
const CANCEL: &str = "/cancel?locale=en";

/// One rendering of a template and what its page must show.
struct Case {
    label: &'static str,
    context: Context,
    expect: Vec<String>,
}

/// What `render::page_context` gives every flow page; `pending` adds the SP being signed in to
/// (its name is set by whoever registered it) and the Cancel link.
fn flow_context(title_key: &str, pending: bool) -> Context {
    let mut context = Context::new();
    context.insert("lang", EN.code());
    context.insert("locale", EN.code());
    context.insert("title", EN.t(title_key));
    context.insert("t", &Translations(EN));
    if pending {
        context.insert("sp_name", &hostile("Agency"));
        context.insert("cancel_url", CANCEL);
    }
    context
}

fn sp_and_cancel() -> Vec<String> {
    vec![
        format!("<strong>{}</strong>", esc(&hostile("Agency"))),
        format!("href=\"{}\"", esc(CANCEL)),
        EN.t("signin.cancel").into(),
    ]
}

/// The contexts of each page template; `None` for a template nobody wrote cases for.
fn cases(template: &str) -> Option<Vec<Case>> {
    Some(match template {
        "consent.html" => consent(),
        "error.html" => error(),
        "help_errors.html" => help_errors(),
        "index.html" => index(),
        "demo_sp.html" => demo_cases::demo_sp(),
        "sign_out.html" => sign_out(),
        "message.html" => message(),
        "mfa.html" => mfa(),
        "post_form.html" => post_form(),
        "saml_error.html" => saml_error(),
        "security_keys.html" => security_keys(),
        "sign_in.html" => sign_in(),
        "tools_saml_request.html" => tools_saml_request(),
        "account.html" => account_cases::account(),
        "reauthenticate.html" => account_cases::reauthenticate(),
        "confirm_email.html" => account_cases::confirm_email(),
        "sign_up.html" => sign_up(),
        "new_password.html" => new_password(),
        "totp_setup.html" => totp_setup(),
        "sign_up_security_key.html" => sign_up_security_key(),
        "backup_codes.html" => backup_codes(),
        "forgot_password.html" => forgot_password(),
        "console_list.html" => console_cases::list(),
        "console_sp.html" => console_cases::sp(),
        "console_new.html" => console_cases::new_sp(),
        "console_remove_cert.html" => console_cases::remove_cert(),
        "console_refused.html" => console_cases::refused(),
        "console_events.html" => console_cases::events(),
        "console_metadata.html" => console_cases::metadata(),
        _ => return None,
    })
}

/// `sign_up::email_page`, from an SP's flow, after an invalid address.
fn sign_up() -> Vec<Case> {
    let mut context = flow_context("signup.title", true);
    context.insert("csrf", CSRF);
    context.insert("error", EN.t("signup.invalid_email"));
    let mut expect = vec![
        EN.t("signup.intro").to_string(),
        "action=\"/sign-up?locale=en\"".into(),
        format!("name=\"csrf\" value=\"{CSRF}\""),
        "aria-describedby=\"email-error\"".into(),
        EN.t("signup.invalid_email").into(),
        "href=\"/sign-in?locale=en\"".into(),
    ];
    expect.extend(sp_and_cancel());
    vec![Case {
        label: "sign_up",
        context,
        expect,
    }]
}

/// `sign_up::password_page` and `recovery::password_page`: the token travels in the form.
fn new_password() -> Vec<Case> {
    [
        ("/sign-up/confirm", "signup.password_title"),
        ("/reset-password", "recovery.password_title"),
    ]
    .into_iter()
    .map(|(action, title)| {
        let mut context = flow_context(title, false);
        context.insert("csrf", CSRF);
        context.insert("token", &hostile("token"));
        context.insert("action", action);
        context.insert("error", EN.t("password.common"));
        Case {
            label: "new_password",
            context,
            expect: vec![
                format!("<h1>{}</h1>", EN.t(title)),
                format!("action=\"{}?locale=en\"", esc(action)),
                format!("name=\"token\" value=\"{}\"", esc(&hostile("token"))),
                "autocomplete=\"new-password\"".into(),
                EN.t("password.rules").into(),
                EN.t("password.common").into(),
            ],
        }
    })
    .collect()
}

/// `sign_up::totp_page`: the QR code is markup the IdP drew; the secret is text.
fn totp_setup() -> Vec<Case> {
    let mut context = flow_context("totp_setup.title", true);
    context.insert("csrf", CSRF);
    context.insert("action", "/sign-up/totp");
    context.insert("secret", "JBSW Y3DP");
    context.insert("qr_svg", "<svg class=\"qr\"></svg>");
    let mut expect = vec![
        "<svg class=\"qr\"></svg>".to_string(),
        "<code class=\"secret\">JBSW Y3DP</code>".into(),
        format!("action=\"{}?locale=en\"", esc("/sign-up/totp")),
        "autocomplete=\"one-time-code\"".into(),
    ];
    expect.extend(sp_and_cancel());
    vec![Case {
        label: "totp_setup",
        context,
        expect,
    }]
}

/// `sign_up::key_page`, from an SP's flow, after a refused key; and where keys cannot work.
fn sign_up_security_key() -> Vec<Case> {
    let base = |available: bool| {
        let mut context = flow_context("signup_key.title", true);
        context.insert("csrf", CSRF);
        context.insert("available", &available);
        context
    };
    let mut refused = base(true);
    refused.insert("error", EN.t("keys.refused"));
    let mut expect = vec![
        EN.t("signup_key.intro").to_string(),
        EN.t("keys.refused").into(),
        "data-webauthn=\"create\"".into(),
        "data-options=\"/sign-up/security-key/options?locale=en\"".into(),
        format!("name=\"csrf\" value=\"{CSRF}\""),
        "<label for=\"key-name\">".into(),
        "<script src=\"/static/webauthn.js\"></script>".into(),
        "href=\"/sign-up/second-factor?locale=en\"".into(),
    ];
    expect.extend(sp_and_cancel());
    vec![
        Case {
            label: "sign-up key, refused",
            context: refused,
            expect,
        },
        Case {
            label: "sign-up key, unavailable",
            context: base(false),
            expect: vec![EN.t("keys.unavailable").to_string()],
        },
    ]
}

/// `sign_up::totp_submit` once the account exists.
fn backup_codes() -> Vec<Case> {
    let mut context = flow_context("backup_codes.title", false);
    // The codes are the IdP's own; a hostile one still checks the page escapes them.
    context.insert("codes", &["abcd-efgh-ijkl".to_string(), hostile("code")]);
    context.insert("next", "/api/saml/complete?locale=en");
    vec![Case {
        label: "backup_codes",
        context,
        expect: vec![
            "<li><code>abcd-efgh-ijkl</code></li>".into(),
            format!("<li><code>{}</code></li>", esc(&hostile("code"))),
            format!("href=\"{}\"", esc("/api/saml/complete?locale=en")),
            EN.t("backup_codes.once").into(),
        ],
    }]
}

/// `recovery::email_page`.
fn forgot_password() -> Vec<Case> {
    let mut context = flow_context("recovery.title", true);
    context.insert("csrf", CSRF);
    let mut expect = vec![
        EN.t("recovery.intro").to_string(),
        "action=\"/forgot-password?locale=en\"".into(),
        format!("name=\"csrf\" value=\"{CSRF}\""),
    ];
    expect.extend(sp_and_cancel());
    vec![Case {
        label: "forgot_password",
        context,
        expect,
    }]
}

/// `flow::consent_form`.
fn consent() -> Vec<Case> {
    let mut context = flow_context("consent.title", true);
    context.insert("csrf", CSRF);
    context.insert("attributes", &[EN.t("attr.email"), EN.t("attr.uuid")]);
    let mut expect = vec![
        EN.t("consent.intro").to_string(),
        format!("<li>{}</li>", EN.t("attr.email")),
        format!("<li>{}</li>", EN.t("attr.uuid")),
        "action=\"/consent?locale=en\"".into(),
        format!("name=\"csrf\" value=\"{CSRF}\""),
        EN.t("consent.agree").into(),
    ];
    expect.extend(sp_and_cancel());
    vec![Case {
        label: "consent",
        context,
        expect,
    }]
}

/// `pages::error_page`, as `WebError` uses it.
fn error() -> Vec<Case> {
    let mut context = Context::new();
    context.insert("title", EN.t("session.expired_title"));
    context.insert("message", &hostile("Bad request"));
    let mut linked = Context::new();
    linked.insert("title", EN.t("errors.metadata_not_found.title"));
    linked.insert("message", EN.t("errors.metadata_not_found.body"));
    linked.insert(
        "links",
        &[hostile("https://idp.example.gov/api/saml/metadata2026")],
    );
    vec![
        Case {
            label: "error",
            context,
            expect: vec![
                format!("<h1>{}</h1>", EN.t("session.expired_title")),
                format!("<p>{}</p>", esc(&hostile("Bad request"))),
                format!("<a href=\"/?locale=en\">{}</a>", EN.t("errors.home")),
            ],
        },
        Case {
            label: "with links (metadata of a year that is not live)",
            context: linked,
            expect: vec![format!(
                "<li><a href=\"{0}\">{0}</a></li>",
                esc(&hostile("https://idp.example.gov/api/saml/metadata2026"))
            )],
        },
    ]
}

/// `intake_errors::help_page`, with one extra entry whose texts carry markup.
fn help_errors() -> Vec<Case> {
    let mut entries: Vec<_> = IntakeCode::all()
        .map(|c| {
            json!({
                "code": c.as_str(),
                "message": EN.t(&format!("code.{}", c.as_str())),
                "help": EN.t(&format!("help.{}", c.as_str())),
            })
        })
        .collect();
    entries.push(json!({"code": hostile("code"), "message": hostile("message"), "help": "h"}));
    let mut context = Context::new();
    context.insert("lang", EN.code());
    context.insert("title", EN.t("help.title"));
    context.insert("intro", EN.t("help.intro"));
    context.insert("errors", &entries);
    let mut expect = vec![EN.t("help.intro").to_string()];
    for c in IntakeCode::all() {
        expect.push(format!("<section id=\"{}\">", c.as_str()));
        expect.push(esc(EN.t(&format!("code.{}", c.as_str()))));
        expect.push(esc(EN.t(&format!("help.{}", c.as_str()))));
    }
    expect.push(format!("<section id=\"{}\">", esc(&hostile("code"))));
    vec![Case {
        label: "help",
        context,
        expect,
    }]
}

/// `home::index`, signed out and signed in.
fn sign_out() -> Vec<Case> {
    let context = |csrf: &str| {
        let mut context = flow_context("signout.title", false);
        context.insert("csrf", csrf);
        context
    };
    vec![
        Case {
            label: "confirm",
            context: context(CSRF),
            expect: vec![
                format!("<h1>{}</h1>", esc(EN.t("signout.title"))),
                "<form method=\"post\" action=\"/sign-out\">".into(),
                format!("name=\"csrf\" value=\"{CSRF}\""),
                format!("<button type=\"submit\">{}</button>", EN.t("home.sign_out")),
                format!("<a href=\"/?locale=en\">{}</a>", EN.t("signout.stay")),
            ],
        },
        // The token is the IdP's own; escaped all the same.
        Case {
            label: "hostile token",
            context: context(&hostile("token")),
            expect: vec![format!("value=\"{}\"", esc(&hostile("token")))],
        },
    ]
}

fn index() -> Vec<Case> {
    let entity_id = "https://idp.example.gov/api/saml";
    let context = |signed_in: bool| {
        let mut context = flow_context("home.title", false);
        context.insert("title", "saml-idp");
        context.insert("signed_in", &signed_in);
        context.insert("csrf", if signed_in { CSRF } else { "" });
        context.insert("entity_id", entity_id);
        context.insert("years", &[2025, 2026]);
        context
    };
    let metadata = |year: u32| {
        format!(
            "<a href=\"/api/saml/metadata{year}\">{}/metadata{year}</a>",
            esc(entity_id)
        )
    };
    // The entity id is the operator's, not an attacker's; escaped all the same.
    let mut hostile_id = context(false);
    hostile_id.insert("entity_id", &hostile("https://idp.example.gov"));
    vec![
        Case {
            label: "signed out",
            context: context(false),
            expect: vec![
                EN.t("home.signed_out").into(),
                format!(
                    "<a href=\"/sign-in?locale=en\">{}</a>",
                    EN.t("signin.title")
                ),
                format!(
                    "<a href=\"/sign-up?locale=en\">{}</a>",
                    EN.t("signup.title")
                ),
                metadata(2025),
                metadata(2026),
            ],
        },
        Case {
            label: "signed in",
            context: context(true),
            expect: vec![
                EN.t("home.signed_in").into(),
                format!(
                    "<a href=\"/account?locale=en\">{}</a>",
                    EN.t("account.title")
                ),
                "<form method=\"post\" action=\"/sign-out\">".into(),
                format!("name=\"csrf\" value=\"{CSRF}\""),
                format!("<button type=\"submit\">{}</button>", EN.t("home.sign_out")),
                metadata(2026),
            ],
        },
        Case {
            label: "operator values",
            context: hostile_id,
            expect: vec![esc(&hostile("https://idp.example.gov"))],
        },
    ]
}

/// `flow::message`: the verify page links to the SP's registered failure URL.
fn message() -> Vec<Case> {
    let link = format!("https://sp.example.gov/proof?next={BREAKOUT}{SCRIPT}");
    let mut verify = flow_context("verify.title", true);
    verify.insert("body", EN.t("verify.body"));
    verify.insert("link_url", &link);
    verify.insert("link_text", EN.t("verify.link"));
    let mut suspended = flow_context("suspended.title", false);
    suspended.insert("body", EN.t("suspended.body"));
    let mut sent = flow_context("signup.sent.title", false);
    sent.insert("body", EN.t("signup.sent.body"));
    sent.insert("note", EN.t("mail.outbox_note"));
    // The operator's data directory; escaped all the same.
    sent.insert("note_path", &hostile("/srv/idp/data/outbox"));
    vec![
        Case {
            label: "mail sent, development outbox named",
            context: sent,
            expect: vec![
                EN.t("mail.outbox_note").into(),
                format!("<code>{}</code>", esc(&hostile("/srv/idp/data/outbox"))),
            ],
        },
        Case {
            label: "verify, with a link",
            context: verify,
            expect: vec![
                format!("<h1>{}</h1>", EN.t("verify.title")),
                EN.t("verify.body").into(),
                format!("<a href=\"{}\">{}</a>", esc(&link), EN.t("verify.link")),
            ],
        },
        Case {
            label: "suspended, no link",
            context: suspended,
            expect: vec![
                format!("<h1>{}</h1>", EN.t("suspended.title")),
                EN.t("suspended.body").into(),
            ],
        },
    ]
}

/// `sign_in::mfa_form` and the refused code of `sign_in::mfa_submit`.
fn mfa() -> Vec<Case> {
    let common = || {
        vec![
            EN.t("mfa.intro").to_string(),
            EN.t("mfa.code").into(),
            EN.t("mfa.remember").into(),
            EN.t("mfa.submit").into(),
            "action=\"/sign-in/mfa?locale=en\"".into(),
            format!("name=\"csrf\" value=\"{CSRF}\""),
            "autocomplete=\"one-time-code\"".into(),
        ]
    };
    let mut first = flow_context("mfa.title", true);
    first.insert("csrf", CSRF);
    let mut expect = common();
    expect.extend(sp_and_cancel());
    let mut failed = flow_context("mfa.title", false);
    failed.insert("csrf", CSRF);
    failed.insert("error", EN.t("mfa.failed"));
    let mut failed_expect = common();
    failed_expect.push(format!(
        "<p class=\"error\" role=\"alert\" id=\"code-error\">{}</p>",
        esc(EN.t("mfa.failed"))
    ));
    failed_expect.push("aria-describedby=\"code-error code-hint\" aria-invalid=\"true\"".into());
    // A user with a security key: the key's form next to the code's, or alone.
    let with_key = |required: bool| {
        let mut context = flow_context("mfa.title", true);
        context.insert("csrf", CSRF);
        context.insert("key_options_url", "/sign-in/security-key/options?locale=en");
        context.insert("key_action", "/sign-in/security-key?locale=en");
        for (name, key) in crate::web::sign_in::KEY_TEXTS {
            context.insert(*name, EN.t(key));
        }
        if required {
            context.insert("key_required", EN.t("securitykey.required"));
            context.insert("hide_code", &true);
        }
        context
    };
    let key_expect = || {
        vec![
            format!("action=\"{}\"", esc("/sign-in/security-key?locale=en")),
            "data-webauthn=\"get\"".into(),
            format!(
                "data-options=\"{}\"",
                esc("/sign-in/security-key/options?locale=en")
            ),
            "<script src=\"/static/webauthn.js\"></script>".into(),
            EN.t("securitykey.needs_js").into(),
            EN.t("securitykey.use").into(),
            format!("name=\"csrf\" value=\"{CSRF}\""),
        ]
    };
    let mut both = key_expect();
    both.extend(common());
    both.push(EN.t("securitykey.code_heading").into());
    let mut only_key = key_expect();
    only_key.push(EN.t("securitykey.required").into());
    vec![
        Case {
            label: "first visit",
            context: first,
            expect,
        },
        Case {
            label: "wrong code",
            context: failed,
            expect: failed_expect,
        },
        Case {
            label: "with a security key",
            context: with_key(false),
            expect: both,
        },
        Case {
            label: "a security key required",
            context: with_key(true),
            expect: only_key,
        },
    ]
}

/// `security_keys::page`: a hostile key name comes out escaped, once in the list and once
/// in its remove button's label.
fn security_keys() -> Vec<Case> {
    let base = |available: bool| {
        let mut context = flow_context("keys.title", false);
        context.insert("csrf", CSRF);
        context.insert("available", &available);
        for (name, key) in crate::web::security_keys::TEXTS {
            context.insert(*name, EN.t(key));
        }
        context
    };
    let mut listed = base(true);
    let rows = vec![crate::web::security_keys::KeyRow {
        id: 7,
        name: hostile("Blue key"),
        added: "2026-03-15 12:00 UTC".into(),
        used: EN.t("keys.never_used").into(),
    }];
    listed.insert("keys", &rows);
    listed.insert("notice", EN.t("keys.added"));
    let mut empty = base(false);
    empty.insert("keys", &Vec::<crate::web::security_keys::KeyRow>::new());
    vec![
        Case {
            label: "one key, added",
            context: listed,
            expect: vec![
                format!("<td>{}</td>", esc(&hostile("Blue key"))),
                "action=\"/account/security-keys/7/remove?locale=en\"".into(),
                "action=\"/account/security-keys?locale=en\"".into(),
                "data-webauthn=\"create\"".into(),
                "<label for=\"key-name\">".into(),
                "maxlength=\"64\"".into(),
                "2026-03-15 12:00 UTC".into(),
                EN.t("keys.never_used").into(),
                EN.t("keys.added").into(),
                EN.t("securitykey.needs_js").into(),
                format!("name=\"csrf\" value=\"{CSRF}\""),
            ],
        },
        Case {
            label: "no key, unavailable",
            context: empty,
            expect: vec![EN.t("keys.none").into(), EN.t("keys.unavailable").into()],
        },
    ]
}

/// `handoff::post_message` (the Response to the ACS URL) and `sso::auth_post` (the request's
/// fields bounced to our own origin, all of them as the SP's browser sent them).
fn post_form() -> Vec<Case> {
    let acs = "https://sp.example.gov/acs?x=1&y=2";
    let relay = hostile("https://sp.example.gov/after");
    let mut handoff = flow_context("handoff.title", true);
    handoff.insert("body", EN.t("handoff.body"));
    handoff.insert("button", EN.t("bounce.button"));
    handoff.insert("action", acs);
    // `post_page` renders this page once with markers and splices the hidden fields it
    // built itself (its own tests check their escaping); here they arrive ready-made.
    handoff.insert(
        "hidden_fields",
        &format!(
            "<input type=\"hidden\" name=\"SAMLResponse\" value=\"PHNhbWxwOlJlc3BvbnNl/z4=\">\n\
             <input type=\"hidden\" name=\"RelayState\" value=\"{}\">\n",
            tera::escape_html(&relay)
        ),
    );
    let mut bounce = Context::new();
    bounce.insert("lang", EN.code());
    bounce.insert("title", EN.t("bounce.title"));
    bounce.insert("body", EN.t("bounce.body"));
    bounce.insert("button", EN.t("bounce.button"));
    bounce.insert("action", "/api/saml/authpost2026");
    bounce.insert(
        "fields",
        &[
            ("SAMLRequest", hostile("PHNhbWxwOkF1dGhuUmVxdWVzdC8+")),
            ("RelayState", relay.clone()),
        ],
    );
    let field = |name: &str, value: &str| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            esc(value)
        )
    };
    let handoff_expect = vec![
        format!("<h1>{}</h1>", EN.t("handoff.title")),
        format!(
            "<form method=\"post\" action=\"{}\" id=\"saml-post-form\">",
            esc(acs)
        ),
        "<input type=\"hidden\" name=\"SAMLResponse\" value=\"PHNhbWxwOlJlc3BvbnNl/z4=\">"
            .to_string(),
        field("RelayState", &relay),
        format!(
            "{} <strong>{}</strong>.",
            EN.t("handoff.body"),
            esc(&hostile("Agency"))
        ),
        format!("<button type=\"submit\">{}</button>", EN.t("bounce.button")),
        "<script src=\"/static/auto-submit.js\"></script>".into(),
    ];
    vec![
        Case {
            label: "hand-off",
            context: handoff,
            expect: handoff_expect,
        },
        Case {
            label: "bounce to authpost",
            context: bounce,
            expect: vec![
                format!("action=\"{}\"", esc("/api/saml/authpost2026")),
                field("SAMLRequest", &hostile("PHNhbWxwOkF1dGhuUmVxdWVzdC8+")),
                field("RelayState", &relay),
                EN.t("bounce.body").into(),
            ],
        },
    ]
}

/// `intake_errors::html`: a detail quotes the request, one error has none.
fn saml_error() -> Vec<Case> {
    let detail = hostile("issuer");
    let help = |code: &str| format!("https://idp.example.gov/help/errors?locale=en#{code}");
    let errors = json!([
        {
            "field": "service_provider",
            "field_label": EN.t("field.service_provider"),
            "code": "unauthorized_service_provider",
            "message": EN.t("code.unauthorized_service_provider"),
            "detail": detail,
            "help_url": help("unauthorized_service_provider"),
        },
        {
            "field": "authn_context",
            "field_label": EN.t("field.authn_context"),
            "code": "unauthorized_authn_context",
            "message": EN.t("code.unauthorized_authn_context"),
            "detail": null,
            "help_url": help("unauthorized_authn_context"),
        },
    ]);
    let mut context = flow_context("error.title", false);
    context.insert("intro", EN.t("error.intro"));
    context.insert("more_info", EN.t("error.more_info"));
    context.insert("errors", &errors);
    let item = |field: &str, code: &str| {
        format!(
            "<strong>{}</strong>: {}",
            EN.t(&format!("field.{field}")),
            esc(EN.t(&format!("code.{code}")))
        )
    };
    let mut named = context.clone();
    named.insert("page_title", &hostile("Error: the first"));
    named.insert("sp_name", &hostile("Agency"));
    named.insert("return_url", &hostile("https://sp.example.gov/"));
    named.insert("reference", "0A1B2C3D4E");
    named.insert("tool_url", "/tools/saml-request?locale=en");
    vec![
        Case {
            label: "a registered SP, its way back and the reference",
            context: named,
            expect: vec![
                format!(
                    "<title>{} | saml-idp</title>",
                    esc(&hostile("Error: the first"))
                ),
                format!("<strong>{}</strong>", esc(&hostile("Agency"))),
                format!("href=\"{}\"", esc(&hostile("https://sp.example.gov/"))),
                "<code>0A1B2C3D4E</code>".into(),
                format!("href=\"{}\"", esc("/tools/saml-request?locale=en")),
            ],
        },
        Case {
            label: "two errors",
            context,
            expect: vec![
                EN.t("error.intro").into(),
                format!(
                    "{} ({})",
                    item("service_provider", "unauthorized_service_provider"),
                    esc(&detail)
                ),
                format!(
                    "{} <a href=\"{}\">{}</a>",
                    item("authn_context", "unauthorized_authn_context"),
                    esc(&help("unauthorized_authn_context")),
                    EN.t("error.more_info")
                ),
            ],
        },
    ]
}

/// `sign_in::form` (with and without a pending request) and `sign_in::retry`.
fn sign_in() -> Vec<Case> {
    let common = || {
        vec![
            EN.t("signin.email").to_string(),
            EN.t("signin.password").into(),
            format!("<button type=\"submit\">{}</button>", EN.t("signin.submit")),
            "action=\"/sign-in?locale=en\"".into(),
            format!("name=\"csrf\" value=\"{CSRF}\""),
            "autocomplete=\"current-password\"".into(),
        ]
    };
    let mut pending = flow_context("signin.title", true);
    pending.insert("csrf", CSRF);
    let mut pending_expect = common();
    pending_expect.push(EN.t("signin.to").into());
    pending_expect.extend(sp_and_cancel());
    let mut retry = flow_context("signin.title", false);
    retry.insert("csrf", CSRF);
    retry.insert("error", EN.t("signin.failed"));
    let mut retry_expect = common();
    retry_expect.push(format!(
        "<p class=\"error\" role=\"alert\" id=\"signin-error\">{}</p>",
        esc(EN.t("signin.failed"))
    ));
    retry_expect.push("aria-describedby=\"signin-error\" aria-invalid=\"true\"".into());
    vec![
        Case {
            label: "pending request",
            context: pending,
            expect: pending_expect,
        },
        Case {
            label: "wrong password",
            context: retry,
            expect: retry_expect,
        },
    ]
}

/// `tools::form` (empty) and `tools::submit` (a refused request whose every value is hostile).
fn tools_saml_request() -> Vec<Case> {
    use crate::idp::decode::Report;
    use crate::idp::intake::catalogue::IntakeError;
    use crate::idp::intake::facts::SignatureVerdict;
    let base = |input: &str| {
        let mut context = flow_context("decode.title", false);
        context.insert("csrf", CSRF);
        context.insert("input", input);
        for key in crate::web::decode_view::PAGE_LABELS {
            context.insert(key.replace('.', "_"), EN.t(key));
        }
        context
    };
    let report = Report {
        xml: Some(hostile("<x/>")),
        kind: Some("AuthnRequest"),
        relay_state: Some(hostile("relay")),
        issuer: Some(hostile("issuer")),
        sp: None,
        signature: SignatureVerdict::Invalid(vec![IntakeError::with_detail(
            IntakeCode::InvalidSignature,
            "wrong_sig_algorithm",
        )]),
        errors: vec![IntakeError::new(IntakeCode::UnauthorizedServiceProvider)],
        inactive: false,
        accepted: false,
        endpoint: Some("https://idp.example.gov/api/saml/auth2026".into()),
        judged_at: Some(chrono::DateTime::from_timestamp(1_773_576_000, 0).unwrap_or_default()),
    };
    let mut refused = base(&hostile("pasted"));
    refused.insert("report", &crate::web::decode_view::view(&report, EN));
    vec![
        Case {
            label: "empty form",
            context: base(""),
            expect: vec![
                "action=\"/tools/saml-request?locale=en\"".into(),
                format!("name=\"csrf\" value=\"{CSRF}\""),
                format!(
                    "<label for=\"input\">{}</label>",
                    EN.t("decode.input_label")
                ),
            ],
        },
        Case {
            label: "refused, hostile values",
            context: refused,
            expect: vec![
                format!("required>{}</textarea>", esc(&hostile("pasted"))),
                format!("<code>{}</code>", esc(&hostile("<x/>"))),
                format!("<code>{}</code>", esc(&hostile("relay"))),
                format!("<code>{}</code>", esc(&hostile("issuer"))),
                EN.t("decode.sp_not_registered").into(),
                "<li><code>unauthorized_service_provider</code>".into(),
                format!(
                    "{} (wrong_sig_algorithm)",
                    esc(EN.t("code.invalid_signature"))
                ),
                esc("Judged as https://idp.example.gov/api/saml/auth2026 would at 2026-03-15T12:00:00Z"),
            ],
        },
    ]
}

/// Every `.html` file of `templates/` with its text.
fn template_files() -> BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    std::fs::read_dir(dir)
        .expect("templates")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .map(|p| {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(&p).expect("read template"))
        })
        .collect()
}

/// The templates others `{% extends %}`.
/// Templates that pages include or import (rendered as part of those pages' cases).
fn partials(files: &BTreeMap<String, String>) -> BTreeSet<String> {
    files
        .values()
        .flat_map(|text| {
            ["{% include \"", "{% import \""]
                .into_iter()
                .flat_map(move |tag| text.split(tag).skip(1))
                .filter_map(|rest| Some(rest.split('"').next()?.to_string()))
        })
        .collect()
}

fn layouts(files: &BTreeMap<String, String>) -> BTreeSet<String> {
    files
        .values()
        .filter_map(|text| {
            let rest = text.split("{% extends \"").nth(1)?;
            Some(rest.split('"').next()?.to_string())
        })
        .collect()
}

#[test]
fn every_template_file_is_registered() {
    for name in template_files().keys() {
        assert!(
            TEMPLATES.iter().any(|(n, _)| n == name),
            "{name} is not registered"
        );
    }
}

#[test]
fn every_page_template_renders_its_content_and_escapes_hostile_values() {
    let pages = Pages::load().unwrap_or_else(|e| panic!("templates compile: {e:?}"));
    let files = template_files();
    let layouts = layouts(&files);
    assert!(layouts.contains("layout.html"), "{layouts:?}");
    let parts = partials(&files);
    let mut without_cases = Vec::new();
    let pages_only = |n: &&String| !layouts.contains(*n) && !parts.contains(*n);
    for name in files.keys().filter(pages_only) {
        let Some(cases) = cases(name) else {
            without_cases.push(name.clone());
            continue;
        };
        let mut hostile_seen = false;
        for case in cases {
            let at = format!("{name} ({})", case.label);
            let html = pages
                .render(name, &case.context)
                .unwrap_or_else(|e| panic!("{at} does not render: {e:?}"));
            assert!(html.starts_with("<!DOCTYPE html>"), "{at}: {html}");
            assert!(html.contains("<html lang=\"en\">"), "{at}: {html}");
            assert!(
                html.contains("<main id=\"main\" tabindex=\"-1\">"),
                "{at}: {html}"
            );
            assert!(
                html.contains("<a class=\"skip-link\" href=\"#main\">"),
                "{at}: {html}"
            );
            // A page may name itself more precisely in its <title> (a SAML error: the first).
            let title = (case.context.get("page_title"))
                .or_else(|| case.context.get("title"))
                .and_then(|t| t.as_str());
            let title = title.unwrap_or_else(|| panic!("{at}: no title"));
            // A form that failed: the <title> starts with its error (SPEC 15).
            let title = match case.context.get("error").and_then(|e| e.as_str()) {
                Some(error) if case.context.get("page_title").is_none() => {
                    format!("{error} - {title}")
                }
                _ => title.to_string(),
            };
            assert!(
                html.contains(&format!("<title>{} | saml-idp</title>", esc(&title))),
                "{at}: {html}"
            );
            for expected in &case.expect {
                assert!(
                    html.contains(expected.as_str()),
                    "{at} lacks {expected}:\n{html}"
                );
            }
            assert!(
                !html.contains(SCRIPT),
                "{at} lets a script through:\n{html}"
            );
            assert!(
                !html.contains("<img"),
                "{at} lets an attribute break out:\n{html}"
            );
            if case
                .context
                .clone()
                .into_json()
                .to_string()
                .contains("alert(1)")
            {
                hostile_seen = true;
                for value in [SCRIPT, BREAKOUT] {
                    assert!(html.contains(&esc(value)), "{at} drops {value}:\n{html}");
                }
            }
        }
        assert!(hostile_seen, "{name}: no case gives it a hostile value");
    }
    assert!(
        without_cases.is_empty(),
        "page templates with no rendering case in src/web/pages/tests.rs: {without_cases:?}"
    );
}

#[test]
fn the_error_page_helper_escapes() {
    let page = error_page(EN, "Error", SCRIPT);
    assert!(page.contains(&esc(SCRIPT)), "{page}");
    assert!(!page.contains(SCRIPT), "{page}");
}
