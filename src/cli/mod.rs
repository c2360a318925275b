//! The `saml-idp` command line: `serve`, `migrate`, `purge`, `sp …`, `user …`, `keys …`,
//! `events`, `metadata`, `decode`.
//! Every subcommand reads the same configuration, so it reaches the same database as the
//! server. Errors are one line on standard error and a non-zero exit status.

mod decode;
mod error;
mod events;
mod keys;
mod purge;
mod sp;
mod sp_fields;
mod startup;
mod token;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

pub use error::CliError;

use crate::config::{Config, LogFormat, Mode, Overrides};

#[derive(Debug, Parser)]
#[command(name = "saml-idp", version, about = "A SAML 2.0 identity provider")]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "SAML_IDP_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for the SQLite database and development keys (default ./data).
    #[arg(long, global = true, env = "SAML_IDP_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH, a file path, or postgres://… (default: DATA_DIR/saml-idp.sqlite3).
    #[arg(long, global = true, env = "SAML_IDP_DATABASE_URL", value_name = "URL")]
    database_url: Option<String>,
    /// Public base URL; the entity ID is BASE_URL/api/saml.
    #[arg(long, global = true, env = "SAML_IDP_BASE_URL", value_name = "URL")]
    base_url: Option<String>,
    /// development (creates keys on first start) or production (requires configured keys).
    #[arg(long, global = true, env = "SAML_IDP_MODE", value_name = "MODE")]
    mode: Option<Mode>,
    /// Where email goes: outbox (files in DATA_DIR/outbox) or smtp[s]://[user:password@]host:port.
    #[arg(
        long,
        global = true,
        env = "SAML_IDP_MAILER",
        value_name = "URL",
        hide_env_values = true
    )]
    mailer: Option<String>,
    /// From address of every email (default no-reply@HOST of the base URL).
    #[arg(
        long,
        global = true,
        env = "SAML_IDP_MAIL_FROM",
        value_name = "ADDRESS"
    )]
    mail_from: Option<String>,
    /// Log lines as text (default) or json (one object per line).
    #[arg(
        long,
        global = true,
        env = "SAML_IDP_LOG_FORMAT",
        value_name = "FORMAT"
    )]
    log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the identity provider.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "SAML_IDP_LISTEN", value_name = "HOST:PORT")]
        listen: Option<String>,
    },
    /// Apply database migrations.
    Migrate,
    /// Delete expired rows (pending requests, sessions, ...) once; prints the counts.
    Purge,
    /// Manage service providers.
    Sp {
        #[command(subcommand)]
        command: Box<sp::SpCommand>,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: Box<user::UserCommand>,
    },
    /// Bearer tokens of the console API: create (printed once), list, revoke.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Make and list the yearly signing keys.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Read the audit trail, newest last.
    Events(events::EventsArgs),
    /// Print the signed metadata of a live year.
    Metadata {
        #[arg(long)]
        year: u16,
    },
    /// Show a SAMLRequest (value, whole URL or POST body) as readable XML, with its SP,
    /// signature verdict and every error the IdP would answer with. Exit 0 accepted,
    /// 1 refused, 2 usage.
    Decode(decode::DecodeArgs),
}

/// Parses arguments and runs; the process exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let decoding = matches!(cli.command, Command::Decode(_));
    match run(cli) {
        Ok(status) => status,
        // `decode` exits 1 for a refused request: its usage errors are 2, as clap's are.
        Err(e @ CliError::Usage(_)) if decoding => {
            eprintln!("error: {}", one_line(&e.to_string()));
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// Some driver messages span lines (libpq adds "Is the server running …?" on a line of its
/// own); a script reading standard error wants one.
fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join(" ")
}

/// clap's own messages span several lines; a script wants one (help and version print whole).
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return ExitCode::from(2);
    }
    let text = e.to_string();
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    eprintln!("{}", line.trim());
    ExitCode::from(2)
}

fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let config = Config::load(&Overrides {
        config_file: cli.global.config,
        mode: cli.global.mode,
        listen,
        data_dir: cli.global.data_dir,
        base_url: cli.global.base_url,
        database_url: cli.global.database_url,
        mailer: cli.global.mailer,
        mail_from: cli.global.mail_from,
        log_format: cli.global.log_format,
    })?;
    match cli.command {
        Command::Serve { .. } => startup::serve(config),
        Command::Migrate => startup::migrate(&config),
        Command::Purge => purge::run(&config),
        Command::Sp { command } => sp::run(&config, *command),
        Command::User { command } => user::run(&config, *command),
        Command::Token { command } => token::run(&config, command),
        Command::Keys { command } => keys::run(&config, command),
        Command::Events(args) => events::run(&config, args),
        Command::Metadata { year } => startup::print_metadata(&config, year),
        Command::Decode(args) => return decode::run(&config, args),
    }
    .map(|()| ExitCode::SUCCESS)
}
