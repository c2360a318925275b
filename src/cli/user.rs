//! `saml-idp user add | list | show | suspend | reactivate | remove | import | grant |
//! revoke` (SPEC 7, 19).
//! Passwords are hashed with Argon2id, TOTP secrets and PII sealed before they are stored;
//! nothing secret is printed except what `add` must hand over once (provisioning URI,
//! backup codes).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde::Deserialize;

use super::startup::{account_crypto, open_database};
use super::CliError;
use crate::accounts::roles::{Role, RoleStore};
use crate::accounts::sealing::{AccountCrypto, PivRecord, VerifiedProfile};
use crate::accounts::totp::{self, TotpSecret};
use crate::accounts::{backup_codes, password, AccountStore, EmailRecord, NewUser, UserStatus};
use crate::clock::{Clock, SystemClock};
use crate::config::{toml_error_line, Config};
use crate::idp::roles::{self, RoleOutcome, RolePorts};
use crate::ids::{IdSource, RandomIds};
use crate::store::{DieselAccountStore, DieselSessionStore};

const BACKUP_CODES: usize = 10;
const LOCALES: &[&str] = &["en", "es", "fr"];

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints the id, the TOTP provisioning URI and the backup codes.
    Add {
        #[arg(long)]
        email: String,
        /// The password, or `-` to read it from standard input.
        #[arg(long)]
        password: String,
        /// Use this base32 TOTP secret instead of a new one.
        #[arg(long, value_name = "BASE32")]
        totp_secret: Option<String>,
        #[arg(long, default_value = "en")]
        locale: String,
    },
    List,
    Show {
        id: String,
    },
    Suspend {
        id: String,
    },
    Reactivate {
        id: String,
    },
    Remove {
        id: String,
    },
    /// Create the [[user]] entries of a TOML file (verified profiles, PIV/CAC records).
    Import {
        file: PathBuf,
    },
    /// Grant a console role (SPEC 19): `--role admin`, or `--role agency-admin --agency A`.
    Grant(RoleArgs),
    /// Revoke a console role, named as when it was granted.
    Revoke(RoleArgs),
}

/// The account (by email) and the role of `user grant` and `user revoke`.
#[derive(Debug, clap::Args)]
pub struct RoleArgs {
    email: String,
    /// `admin` or `agency-admin`.
    #[arg(long)]
    role: String,
    /// The agency of an `agency-admin`.
    #[arg(long)]
    agency: Option<String>,
}

pub fn run(config: &Config, command: UserCommand) -> Result<(), CliError> {
    let crypto = account_crypto(config)?;
    let db = open_database(config)?;
    let store = DieselAccountStore::new(db.clone());
    // The command's sources of time and identifiers, handed down from here.
    let (clock, ids) = (SystemClock, RandomIds);
    match command {
        UserCommand::Add {
            email,
            password,
            totp_secret,
            locale,
        } => {
            let password = read_password(password)?;
            let input = UserInput {
                email,
                password,
                totp_secret,
                locale,
                ..UserInput::default()
            };
            let created = create(&store, &crypto, (&clock, &ids), input)?;
            println!("user {}", created.public_id);
            println!("totp {}", created.provisioning_uri);
            println!("backup codes {}", created.backup_codes.join(" "));
            Ok(())
        }
        UserCommand::List => list(&store),
        UserCommand::Show { id } => show(&store, &crypto, &id),
        UserCommand::Suspend { id } => set_status(&store, &id, UserStatus::Suspended),
        UserCommand::Reactivate { id } => set_status(&store, &id, UserStatus::Active),
        UserCommand::Remove { id } => {
            store.remove(&id).map_err(account_err)?;
            println!("removed user {id}");
            Ok(())
        }
        UserCommand::Import { file } => import(&store, &crypto, (&clock, &ids), &file),
        UserCommand::Grant(args) => change_role(&store, &crypto, db, clock.now(), args, true),
        UserCommand::Revoke(args) => change_role(&store, &crypto, db, clock.now(), args, false),
    }
}

