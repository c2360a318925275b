//! `saml-idp purge`: deletes expired rows once, at the system clock's now, and prints what
//! it deleted on one line (for cron when `purge_interval_seconds` is 0; safe beside servers
//! that purge on their own). Audit events older than `audit_retention_days` go too.

use super::startup::open_database;
use super::CliError;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::sessions::purge::{PurgeCutoffs, Purger};
use crate::store::DieselPurger;

pub fn run(config: &Config) -> Result<(), CliError> {
    let purger = DieselPurger::new(open_database(config)?);
    let now = SystemClock.now();
    let cutoffs = PurgeCutoffs::at(now).with_audit_retention(now, config.audit_retention_days);
    let report = purger.purge(&cutoffs)?;
    println!("{report}");
    Ok(())
}
