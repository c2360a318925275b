//! `saml-idp token create | list | revoke` (SPEC 19): bearer tokens of the console API. A
//! token is printed once, at creation; the database keeps only its SHA-256.

use clap::Subcommand;

use super::startup::{account_crypto, open_database};
use super::CliError;
use crate::accounts::api_tokens::ApiTokenRecord;
use crate::accounts::AccountStore;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::idp::api_tokens::{self, CreateOutcome, TokenPorts, MAX_DAYS};
use crate::ids::RandomIds;
use crate::store::{DieselAccountStore, DieselSessionStore};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token for the account with this email; prints it once.
    Create {
        #[arg(long)]
        email: String,
        /// What the token is for (shown by `token list`).
        #[arg(long)]
        name: String,
        /// Days until it expires (default 90, at most 3650).
        #[arg(long, value_name = "N")]
        expires_days: Option<u32>,
    },
    /// Every token: id, user, name, created, expires, state (never the token).
    List,
    /// Revoke the token with this id.
    Revoke { id: String },
}

pub fn run(config: &Config, command: TokenCommand) -> Result<(), CliError> {
    let crypto = account_crypto(config)?;
    let db = open_database(config)?;
    let store = DieselAccountStore::new(db.clone());
    let audit = DieselSessionStore::new(db);
    let ports = TokenPorts {
        accounts: &store,
        api_tokens: &store,
        roles: &store,
        crypto: &crypto,
        audit: &audit,
        ids: &RandomIds,
        now: SystemClock.now(),
    };
    let failed = |e: crate::idp::Error| CliError::Usage(e.to_string());
    match command {
        TokenCommand::Create {
            email,
            name,
            expires_days,
        } => match api_tokens::create(&ports, &email, &name, expires_days).map_err(failed)? {
            CreateOutcome::Created { token, record } => {
                println!("token {token}");
                println!("id {} expires {}", record.id, when(record.expires_at));
                println!("(shown once: store it now; it acts with the account's roles)");
                Ok(())
            }
            CreateOutcome::InvalidEmail => Err(CliError::Usage("not an email address".into())),
            CreateOutcome::NoSuchUser => {
                Err(CliError::Usage("no account uses this email address".into()))
            }
            CreateOutcome::InvalidName => Err(CliError::Usage(
                "--name must be 1 to 100 characters, without control characters".into(),
            )),
            CreateOutcome::InvalidExpiry => Err(CliError::Usage(format!(
                "--expires-days must be between 1 and {MAX_DAYS}"
            ))),
        },
        TokenCommand::List => {
            let now = ports.now;
            for t in store_list(&store)? {
                let user = store
                    .get(t.user_id)
                    .map_err(|e| CliError::Usage(e.to_string()))?
                    .map(|u| u.public_id)
                    .unwrap_or_default();
                let state = match (t.revoked_at, t.is_live(now)) {
                    (Some(_), _) => "revoked",
                    (None, true) => "live",
                    (None, false) => "expired",
                };
                println!(
                    "{}\t{user}\t{:?}\t{}\t{}\t{state}",
                    t.id,
                    t.name,
                    t.created_at.to_rfc3339(),
                    when(t.expires_at),
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id } => {
            if api_tokens::revoke(&ports, &id).map_err(failed)? {
                println!("revoked token {id}");
                Ok(())
            } else {
                Err(CliError::Usage(format!("no live token has the id {id:?}")))
            }
        }
    }
}

fn store_list(store: &DieselAccountStore) -> Result<Vec<ApiTokenRecord>, CliError> {
    crate::accounts::api_tokens::ApiTokenStore::list(store, None)
        .map_err(|e| CliError::Usage(e.to_string()))
}

fn when(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into())
}
