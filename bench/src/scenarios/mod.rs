//! The six scenarios, their parameters, and what they share: bucket set-up and
//! turning a measured phase into named figures.

pub mod dump_dedup;
pub mod large_objects;
pub mod lifecycle;
pub mod listing;
pub mod memory;
pub mod small_objects;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::dumps::DumpError;
use crate::latency::percentile_ms;
use crate::pool::PhaseOutcome;
use crate::results::Measured;
use crate::s3_client::{ClientError, Connection, Endpoint};

/// Scenario names as used on the command line and in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    Large,
    Small,
    List,
    Dump,
    Memory,
    /// cofferd only: the lifecycle worker's evaluation rate and its cost to PUTs.
    Lifecycle,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Large => "large",
            Scenario::Small => "small",
            Scenario::List => "list",
            Scenario::Dump => "dump",
            Scenario::Memory => "memory",
            Scenario::Lifecycle => "lifecycle",
        }
    }
}

/// Failures inside a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("check failed: {0}")]
    Check(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Dump(#[from] DumpError),
}

/// Creates a bucket, retrying while a freshly started server is still settling
/// (Garage accepts connections before its layout is live).
pub async fn create_bucket(endpoint: &Arc<Endpoint>, bucket: &str) -> Result<(), ClientError> {
    let mut conn = Connection::new(endpoint.clone());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match conn.create_bucket(bucket).await {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// Records a phase's throughput, counts, CPU and latencies under `prefix`.
pub fn record(m: &mut Measured, prefix: &str, outcome: &mut PhaseOutcome) {
    m.set(format!("{prefix}.ops"), outcome.ops as f64);
    m.set(format!("{prefix}.bytes"), outcome.bytes as f64);
    m.set(format!("{prefix}.seconds"), outcome.elapsed.as_secs_f64());
    m.set(format!("{prefix}.mb_per_s"), outcome.mb_per_s());
    m.set(format!("{prefix}.ops_per_s"), outcome.ops_per_s());
    m.set(format!("{prefix}.client_cpu_s"), outcome.client_cpu_seconds);
    m.set(format!("{prefix}.server_cpu_s"), outcome.server_cpu_seconds);
    if let Some(p) = percentile_ms(&mut outcome.latencies, 50.0) {
        m.set(format!("{prefix}.p50_ms"), p);
    }
    if let Some(p) = percentile_ms(&mut outcome.latencies, 99.0) {
        m.set(format!("{prefix}.p99_ms"), p);
    }
}

/// Fails the scenario when a counter is not what the harness put in.
pub fn expect_eq(what: &str, got: u64, want: u64) -> Result<(), ScenarioError> {
    if got == want {
        Ok(())
    } else {
        Err(ScenarioError::Check(format!(
            "{what}: got {got}, expected {want}"
        )))
    }
}
