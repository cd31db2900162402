//! The `memory-trim` worker: gives memory that a burst of GETs freed back to
//! the system (glibc keeps freed chunk buffers otherwise; see
//! `crate::malloc_arenas`).
//!
//! It wakes when 16 MiB went back to the GET data budget since its last
//! trim, or 1 MiB and the budget is idle (a burst ended). It then trims once
//! the budget has been idle for a second, or, under traffic that never
//! pauses, at most every ten seconds. A trim hands the freed pages back, and
//! the next allocations fault them in again: trimming once a second while
//! GETs stream measured ~3,800 extra page faults per 256 MiB served, for
//! memory about to be reused anyway. Both periods are real time, not engine
//! time: a test's clock speed-up must not turn them into a trim per chunk.
//! Trims run on the blocking pool.

use std::time::Duration;

use tokio::time::Instant;

use crate::engine::read_budget::Releases;
use crate::workers::{Ready, Schedule, Spec, Step, Worker, WorkerError};

/// How long the budget must stay idle before a trim.
const QUIET: Duration = Duration::from_secs(1);
/// The shortest real time between two trims while GETs never pause.
const BUSY_INTERVAL: Duration = Duration::from_secs(10);

const SCHEDULE: Schedule = Schedule {
    idle_interval: Duration::ZERO,
    backoff_min: Duration::from_secs(1),
    backoff_max: Duration::from_secs(60),
};

pub(crate) fn spec(releases: Releases) -> Spec {
    Spec::new(SCHEDULE, move || {
        Box::new(MemoryTrim {
            releases: releases.clone(),
            last: None,
            trims: 0,
        })
    })
}

struct MemoryTrim {
    releases: Releases,
    last: Option<Instant>,
    trims: u64,
}

#[async_trait::async_trait]
impl Worker for MemoryTrim {
    fn name(&self) -> &'static str {
        "memory-trim"
    }

    async fn ready(&mut self) -> Ready {
        if !self.releases.wait().await {
            return Ready::Finished;
        }
        // Cancelled here, the wake-up is lost: the next release brings another.
        loop {
            tokio::time::sleep(QUIET).await;
            let busy_for_long = self.last.is_none_or(|last| last.elapsed() >= BUSY_INTERVAL);
            if self.releases.in_use() == 0 || busy_for_long {
                return Ready::Work;
            }
        }
    }

    async fn step(&mut self) -> Result<Step, WorkerError> {
        tokio::task::spawn_blocking(crate::malloc_arenas::trim)
            .await
            .map_err(|e| WorkerError::new(format!("trim task failed: {e}")))?;
        self.last = Some(Instant::now());
        self.trims += 1;
        Ok(Step::Idle)
    }

    fn progress(&self) -> Option<String> {
        Some(format!("{} trims", self.trims))
    }
}
