//! The sections of `cofferd.toml` other than `[storage]`: what each holds,
//! with a doc comment and a serde default on every field, so an empty file
//! (or a missing section) is the default configuration.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// `[server]`: what the whole process uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Directory holding the repository, the master key file and the metadata store.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// `tracing` filter for the log on stderr (e.g. `info`, `debug,hyper=info`).
    #[serde(default = "default_log")]
    pub log: String,
}

/// `[s3]`: the S3 listener and what it tells clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Section {
    /// Address of the S3 listener, `host:port`; port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// PEM certificate chain; with `tls_key`, the listener speaks HTTPS only.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`; refused if readable by everyone.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Region reported to clients and expected in LocationConstraint.
    #[serde(default = "default_region")]
    pub region: String,
    /// Base domain enabling virtual-host addressing (`bucket.<domain>`); path style always works.
    #[serde(default)]
    pub domain: Option<String>,
    /// Seconds a client may take to send a request's headers before the
    /// connection is closed (against slow clients holding connections open).
    #[serde(default = "default_header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
    /// Bytes per second a request body must average, over each
    /// `body_rate_window_secs` the server spends waiting for it; slower
    /// bodies are cut with 400 RequestTimeout. 0 turns the check off.
    #[serde(default = "default_body_min_rate")]
    pub body_min_rate: u64,
    /// Seconds of waiting over which `body_min_rate` is judged.
    #[serde(default = "default_body_rate_window_secs")]
    pub body_rate_window_secs: u64,
    /// Seconds a response may wait on a client that reads nothing before
    /// the connection is closed (a GET never read holds its buffers until then).
    #[serde(default = "default_send_timeout_secs")]
    pub send_timeout_secs: u64,
    /// Open connections the S3 listener accepts at once; one more is
    /// answered 503 SlowDown and closed (never left to exhaust descriptors).
    /// Lowered at start if the process's file-descriptor limit is smaller.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Signed requests served at once; more wait up to 10 s for a slot, then
    /// get 503 SlowDown. 0 = no limit.
    #[serde(default = "default_max_requests")]
    pub max_requests: usize,
    /// Signed requests of one access key served at once (waiting as above),
    /// so that one key cannot take every slot. 0 = no limit.
    #[serde(default = "default_max_requests_per_key")]
    pub max_requests_per_key: usize,
}

/// `[admin]`: the admin API listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// Address of the admin API listener, `host:port`; port 0 picks a free port.
    #[serde(default = "default_admin_listen")]
    pub listen: String,
    /// Admin token to store when `<data-dir>/admin.token` does not exist yet
    /// (instead of a generated one).
    #[serde(default)]
    pub token: Option<Secret>,
    /// PEM certificate chain; with `tls_key`, the admin API speaks HTTPS only.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`; refused if readable by everyone.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Seconds a client may take to send a request's headers.
    #[serde(default = "default_header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
}

/// `[engine]`: how objects are cut, sealed and timed, and the first start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// zstd level for new chunks (1–22; chunks that do not shrink are kept raw).
    #[serde(default = "default_zstd_level")]
    pub zstd_level: i32,
    /// Threads that seal (compress + encrypt) chunks; 0 = one per core.
    #[serde(default)]
    pub seal_threads: usize,
    /// Speed-up of the engine's clock, for tests (1.0 = real time; 86400 = a day per second).
    #[serde(default = "default_clock_speedup")]
    pub clock_speedup: f64,
    /// Where the engine's clock starts, RFC 3339 (`2024-01-01T00:00:00Z`),
    /// for tests that need backups at chosen dates; unset = now. Versions
    /// and lifecycle, lock and retention decisions all read this clock.
    #[serde(default)]
    pub clock_start: Option<String>,
    /// Root access key id to create on first start instead of a generated one.
    #[serde(default)]
    pub root_access_key: Option<String>,
    /// Root secret key to create on first start instead of a generated one.
    #[serde(default)]
    pub root_secret_key: Option<Secret>,
    /// Bytes of GET data (chunks read and opened but not yet sent) held in
    /// memory at once, across all requests; past it GETs wait for their
    /// turn. Bounds what clients that do not read can make the server hold.
    /// At least twice `[engine.chunker] max_size` plus 64 KiB.
    #[serde(default = "default_read_buffer_bytes")]
    pub read_buffer_bytes: u64,
    /// Content-defined chunking of a new repository (an existing one keeps its own).
    #[serde(default)]
    pub chunker: ChunkerConfig,
}

