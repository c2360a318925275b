//! How the mailer wakes its node's worker: rung when a message is queued, and on shutdown.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Wakes a sleeping worker: rung when a message is queued and on shutdown.
#[derive(Debug, Default)]
pub(crate) struct Doorbell {
    rung: Mutex<bool>,
    signal: Condvar,
}

impl Doorbell {
    pub fn ring(&self) {
        *self.rung.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.signal.notify_all();
    }

    /// Sleeps until rung or `timeout` passes; forgets the ring.
    pub fn wait(&self, timeout: Duration) {
        let rung = self.rung.lock().unwrap_or_else(|p| p.into_inner());
        let (mut rung, _) = self
            .signal
            .wait_timeout_while(rung, timeout, |rung| !*rung)
            .unwrap_or_else(|p| p.into_inner());
        *rung = false;
    }
}