/// `user grant` (`grant` true) or `user revoke`: one line saying what changed.
fn change_role(
    store: &DieselAccountStore,
    crypto: &AccountCrypto,
    db: crate::store::Database,
    now: DateTime<Utc>,
    args: RoleArgs,
    grant: bool,
) -> Result<(), CliError> {
    let role = Role::parse(&args.role, args.agency.as_deref())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let audit = DieselSessionStore::new(db);
    let ports = RolePorts {
        accounts: store,
        roles: store,
        crypto,
        audit: &audit,
        now,
    };
    let email = args.email.as_str();
    let outcome = if grant {
        roles::grant(&ports, email, &role)
    } else {
        roles::revoke(&ports, email, &role)
    }
    .map_err(|e| CliError::Usage(e.to_string()))?;
    match (outcome, grant) {
        (RoleOutcome::Changed { user }, true) => println!("granted {role} to user {user}"),
        (RoleOutcome::Changed { user }, false) => println!("revoked {role} from user {user}"),
        (RoleOutcome::Unchanged { user }, true) => println!("user {user} already holds {role}"),
        (RoleOutcome::Unchanged { user }, false) => println!("user {user} does not hold {role}"),
        (RoleOutcome::NoSuchUser, _) => {
            return Err(CliError::Usage("no account uses this email address".into()))
        }
        (RoleOutcome::InvalidEmail, _) => {
            return Err(CliError::Usage("not an email address".into()))
        }
    }
    Ok(())
}

fn account_err(e: crate::accounts::AccountError) -> CliError {
    CliError::Usage(e.to_string())
}

