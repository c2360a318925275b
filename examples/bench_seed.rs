//! Seeds users for `scripts/bench` (`BENCH_SEED=1`, issue 12's scaling row):
//!
//! ```sh
//! SAML_IDP_DATA_KEY=… cargo run --release --example bench_seed -- DATABASE_URL USERS
//! ```
//!
//! Each user is what `saml-idp user add` creates (a sealed sign-in email found by its keyed
//! hash, a sealed TOTP secret, an Argon2id password hash), but the password hash is computed
//! once and shared: one Argon2 hash per user would take half an hour for 100,000 users, and
//! these accounts never sign in. Emails are `seed-BATCH-N@bench.example.gov` (BATCH random per
//! invocation). Not for production data.
//!
//! The remote-logout row needs users that are signed in when their LogoutRequest arrives:
//!
//! ```sh
//! … bench_seed -- DATABASE_URL USERS --signed-in AGENCY_KEY OUT
//! ```
//!
//! gives each seeded user a live browser session and a persistent UUID at AGENCY_KEY
//! (`sp:ISSUER` or `agency:NAME`), and writes the UUIDs to OUT, one per line. The scaling row
//! (issue 23) also gives every seeded user a live session and stores as many audit events:
//!
//! ```sh
//! … bench_seed -- DATABASE_URL 100000 --signed-in agency:bench-seed /dev/null --audit-rows 100000
//! ```

use std::time::Instant;

use saml_idp::accounts::sealing::AccountCrypto;
use saml_idp::accounts::totp::TotpSecret;
use saml_idp::accounts::{password, AccountStore, EmailRecord, NewUser};
use saml_idp::clock::{Clock, SystemClock};
use saml_idp::ids::{IdSource, RandomIds};
use saml_idp::sessions::{
    AuditEvent, AuditKind, AuditLog, IdentityStore, MfaMethod, SessionRecord, SessionStore,
};
use saml_idp::store::{Database, DieselAccountStore, DieselSessionStore};

/// What the command line asks for.
struct Args {
    url: String,
    count: usize,
    /// `--signed-in AGENCY_KEY OUT`.
    signed_in: Option<(String, String)>,
    /// `--audit-rows N`: that many audit events as well (the scaling row's history).
    audit_rows: usize,
}

fn parse_args() -> Option<Args> {
    let mut rest = std::env::args().skip(1);
    let (url, count) = (rest.next()?, rest.next()?.parse().ok()?);
    let mut args = Args {
        url,
        count,
        signed_in: None,
        audit_rows: 0,
    };
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--signed-in" => args.signed_in = Some((rest.next()?, rest.next()?)),
            "--audit-rows" => args.audit_rows = rest.next()?.parse().ok()?,
            _ => return None,
        }
    }
    Some(args)
}

fn main() {
    let Some(args) = parse_args() else {
        eprintln!(
            "usage: bench_seed DATABASE_URL USERS [--signed-in AGENCY_KEY OUT] \
             [--audit-rows N] (SAML_IDP_DATA_KEY in the environment)"
        );
        std::process::exit(2);
    };
    let (url, count) = (&args.url, args.count);
    let signed_in = args
        .signed_in
        .as_ref()
        .map(|(agency, out)| (agency.as_str(), out.as_str()));
    let key = std::env::var("SAML_IDP_DATA_KEY").expect("SAML_IDP_DATA_KEY is set");
    let crypto = AccountCrypto::new(&key).expect("SAML_IDP_DATA_KEY is base64 of 32 bytes");
    let db = Database::connect(url).expect("database reachable");
    db.migrate().expect("migrations");
    let store = DieselAccountStore::new(db.clone());
    let sessions = DieselSessionStore::new(db);
    let (clock, ids) = (SystemClock, RandomIds);
    let mut uuids = Vec::new();
    let password_hash = password::hash_password("seeded account, never signs in").expect("hash");
    let secret = TotpSecret::generate().expect("random");
    // Emails are unique per invocation, so the bench may seed the same database again.
    let batch = ids.uuid()[..8].to_string();
    let started = Instant::now();
    for n in 0..count {
        let user = seeded_user(&crypto, &ids, &batch, n, &password_hash, &secret);
        let user_id = store.create(&user, clock.now()).expect("user created");
        if let Some((agency, _)) = signed_in {
            uuids.push(sign_in(&sessions, (&clock, &ids), user_id, agency));
        }
        if (n + 1) % 10_000 == 0 {
            eprintln!("bench_seed: {} users ({:.0?})", n + 1, started.elapsed());
        }
    }
    if let Some((_, out)) = signed_in {
        std::fs::write(out, uuids.join("\n") + "\n").expect("OUT written");
    }
    audit_history(&sessions, &clock, args.audit_rows);
    println!(
        "{count} users and {} audit events in {:.1?}",
        args.audit_rows,
        started.elapsed()
    );
}

/// `rows` audit events of the last day (sign-ins and requests of seeded SPs), stored in
/// batches of 1,000 as the server's audit writer stores them.
fn audit_history(sessions: &DieselSessionStore, clock: &dyn Clock, rows: usize) {
    let now = clock.now();
    let events: Vec<(AuditEvent, chrono::DateTime<chrono::Utc>)> = (0..rows)
        .map(|n| {
            let kind = match n % 2 {
                0 => AuditKind::SamlAuthRequest,
                _ => AuditKind::SamlAuth,
            };
            let event = AuditEvent {
                event: kind,
                issuer: Some(format!("urn:bench:seed:{}", n % 1000)),
                user_public_id: None,
                success: true,
                detail: Some("seeded".into()),
                count: 1,
                binding: None,
                reference: None,
            };
            let seconds = i64::try_from(n % 86_400).unwrap_or(0);
            (event, now - chrono::Duration::seconds(seconds))
        })
        .collect();
    for batch in events.chunks(1_000) {
        sessions.record_many(batch).expect("audit events stored");
    }
}

/// A signed-in browser session for the user (password and second factor just now, for a
/// day) and the user's UUID at the agency: what a real sign-in leaves behind.
fn sign_in(
    sessions: &DieselSessionStore,
    (clock, ids): (&dyn Clock, &dyn IdSource),
    user_id: i64,
    agency: &str,
) -> String {
    let now = clock.now();
    sessions
        .create(&SessionRecord {
            token_hash: ids.uuid().replace('-', ""),
            user_id: Some(user_id),
            csrf_token: ids.uuid().replace('-', ""),
            password_at: Some(now),
            mfa_at: Some(now),
            mfa_method: Some(MfaMethod::Totp),
            created_at: now,
            last_seen_at: now,
            expires_at: now + chrono::Duration::days(1),
            failed_attempts: 0,
        })
        .expect("session created");
    let fresh = ids.uuid();
    sessions
        .agency_uuid(user_id, agency, &fresh, now)
        .expect("agency UUID")
}

fn seeded_user(
    crypto: &AccountCrypto,
    ids: &dyn IdSource,
    batch: &str,
    n: usize,
    password_hash: &str,
    secret: &TotpSecret,
) -> NewUser {
    let email = format!("seed-{batch}-{n}@bench.example.gov");
    let (normalized, lookup) = crypto.email_lookup(&email).expect("email");
    let public_id = ids.uuid();
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
