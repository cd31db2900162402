//! What a benchmark run produced, as serialised to the JSON output file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub started_at: String,
    pub finished_at: String,
    pub machine: Machine,
    pub command_line: Vec<String>,
    /// Column order of the table: the servers (and restic) that were asked for.
    pub servers: Vec<String>,
    pub scenarios: Vec<String>,
    pub runs: Vec<ScenarioRun>,
}

/// The machine the figures came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
}

/// How one (server, scenario) pair ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum RunStatus {
    Ok,
    NotInstalled(String),
    /// The scenario does not fit this server (e.g. an in-memory server and tens of GB).
    Infeasible(String),
    Failed(String),
}

/// One scenario against one server, on a fresh instance with an empty data dir.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioRun {
    pub server: String,
    pub scenario: String,
    pub status: RunStatus,
    /// 1-minute load average when the scenario started and ended on this server.
    pub load_avg_start: Option<f64>,
    pub load_avg_end: Option<f64>,
    /// Server peak RSS (VmHWM) over this scenario's whole life, bytes.
    pub server_peak_rss_bytes: Option<u64>,
    /// Figures and counters, keyed `<scenario>.<what>`; units are in the key's suffix.
    pub metrics: BTreeMap<String, f64>,
    pub notes: Vec<String>,
}

impl ScenarioRun {
    pub fn new(server: &str, scenario: &str, status: RunStatus) -> Self {
        Self {
            server: server.to_owned(),
            scenario: scenario.to_owned(),
            status,
            load_avg_start: None,
            load_avg_end: None,
            server_peak_rss_bytes: None,
            metrics: BTreeMap::new(),
            notes: Vec::new(),
        }
    }
}

/// What a scenario body hands back on success.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    pub metrics: BTreeMap<String, f64>,
    pub notes: Vec<String>,
}

impl Measured {
    pub fn set(&mut self, key: impl Into<String>, value: f64) {
        self.metrics.insert(key.into(), value);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }
}
