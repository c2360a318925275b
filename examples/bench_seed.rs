//! Seeds users for `scripts/bench` (`BENCH_SEED=1`, issue 12's scaling row):
//!
//! ```sh
//! SAML_IDP_DATA_KEY=… cargo run --release --example bench_seed -- DATABASE_URL USERS
//! ```
//!
//! Each user is what `saml-idp user add` creates (a sealed sign-in email found by its keyed
//! hash, a sealed TOTP secret, an Argon2id password hash), but the password hash is computed
//! once and shared: one Argon2 hash per user would take half an hour for 100,000 users, and
//! these accounts never sign in. Emails are `seed-N@bench.example.gov`. Not for production data.

use std::time::Instant;

use chrono::Utc;

use saml_idp::accounts::sealing::AccountCrypto;
use saml_idp::accounts::totp::TotpSecret;
use saml_idp::accounts::{password, AccountStore, EmailRecord, NewUser};
use saml_idp::store::{Database, DieselAccountStore};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, count] = args.as_slice() else {
        eprintln!("usage: bench_seed DATABASE_URL USERS (SAML_IDP_DATA_KEY in the environment)");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("USERS is a number");
    let key = std::env::var("SAML_IDP_DATA_KEY").expect("SAML_IDP_DATA_KEY is set");
    let crypto = AccountCrypto::new(&key).expect("SAML_IDP_DATA_KEY is base64 of 32 bytes");
    let db = Database::connect(url).expect("database reachable");
    db.migrate().expect("migrations");
    let store = DieselAccountStore::new(db);
    let password_hash = password::hash_password("seeded account, never signs in").expect("hash");
    let secret = TotpSecret::generate().expect("random");
    let started = Instant::now();
    for n in 0..count {
        let user = seeded_user(&crypto, n, &password_hash, &secret);
        store.create(&user, Utc::now()).expect("user created");
        if (n + 1) % 10_000 == 0 {
            eprintln!("bench_seed: {} users ({:.0?})", n + 1, started.elapsed());
        }
    }
    println!("{count} users in {:.1?}", started.elapsed());
}

fn seeded_user(
    crypto: &AccountCrypto,
    n: usize,
    password_hash: &str,
    secret: &TotpSecret,
) -> NewUser {
    let email = format!("seed-{n}@bench.example.gov");
    let (normalized, lookup) = crypto.email_lookup(&email).expect("email");
    let public_id = uuid::Uuid::new_v4().to_string();
    NewUser {
        totp_secret_sealed: crypto.seal_totp(&public_id, secret),
        emails: vec![EmailRecord {
            sealed: crypto.seal_email(&normalized, &lookup).expect("sealed"),
            lookup,
            for_sign_in: true,
        }],
        public_id,
        password_hash: password_hash.to_string(),
        locale: "en".into(),
        backup_code_hashes: Vec::new(),
        verified_profile_sealed: None,
        verified_at: None,
        piv_record_sealed: None,
    }
}
