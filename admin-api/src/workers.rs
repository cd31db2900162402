//! `GET /v1/workers`: what the server's worker runner knows about each
//! background worker (one object per worker, in the order they were started).

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// Where a worker is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Waiting for work or for its next scheduled step.
    Idle,
    /// In the middle of a step.
    Running,
    /// Waiting before a retry after an error or a panic.
    BackingOff,
    /// Ended: stopped at shutdown, or its input closed.
    Stopped,
}

/// One worker's state and history since the server started. Counters and
/// times a server leaves out read as zero and none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerStatus {
    pub name: String,
    pub state: WorkerState,
    /// Steps that completed without error.
    #[serde(default)]
    pub steps: u64,
    /// Steps that failed or panicked.
    #[serde(default)]
    pub errors: u64,
    /// Times the worker was rebuilt after a panic.
    #[serde(default)]
    pub restarts: u64,
    /// Engine time of the last step that succeeded.
    #[serde(default)]
    pub last_success: Option<Timestamp>,
    /// The last failure's message, kept after later successes.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Engine time of the last failure.
    #[serde(default)]
    pub last_error_at: Option<Timestamp>,
    /// The worker's own account of its work.
    #[serde(default)]
    pub progress: Option<String>,
}

impl WorkerStatus {
    pub fn new(name: &str) -> Self {
        WorkerStatus {
            name: name.to_owned(),
            state: WorkerState::Idle,
            steps: 0,
            errors: 0,
            restarts: 0,
            last_success: None,
            last_error: None,
            last_error_at: None,
            progress: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_snake_case_on_the_wire() {
        let mut s = WorkerStatus::new("shared-pack-writer");
        s.state = WorkerState::BackingOff;
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["state"], "backing_off");
        assert_eq!(v["name"], "shared-pack-writer");
        let back: WorkerStatus = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }
}
