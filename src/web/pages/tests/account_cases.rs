//! The account page's templates (SPEC 17), with the contexts `web::account` gives them.

use serde_json::json;

use super::{esc, flow_context, hostile, Case, CSRF, EN};

/// `account::view::page`: addresses, factors, connected SPs (whose names an operator chose),
/// recent events, and a notice or a problem.
pub(super) fn account() -> Vec<Case> {
    let full = |notice: Option<&str>, error: Option<&str>| {
        let mut context = flow_context("account.title", false);
        context.insert("csrf", CSRF);
        context.insert(
            "emails",
            &json!([
                {"id": 7, "address": "ada@example.gov", "for_sps": true},
                {"id": 9, "address": "ada@work.example.gov", "for_sps": false},
            ]),
        );
        context.insert("totp", &true);
        context.insert("totp_removable", &false);
        context.insert("backup_codes_left", &3);
        context.insert(
            "connected",
            &json!([{
                "issuer": hostile("urn:sp"), "name": hostile("Agency"),
                "attributes": [EN.t("attr.email"), EN.t("attr.uuid")],
                "consented_at": "2026-03-15 12:00 UTC", "last_signed_in": null,
            }]),
        );
        context.insert(
            "events",
            &json!([{
                "at": "2026-03-15 12:01 UTC", "event": "Account", "detail": EN.t("account.detail.password_changed"),
                "sp": hostile("Agency"), "success": true,
            }]),
        );
        if let Some(notice) = notice {
            context.insert("notice", notice);
            context.insert("unmailed", EN.t("account.unmailed"));
        }
        if let Some(error) = error {
            context.insert("error", error);
        }
        context
    };
    let form = |action: &str| format!("action=\"{action}?locale=en\"");
    let mut empty = flow_context("account.title", false);
    empty.insert("csrf", CSRF);
    empty.insert(
        "emails",
        &json!([{"id": 1, "address": "a@example.gov", "for_sps": true}]),
    );
    empty.insert("totp", &false);
    empty.insert("totp_removable", &false);
    empty.insert("backup_codes_left", &0);
    empty.insert("connected", &json!([]));
    empty.insert("events", &json!([]));
    vec![
        Case {
            label: "everything, after a change whose notice was not sent",
            context: full(Some(EN.t("account.done.password_changed")), None),
            expect: vec![
                format!(
                    "<p class=\"notice\" role=\"status\">{}</p>",
                    esc(EN.t("account.done.password_changed"))
                ),
                format!(
                    "<p class=\"error\" role=\"alert\">{}</p>",
                    esc(EN.t("account.unmailed"))
                ),
                "ada@work.example.gov".into(),
                form("/account/emails/9/for-sp"),
                form("/account/emails/9/remove"),
                form("/account/emails/7/remove"),
                form("/account/emails"),
                form("/account/password"),
                form("/account/backup-codes"),
                form("/account/connected/revoke"),
                form("/account/sign-out-everywhere"),
                form("/account/delete"),
                "href=\"/account/security-keys?locale=en\"".into(),
                EN.t("account.last_factor").into(),
                format!("name=\"issuer\" value=\"{}\"", esc(&hostile("urn:sp"))),
                format!("<strong>{}</strong>", esc(&hostile("Agency"))),
                format!("{}, {}", EN.t("attr.email"), EN.t("attr.uuid")),
                EN.t("account.never").into(),
                format!("({})", EN.t("account.detail.password_changed")),
                // Buttons named with their item; destructive ones styled apart.
                "<button type=\"submit\" class=\"button danger\">Remove ada@work.example.gov</button>".into(),
                format!(
                    "<button type=\"submit\" class=\"button danger\">{} {}</button>",
                    EN.t("account.revoke_named"),
                    esc(&hostile("Agency"))
                ),
                // The site's navigation and the page's own.
                "<li><a href=\"/account?locale=en\" aria-current=\"page\">".into(),
                "<form method=\"post\" action=\"/sign-out\">".into(),
                "<li><a href=\"#delete\">".into(),
                format!("name=\"csrf\" value=\"{CSRF}\""),
                "<label for=\"delete-code\">".into(),
            ],
        },
        Case {
            label: "a refused change",
            context: full(None, Some(EN.t("account.problem.last_email"))),
            expect: vec![format!(
                "<p class=\"error\" role=\"alert\">{}</p>",
                esc(EN.t("account.problem.last_email"))
            )],
        },
        Case {
            label: "one address, no app, nothing connected",
            context: empty,
            expect: vec![
                form("/account/totp"),
                EN.t("account.no_connected").into(),
                EN.t("account.no_events").into(),
            ],
        },
    ]
}

/// `account::reauth_page`, first and after a wrong password.
pub(super) fn reauthenticate() -> Vec<Case> {
    let mut first = flow_context("account.reauth_title", false);
    first.insert("csrf", CSRF);
    first.insert("next", "/console/sps/abc");
    let mut wrong = first.clone();
    wrong.insert("error", &hostile("error"));
    vec![
        Case {
            label: "first",
            context: first,
            expect: vec![
                "action=\"/account/reauthenticate?locale=en\"".into(),
                "<label for=\"password\">".into(),
                "name=\"next\" value=\"&#x2F;console&#x2F;sps&#x2F;abc\"".into(),
                EN.t("account.reauth_intro").into(),
            ],
        },
        Case {
            label: "wrong password",
            context: wrong,
            expect: vec!["aria-describedby=\"reauth-error\"".into()],
        },
    ]
}

/// `account::emails::confirm_form`: the address being added, shown back to its owner.
pub(super) fn confirm_email() -> Vec<Case> {
    let mut context = flow_context("account.confirm_title", false);
    context.insert("csrf", CSRF);
    context.insert("token", &hostile("token"));
    context.insert("address", "new@example.gov");
    vec![Case {
        label: "live link",
        context,
        expect: vec![
            "<strong>new@example.gov</strong>".into(),
            format!("name=\"token\" value=\"{}\"", esc(&hostile("token"))),
            "action=\"/account/emails/confirm?locale=en\"".into(),
        ],
    }]
}
