//! The `memory-trim` worker: gives memory that a burst of GETs freed back to
//! the system (glibc keeps freed chunk buffers otherwise; see
//! `crate::malloc_arenas`).
//!
//! It wakes when 16 MiB went back to the GET data budget since its last
//! trim, or 1 MiB and the budget is idle (a burst ended), and trims on the
//! blocking pool, at most once a second of real time (not engine time: a
//! test's clock speed-up must not turn it into a trim per chunk), so that
//! steady traffic pays for one trim a second.

use std::time::Duration;

use tokio::time::Instant;

use crate::engine::read_budget::Releases;
use crate::workers::{Ready, Schedule, Spec, Step, Worker, WorkerError};

/// The shortest real time between two trims.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

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
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + MIN_INTERVAL).await;
        }
        Ready::Work
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
