//! The `RoleStore` contract (SPEC 19), run on memory, SQLite and PostgreSQL when
//! `TEST_DATABASE_URL` is set: a role is held once, any number of roles per account, an
//! agency-admin role per agency, revoked exactly, and gone with its account.

use crate::common;

use chrono::{DateTime, Utc};

use common::stores::Stores;
use saml_idp::accounts::roles::Role;

common::stores::contract_tests! {
    roles_are_granted_once_listed_and_revoked_exactly(stores);
    roles_go_with_their_account(stores);
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

fn agency(name: &str) -> Role {
    Role::AgencyAdmin {
        agency: name.into(),
    }
}

fn user(s: &Stores, public_id: &str) -> i64 {
    let new = common::stores::bare_user(public_id);
    s.accounts.create(&new, now()).expect("create user")
}

fn roles_are_granted_once_listed_and_revoked_exactly(s: &Stores) {
    let ada = user(s, "ada");
    let bob = user(s, "bob");
    assert_eq!(s.roles.roles_of(ada), Ok(vec![]));
    assert_eq!(s.roles.grant(ada, &agency("IRS"), now()), Ok(true));
    assert_eq!(s.roles.grant(ada, &Role::Admin, now()), Ok(true));
    assert_eq!(s.roles.grant(ada, &agency("GSA"), now()), Ok(true));
    assert_eq!(
        s.roles.grant(ada, &agency("GSA"), now()),
        Ok(false),
        "held once"
    );
    assert_eq!(
        s.roles.roles_of(ada),
        Ok(vec![Role::Admin, agency("GSA"), agency("IRS")]),
        "admin first, then agencies in order"
    );
    assert_eq!(s.roles.roles_of(bob), Ok(vec![]), "per account");
    assert_eq!(s.roles.revoke(ada, &agency("GSA")), Ok(true));
    assert_eq!(
        s.roles.revoke(ada, &agency("GSA")),
        Ok(false),
        "not held any more"
    );
    assert_eq!(s.roles.revoke(bob, &Role::Admin), Ok(false));
    assert_eq!(s.roles.roles_of(ada), Ok(vec![Role::Admin, agency("IRS")]));
    assert!(
        s.roles
            .grant(ada + bob + 1000, &Role::Admin, now())
            .is_err(),
        "no role for an account that does not exist"
    );
}

fn roles_go_with_their_account(s: &Stores) {
    let ada = user(s, "ada");
    s.roles.grant(ada, &Role::Admin, now()).expect("grant");
    s.accounts.remove("ada").expect("remove");
    assert_eq!(s.roles.roles_of(ada), Ok(vec![]));
}