/// `[engine.chunker]`: FastCDC parameters, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkerConfig {
    /// Smallest chunk (except an object's last).
    #[serde(default = "default_chunk_min")]
    pub min_size: u32,
    /// Average chunk size the cut-point condition aims at.
    #[serde(default = "default_chunk_avg")]
    pub avg_size: u32,
    /// Largest chunk; a cut is forced here.
    #[serde(default = "default_chunk_max")]
    pub max_size: u32,
}

/// `[workers]`: settings of the background workers. None has a setting yet;
/// the section exists so that a worker's settings get one place, and a key
/// written here today is refused rather than silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkersSection {}

pub(super) fn default_data_dir() -> PathBuf {
    PathBuf::from("./coffer-data")
}
fn default_log() -> String {
    "info".to_owned()
}
fn default_listen() -> String {
    "127.0.0.1:9000".to_owned()
}
pub(super) fn default_admin_listen() -> String {
    "127.0.0.1:9001".to_owned()
}
fn default_region() -> String {
    "us-east-1".to_owned()
}
fn default_header_read_timeout_secs() -> u64 {
    30
}
fn default_body_min_rate() -> u64 {
    1024
}
fn default_body_rate_window_secs() -> u64 {
    30
}
fn default_send_timeout_secs() -> u64 {
    60
}
fn default_max_connections() -> usize {
    4096
}
fn default_max_requests() -> usize {
    1024
}
fn default_max_requests_per_key() -> usize {
    256
}
fn default_zstd_level() -> i32 {
    3
}
fn default_read_buffer_bytes() -> u64 {
    crate::engine::DEFAULT_READ_BUFFER_BYTES
}
fn default_clock_speedup() -> f64 {
    1.0
}
pub(super) fn default_chunk_min() -> u32 {
    256 * 1024
}
pub(super) fn default_chunk_avg() -> u32 {
    1024 * 1024
}
pub(super) fn default_chunk_max() -> u32 {
    4 * 1024 * 1024
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            data_dir: default_data_dir(),
            log: default_log(),
        }
    }
}

impl Default for S3Section {
    fn default() -> Self {
        S3Section {
            listen: default_listen(),
            tls_cert: None,
            tls_key: None,
            region: default_region(),
            domain: None,
            header_read_timeout_secs: default_header_read_timeout_secs(),
            body_min_rate: default_body_min_rate(),
            body_rate_window_secs: default_body_rate_window_secs(),
            send_timeout_secs: default_send_timeout_secs(),
            max_connections: default_max_connections(),
            max_requests: default_max_requests(),
            max_requests_per_key: default_max_requests_per_key(),
        }
    }
}

impl Default for AdminSection {
    fn default() -> Self {
        AdminSection {
            listen: default_admin_listen(),
            token: None,
            tls_cert: None,
            tls_key: None,
            header_read_timeout_secs: default_header_read_timeout_secs(),
        }
    }
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            zstd_level: default_zstd_level(),
            seal_threads: 0,
            clock_speedup: default_clock_speedup(),
            clock_start: None,
            root_access_key: None,
            root_secret_key: None,
            read_buffer_bytes: default_read_buffer_bytes(),
            chunker: ChunkerConfig::default(),
        }
    }
}

impl Default for ChunkerConfig {
    fn default() -> Self {
        ChunkerConfig {
            min_size: default_chunk_min(),
            avg_size: default_chunk_avg(),
            max_size: default_chunk_max(),
        }
    }
}