fn read_password(value: String) -> Result<String, CliError> {
    if value != "-" {
        return Ok(value);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| {
        CliError::Usage(format!("cannot read the password from standard input: {e}"))
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// One user as given on the command line or in an import file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserInput {
    email: String,
    password: String,
    totp_secret: Option<String>,
    #[serde(default = "default_locale")]
    locale: String,
    verified_at: Option<DateTime<Utc>>,
    profile: Option<VerifiedProfile>,
    piv: Option<PivRecord>,
}

fn default_locale() -> String {
    "en".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    #[serde(default)]
    user: Vec<UserInput>,
}

struct Created {
    public_id: String,
    provisioning_uri: String,
    backup_codes: Vec<String>,
}

/// Where a command reads the time and draws new identifiers.
type Sources<'a> = (&'a dyn Clock, &'a dyn IdSource);

/// What `prepare` has checked: the normalised email with its lookup hash, the password hash
/// and the TOTP secret.
struct Checked {
    normalized: String,
    lookup: String,
    password_hash: String,
    secret: TotpSecret,
}

fn check(crypto: &AccountCrypto, input: &UserInput) -> Result<Checked, CliError> {
    let bad = |m: String| CliError::Usage(m);
    let (normalized, lookup) = crypto
        .email_lookup(&input.email)
        .ok_or_else(|| bad(format!("email: {:?} is not an email address", input.email)))?;
    if !LOCALES.contains(&input.locale.as_str()) {
        return Err(bad(format!(
            "locale: {:?} is not one of en, es, fr",
            input.locale
        )));
    }
    let password_hash =
        password::hash_password(&input.password).map_err(|e| bad(format!("password: {e}")))?;
    let secret = match &input.totp_secret {
        Some(b32) => TotpSecret::from_base32(b32).map_err(|e| bad(format!("totp_secret: {e}")))?,
        None => TotpSecret::generate().map_err(|e| bad(format!("totp_secret: {e}")))?,
    };
    if input.profile.is_some() != input.verified_at.is_some() {
        return Err(bad("profile and verified_at go together".into()));
    }
    Ok(Checked {
        normalized,
        lookup,
        password_hash,
        secret,
    })
}

/// Everything checked and sealed before the one write.
fn prepare(
    crypto: &AccountCrypto,
    ids: &dyn IdSource,
    input: UserInput,
) -> Result<(NewUser, Created), CliError> {
    let checked = check(crypto, &input)?;
    let public_id = ids.uuid();
    let sealing = |what: &str| CliError::Usage(format!("cannot seal the {what}"));
    let codes = backup_codes::generate(BACKUP_CODES).map_err(|e| CliError::Usage(e.to_string()))?;
    let (verified_profile_sealed, piv_record_sealed) = seal_records(crypto, &public_id, &input)?;
    let new_user = NewUser {
        totp_secret_sealed: Some(
            crypto
                .seal_totp(&public_id, &checked.secret)
                .ok_or_else(|| sealing("TOTP secret"))?,
        ),
        emails: vec![EmailRecord {
            sealed: crypto
                .seal_email(&checked.normalized, &checked.lookup)
                .ok_or_else(|| sealing("email"))?,
            lookup: checked.lookup,
            for_sign_in: true,
        }],
        backup_code_hashes: codes.iter().filter_map(|c| backup_codes::hash(c)).collect(),
        verified_profile_sealed,
        verified_at: input.verified_at,
        piv_record_sealed,
        public_id: public_id.clone(),
        password_hash: checked.password_hash,
        locale: input.locale,
    };
    let created = Created {
        provisioning_uri: totp::provisioning_uri(&checked.secret, "saml-idp", &checked.normalized),
        public_id,
        backup_codes: codes,
    };
    Ok((new_user, created))
}

/// The verified profile and the PIV/CAC record, sealed, where the input has them.
fn seal_records(
    crypto: &AccountCrypto,
    public_id: &str,
    input: &UserInput,
) -> Result<(Option<String>, Option<String>), CliError> {
    let sealing = |what: &str| CliError::Usage(format!("cannot seal the {what}"));
    let profile = match &input.profile {
        Some(p) => Some(
            crypto
                .seal_profile(public_id, p)
                .ok_or_else(|| sealing("profile"))?,
        ),
        None => None,
    };
    let piv = match &input.piv {
        Some(p) => Some(
            crypto
                .seal_piv(public_id, p)
                .ok_or_else(|| sealing("PIV record"))?,
        ),
        None => None,
    };
    Ok((profile, piv))
}

fn create(
    store: &dyn AccountStore,
    crypto: &AccountCrypto,
    (clock, ids): Sources<'_>,
    input: UserInput,
) -> Result<Created, CliError> {
    let (new_user, created) = prepare(crypto, ids, input)?;
    store.create(&new_user, clock.now()).map_err(account_err)?;
    Ok(created)
}

fn list(store: &dyn AccountStore) -> Result<(), CliError> {
    println!("{:<36}  {:<9}  {:<8}  CREATED", "ID", "STATUS", "VERIFIED");
    for user in store.list().map_err(account_err)? {
        let verified = if user.verified_at.is_some() {
            "yes"
        } else {
            "no"
        };
        println!(
            "{:<36}  {:<9}  {verified:<8}  {}",
            user.public_id,
            user.status.as_str(),
            user.created_at.to_rfc3339()
        );
    }
    Ok(())
}

fn show(store: &DieselAccountStore, crypto: &AccountCrypto, id: &str) -> Result<(), CliError> {
    let user = store
        .find_by_public_id(id)
        .map_err(account_err)?
        .ok_or_else(|| CliError::Usage(format!("no such user {id}")))?;
    let emails: Vec<String> = store
        .emails(user.id)
        .map_err(account_err)?
        .iter()
        .map(|e| {
            crypto
                .open_email(&e.sealed, &e.lookup)
                .unwrap_or_else(|| "(unreadable with this key)".into())
        })
        .collect();
    println!("id = {:?}", user.public_id);
    println!("status = {:?}", user.status.as_str());
    println!("locale = {:?}", user.locale);
    println!("emails = {emails:?}");
    println!("totp = {}", user.totp_secret_sealed.is_some());
    println!(
        "verified_at = {:?}",
        user.verified_at.map(|t| t.to_rfc3339()).unwrap_or_default()
    );
    println!("piv = {}", user.piv_record_sealed.is_some());
    let roles: Vec<String> = RoleStore::roles_of(store, user.id)
        .map_err(account_err)?
        .iter()
        .map(|r| match r.agency() {
            Some(agency) => format!("{}:{agency}", r.kind()),
            None => r.kind().to_string(),
        })
        .collect();
    println!("roles = {roles:?}");
    println!(
        "locked_until = {:?}",
        user.locked_until
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    );
    Ok(())
}

fn set_status(store: &dyn AccountStore, id: &str, status: UserStatus) -> Result<(), CliError> {
    store.set_status(id, status).map_err(account_err)?;
    println!("user {id} is {}", status.as_str());
    Ok(())
}

/// Every entry is checked first; then each user is created (duplicates refused).
fn import(
    store: &dyn AccountStore,
    crypto: &AccountCrypto,
    (clock, ids): Sources<'_>,
    path: &Path,
) -> Result<(), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::Read {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let file: UserFile = toml::from_str(&text).map_err(|e| CliError::RecordFile {
        path: path.to_path_buf(),
        detail: toml_error_line(&e),
    })?;
    let mut prepared = Vec::with_capacity(file.user.len());
    for (i, input) in file.user.into_iter().enumerate() {
        let (new_user, _) = prepare(crypto, ids, input)
            .map_err(|e| CliError::Usage(format!("{}: user #{}: {e}", path.display(), i + 1)))?;
        prepared.push(new_user);
    }
    let mut seen = std::collections::HashSet::new();
    if !prepared
        .iter()
        .all(|u| seen.insert(u.emails[0].lookup.clone()))
    {
        return Err(CliError::Usage(format!(
            "{}: the same email appears twice; nothing imported",
            path.display()
        )));
    }
    for user in &prepared {
        if store
            .find_by_email(&user.emails[0].lookup)
            .map_err(account_err)?
            .is_some()
        {
            return Err(CliError::Usage(format!(
                "{}: an account with one of these emails already exists; nothing imported",
                path.display()
            )));
        }
    }
    for user in &prepared {
        store.create(user, clock.now()).map_err(account_err)?;
        println!("user {}", user.public_id);
    }
    Ok(())
}
