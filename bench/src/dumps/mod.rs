//! Nightly database dumps for the dedup scenario: produced once per run (from a real
//! PostgreSQL with pgbench churn, or synthetically) and then fed to every server and
//! to restic, so that all of them ingest exactly the same bytes.

pub mod pgbench;
pub mod restic;
pub mod synthetic;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Failures producing dumps or running restic.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("I/O in {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
    #[error("not installed: {0}")]
    NotInstalled(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DumpError + '_ {
    move |source| DumpError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One night: the same database dumped in plain SQL and in custom format (uncompressed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Night {
    pub plain: PathBuf,
    pub custom: PathBuf,
}

impl Night {
    pub fn files(&self) -> [(&'static str, &Path); 2] {
        [("plain.sql", &self.plain), ("custom.dump", &self.custom)]
    }
}

/// All nights, in order, and how they were made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DumpSet {
    /// Describes the generator and its parameters; a cache is reused only if equal.
    pub source: String,
    pub nights: Vec<Night>,
    pub total_bytes: u64,
}

const MANIFEST: &str = "dumpset.json";

impl DumpSet {
    /// A previously generated set in `dir` with exactly this `source`, if complete.
    pub fn load_cached(dir: &Path, source: &str) -> Option<DumpSet> {
        let text = std::fs::read_to_string(dir.join(MANIFEST)).ok()?;
        let set: DumpSet = serde_json::from_str(&text).ok()?;
        let sizes: u64 = set
            .nights
            .iter()
            .flat_map(|n| n.files())
            .map(|(_, p)| {
                std::fs::metadata(p)
                    .map(|m| m.len())
                    .unwrap_or(u64::MAX / 4)
            })
            .sum();
        (set.source == source && sizes == set.total_bytes).then_some(set)
    }

    pub fn save(&self, dir: &Path) -> Result<(), DumpError> {
        let path = dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        std::fs::write(&path, text).map_err(io(&path))
    }

    pub fn from_nights(source: String, nights: Vec<Night>) -> Result<DumpSet, DumpError> {
        let mut total = 0;
        for night in &nights {
            for (_, p) in night.files() {
                total += std::fs::metadata(p).map_err(io(p))?.len();
            }
        }
        Ok(DumpSet {
            source,
            nights,
            total_bytes: total,
        })
    }
}
