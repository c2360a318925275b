//! The console API's bearer tokens (SPEC 19) on every store (memory, SQLite, PostgreSQL when
//! `TEST_DATABASE_URL` is set), through the use case: a token is shown once and stored only
//! as its hash, acts with its user's roles while live, and is refused once revoked, expired,
//! its user suspended or gone, or when it is anything else.

use crate::common;

use chrono::{DateTime, Duration, Utc};

use common::stores::Stores;
use saml_idp::accounts::roles::Role;
use saml_idp::accounts::{EmailRecord, UserStatus};
use saml_idp::idp::api_tokens::{self, CreateOutcome, TokenPorts};
use saml_idp::ids::RandomIds;

common::stores::contract_tests! {
    a_token_acts_with_its_users_roles_while_live(stores);
    tokens_are_listed_revoked_once_and_gone_with_their_user(stores);
}

const ADA: &str = "ada@example.gov";

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

/// Ada (with her address) on these stores; her id.
fn ada(s: &Stores) -> i64 {
    let crypto = common::account_crypto();
    let (normalized, lookup) = crypto.email_lookup(ADA).expect("email");
    let mut new = common::stores::bare_user("ada");
    new.emails = vec![EmailRecord {
        sealed: crypto.seal_email(&normalized, &lookup).expect("seal"),
        lookup,
        for_sign_in: true,
    }];
    s.accounts.create(&new, now()).expect("create")
}

fn with_ports<T>(s: &Stores, at: DateTime<Utc>, run: impl FnOnce(&TokenPorts<'_>) -> T) -> T {
    let crypto = common::account_crypto();
    let ids = RandomIds;
    let ports = TokenPorts {
        accounts: s.accounts.as_ref(),
        api_tokens: s.api_tokens.as_ref(),
        roles: s.roles.as_ref(),
        crypto: &crypto,
        audit: s.audit.as_ref(),
        ids: &ids,
        now: at,
    };
    run(&ports)
}

fn create(s: &Stores, name: &str, days: Option<u32>) -> (String, String) {
    match with_ports(s, now(), |p| api_tokens::create(p, ADA, name, days)).expect("create") {
        CreateOutcome::Created { token, record } => (token, record.id),
        other => panic!("{other:?}"),
    }
}

fn acts_as(s: &Stores, token: &str, at: DateTime<Utc>) -> Option<Vec<Role>> {
    with_ports(s, at, |p| api_tokens::authenticate(p, token))
        .expect("authenticate")
        .map(|(_, roles)| roles)
}

fn a_token_acts_with_its_users_roles_while_live(s: &Stores) {
    let id = ada(s);
    s.roles.grant(id, &Role::Admin, now()).expect("grant");
    let (token, _) = create(s, "CI deploy", Some(30));
    assert!(token.starts_with("sidp_") && token.len() > 40, "{token}");
    let stored = s.api_tokens.list(None).expect("list");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token, "only the hash is stored");
    assert_eq!(acts_as(s, &token, now()), Some(vec![Role::Admin]));
    let day = |n| now() + Duration::days(n);
    assert_eq!(acts_as(s, &token, day(29)), Some(vec![Role::Admin]));
    assert_eq!(acts_as(s, &token, day(30)), None, "expired");
    for other in [
        "",
        "sidp_",
        "Bearer x",
        &token[..token.len() - 1],
        &token.replace("sidp_", ""),
    ] {
        assert_eq!(acts_as(s, other, now()), None, "{other:?}");
    }
    s.accounts
        .set_status("ada", UserStatus::Suspended)
        .expect("suspend");
    assert_eq!(acts_as(s, &token, now()), None, "a suspended user's token");
    s.accounts
        .set_status("ada", UserStatus::Active)
        .expect("reactivate");
    assert_eq!(acts_as(s, &token, now()), Some(vec![Role::Admin]));
    for (name, days) in [("", None), ("x", Some(0)), ("x", Some(3651))] {
        let refused = with_ports(s, now(), |p| api_tokens::create(p, ADA, name, days));
        assert!(
            matches!(
                refused,
                Ok(CreateOutcome::InvalidName | CreateOutcome::InvalidExpiry)
            ),
            "{refused:?}"
        );
    }
    let nobody = with_ports(s, now(), |p| {
        api_tokens::create(p, "nobody@example.gov", "x", None)
    });
    assert_eq!(nobody.expect("create"), CreateOutcome::NoSuchUser);
}

fn tokens_are_listed_revoked_once_and_gone_with_their_user(s: &Stores) {
    ada(s);
    let (first, first_id) = create(s, "first", None);
    let (second, _) = create(s, "second", None);
    let mut names: Vec<String> = s
        .api_tokens
        .list(None)
        .expect("list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    names.sort();
    assert_eq!(names, ["first", "second"]);
    let default_end = s.api_tokens.list(None).expect("list")[0].expires_at;
    assert_eq!(
        default_end,
        Some(now() + Duration::days(90)),
        "90 days by default"
    );
    let revoke = |id: &str| with_ports(s, now(), |p| api_tokens::revoke(p, id)).expect("revoke");
    assert!(revoke(&first_id));
    assert!(!revoke(&first_id), "once");
    assert!(!revoke("no-such-id"));
    assert_eq!(acts_as(s, &first, now()), None, "revoked");
    assert!(acts_as(s, &second, now()).is_some(), "the other one lives");
    s.accounts.remove("ada").expect("remove");
    assert_eq!(acts_as(s, &second, now()), None);
    assert_eq!(
        s.api_tokens.list(None).expect("list"),
        vec![],
        "gone with the user"
    );
}
