//! `GET /v1/health` and `GET /v1/status`.

use serde::{Deserialize, Serialize};

/// `GET /v1/health`, the one endpoint that needs no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// `ok`, or `saturated` when the S3 listener serves as many connections
    /// as it accepts (one more is answered 503 SlowDown), every request slot
    /// is taken (new requests queue), the blocking pool is full, or all of
    /// the GET read budget is in use (GETs wait for it).
    pub status: String,
    #[serde(default)]
    pub version: Option<String>,
    /// Open S3 connections.
    #[serde(default)]
    pub s3_connections: Option<u64>,
    /// The most S3 connections served at once (`[s3] max_connections`).
    #[serde(default)]
    pub s3_max_connections: Option<u64>,
    /// S3 connections turned away for the cap since start.
    #[serde(default)]
    pub s3_connections_refused: Option<u64>,
    /// Signed S3 requests holding a slot (`[s3] max_requests`).
    #[serde(default)]
    pub s3_requests: Option<u64>,
    /// The most signed S3 requests served at once (0 = no limit).
    #[serde(default)]
    pub s3_max_requests: Option<u64>,
    /// Requests answered 503 SlowDown after waiting for a slot, since start.
    #[serde(default)]
    pub s3_requests_refused: Option<u64>,
    /// Access keys with all their slots taken (`[s3] max_requests_per_key`):
    /// their requests queue, other keys' do not.
    #[serde(default)]
    pub s3_keys_at_limit: Option<u64>,
    /// Tasks waiting for or running on the blocking pool.
    #[serde(default)]
    pub blocking_tasks: Option<u64>,
    /// The blocking pool's threads.
    #[serde(default)]
    pub blocking_threads: Option<u64>,
    /// Bytes of GET data held in memory now (chunks opened, not yet sent).
    #[serde(default)]
    pub read_buffer_bytes_in_use: Option<u64>,
    /// The most GET data held at once (`[engine] read_buffer_bytes`); at it,
    /// GETs wait for their turn.
    #[serde(default)]
    pub read_buffer_bytes: Option<u64>,
}

/// `GET /v1/status`. cofferd sends every counter; each is optional so that an
/// older or newer server's answer still prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub uptime_seconds: Option<u64>,
    #[serde(default)]
    pub buckets: Option<u64>,
    /// Current (latest, not deleted) objects over all buckets.
    #[serde(default)]
    pub objects: Option<u64>,
    /// Every stored version, delete markers included.
    #[serde(default)]
    pub versions: Option<u64>,
    /// The bytes of the current objects as uploaded.
    #[serde(default)]
    pub logical_bytes: Option<u64>,
    /// The bytes of the packs on storage.
    #[serde(default)]
    pub stored_bytes: Option<u64>,
    #[serde(default)]
    pub dedup_ratio: Option<f64>,
    #[serde(default)]
    pub packs: Option<u64>,
    #[serde(default)]
    pub chunks: Option<u64>,
}
