//! Background work, supervised: every long-lived task of the daemon is a
//! [`Worker`] run by the [`Runner`], which restarts it with back-off after an
//! error or a panic, never runs two instances of one, waits in engine time
//! (so `COFFER_CLOCK_SPEEDUP` accelerates it), and keeps the state that
//! `GET /v1/workers` and `coffer workers` show.
//!
//! A worker does one bounded step at a time. Between steps is the only place
//! the runner stops it, so a step is never cut in the middle; waiting for work
//! ([`Worker::ready`]) is where a worker spends its idle time, and that wait
//! must be cancel-safe.

pub mod runner;

pub use coffer_admin_api::{WorkerState, WorkerStatus};
pub use runner::{Runner, Schedule, Spec, Workers};

/// What a step reports back to the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Did some work and may have more: the runner asks [`Worker::ready`] again at once.
    Worked,
    /// Nothing left to do for now: the runner waits the schedule's idle
    /// interval (engine time) before the next step.
    Idle,
    /// The worker's input is gone for good (its queue closed): it stops.
    Finished,
}

/// Whether there is work, as [`Worker::ready`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ready {
    /// Run a step now.
    Work,
    /// The input closed while waiting: the worker stops without another step.
    Finished,
}

/// A step's failure. The runner records it and backs off before the next try.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WorkerError(pub String);

impl WorkerError {
    pub fn new(message: impl Into<String>) -> Self {
        WorkerError(message.into())
    }
}

/// One kind of background work.
#[async_trait::async_trait]
pub trait Worker: Send {
    /// Stable name shown in `coffer workers`; the runner runs one worker per name.
    fn name(&self) -> &'static str;

    /// Waits until there is work. It must be cancel-safe: the runner drops the
    /// future when it stops the worker, and nothing may be lost then. Workers
    /// that only run on their schedule keep the default (work at once).
    async fn ready(&mut self) -> Ready {
        Ready::Work
    }

    /// Does one bounded piece of work. Never cancelled once started.
    async fn step(&mut self) -> Result<Step, WorkerError>;

    /// A short account of what the worker has done, for the status table.
    fn progress(&self) -> Option<String> {
        None
    }
}
