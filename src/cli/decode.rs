//! `saml-idp decode [--json] [--year Y] [--at TIME] INPUT`: a `SAMLRequest` value, whole URL or POST
//! body (`-`: standard input) through the same intake as the SAML endpoints, against the SP
//! registry of the configured database. Exit status 0 accepted, 1 refused, 2 usage.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use super::startup::{live_years, open_database};
use super::CliError;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::idp::decode;
use crate::idp::SpCache;
use crate::saml::SamlYear;
use crate::store::DieselSpRegistry;
use crate::web::decode_view::{self, View};
use crate::web::i18n::Locale;

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Print one JSON object (xml, kind, issuer, sp, signature, errors, accepted).
    #[arg(long)]
    json: bool,
    /// Check as `/api/saml/auth{YEAR}` of this live year would (default: the year whose
    /// endpoint the request's Destination names, else the newest live year).
    #[arg(long)]
    year: Option<u16>,
    /// Judge the request's IssueInstant as if it arrived at this time (RFC 3339, e.g.
    /// 2026-03-15T12:00:00Z); default now.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    at: Option<chrono::DateTime<chrono::Utc>>,
    /// A SAMLRequest value, a whole URL with its query string, a POST body, or `-` for
    /// standard input.
    input: String,
}

/// Runs; the exit status. Usage problems are 2, a refused request (or a failure to reach
/// the registry) 1.
pub fn run(config: &Config, args: DecodeArgs) -> Result<ExitCode, CliError> {
    let input = read_input(&args.input, config.limits.body)?;
    let mut years = live_years(config, &SystemClock);
    if let Some(year) = args.year {
        let live: Vec<String> = years.iter().map(ToString::to_string).collect();
        years.retain(|y| Some(*y) == SamlYear::new(year));
        if years.is_empty() {
            return Err(CliError::Usage(format!(
                "year {year} is not live (live years: {})",
                live.join(", ")
            )));
        }
    }
    let registry = DieselSpRegistry::new(open_database(config)?, Arc::new(SystemClock));
    let sps = SpCache::new(Arc::new(registry));
    sps.refresh()?;
    crate::crypto::xmlsec_ffi::init();
    let entity_id = config.entity_id();
    let ctx = decode::Context {
        config,
        entity_id: &entity_id,
        live_years: &years,
        now: args.at.unwrap_or_else(|| SystemClock.now()),
    };
    let report = decode::report(&input, &ctx, &sps);
    let view = decode_view::view(&report, Locale::En);
    if args.json {
        let json = serde_json::to_string_pretty(&view)
            .map_err(|e| CliError::Usage(format!("cannot write JSON: {e}")))?;
        println!("{json}");
    } else {
        print!("{}", text(&view));
    }
    Ok(if report.accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parse_time(value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| format!("{value:?} is not an RFC 3339 time such as 2026-03-15T12:00:00Z"))
}

/// The argument itself, or standard input for `-`; at most `limit` bytes of UTF-8, not blank.
fn read_input(arg: &str, limit: usize) -> Result<String, CliError> {
    let text = if arg == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::Usage(format!("cannot read standard input: {e}")))?;
        String::from_utf8(bytes)
            .map_err(|_| CliError::Usage("the input is not UTF-8 text".into()))?
    } else {
        arg.to_string()
    };
    if text.len() > limit {
        return Err(CliError::Usage(format!(
            "the input is larger than {limit} bytes (limits.body)"
        )));
    }
    if text.trim().is_empty() {
        return Err(CliError::Usage(
            "no input: give a SAMLRequest value, a URL or a POST body (or - for standard input)"
                .into(),
        ));
    }
    Ok(text)
}

fn text(view: &View) -> String {
    let none = "-".to_string();
    let sp = match (&view.sp, &view.issuer) {
        (Some(sp), _) if sp.active => sp.friendly_name.clone(),
        (Some(sp), _) => format!("{} (inactive)", sp.friendly_name),
        (None, Some(_)) => "not registered".into(),
        (None, None) => none.clone(),
    };
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<12}{value}\n"));
    line("Verdict:", &view.verdict);
    if let (Some(endpoint), Some(at)) = (&view.endpoint, &view.judged_at) {
        line("Judged as:", &format!("{endpoint} at {at}"));
    }
    line("Message:", view.kind.unwrap_or("-"));
    line("Issuer:", view.issuer.as_ref().unwrap_or(&none));
    line("SP:", &sp);
    line("Signature:", &view.signature.summary);
    for reason in &view.signature.reasons {
        line("", &format!("{}: {}", reason.code, reason.message));
    }
    if let Some(relay_state) = &view.relay_state {
        line("RelayState:", &format!("{relay_state:?}"));
    }
    if view.errors.is_empty() {
        line("Errors:", "none");
    } else {
        line("Errors:", "");
        for e in &view.errors {
            out.push_str(&format!("  {} [{}]: {}\n", e.code, e.field, e.message));
        }
    }
    if let Some(xml) = &view.xml {
        out.push('\n');
        out.push_str(xml);
        out.push('\n');
    }
    out
}
