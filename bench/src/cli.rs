//! Command-line interface: `run` (the benchmark) and `null-server` (the no-work target).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::scenarios::Scenario;
use crate::servers::ServerKind;

#[derive(Debug, Parser)]
#[command(
    name = "coffer-bench",
    about = "Side-by-side S3 benchmarks: Coffer and its peers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the scenarios against each server in turn and print one table.
    Run(Box<RunArgs>),
    /// Serve a do-nothing S3 endpoint (used as the `null` target).
    NullServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Servers to compare, in column order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "coffer,s3s-fs,garage,moto,null"
    )]
    pub servers: Vec<ServerKind>,
    /// Scenarios to run.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "large,small,list,dump,memory"
    )]
    pub scenarios: Vec<Scenario>,
    /// Skip restic in the dump scenario.
    #[arg(long)]
    pub no_restic: bool,

    #[arg(long, env = "COFFER_BIN")]
    pub cofferd: Option<PathBuf>,
    #[arg(long)]
    pub s3s_fs: Option<PathBuf>,
    #[arg(long)]
    pub garage: Option<PathBuf>,
    #[arg(long)]
    pub moto_server: Option<PathBuf>,
    #[arg(long)]
    pub restic: Option<PathBuf>,

    /// Where servers keep their data (a fresh subdirectory per server and scenario).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep each server's data directory after its scenario (default: delete it).
    #[arg(long)]
    pub keep_data: bool,
    #[arg(long, default_value = "bench-results.json")]
    pub json: PathBuf,
    #[arg(long, default_value = "bench-results.md")]
    pub markdown: PathBuf,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Compare every large GET body with what was PUT (slower; for harness checks).
    #[arg(long)]
    pub verify: bool,

    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    pub large_size: usize,
    #[arg(long, default_value_t = 4)]
    pub large_streams: usize,
    /// Objects per data kind (spread over the streams).
    #[arg(long, default_value_t = 16)]
    pub large_objects: usize,

    #[arg(long, default_value_t = 4096)]
    pub small_size: usize,
    #[arg(long, default_value_t = 32)]
    pub small_concurrency: usize,
    #[arg(long, default_value_t = 10_000)]
    pub small_objects: usize,

    #[arg(long, default_value_t = 100_000)]
    pub list_keys: usize,
    #[arg(long, default_value_t = 1000)]
    pub list_page: usize,
    /// Full passes over the bucket.
    #[arg(long, default_value_t = 4)]
    pub list_passes: usize,
    /// Passes running at the same time.
    #[arg(long, default_value_t = 1)]
    pub list_concurrency: usize,
    #[arg(long, default_value_t = 32)]
    pub list_populate_concurrency: usize,

    #[arg(long, default_value_t = 30)]
    pub dump_nights: usize,
    /// pgbench scale factor (100,000 accounts each; ≈ 13 MB of plain dump each).
    #[arg(long, default_value_t = 10)]
    pub dump_scale: u32,
    /// Share of accounts a night's pgbench run updates, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub dump_churn_pct: f64,
    /// Generate dump-like text instead of running PostgreSQL.
    #[arg(long)]
    pub synthetic: bool,
    /// Accounts in the synthetic dump (≈ 100 bytes each).
    #[arg(long, default_value_t = 1_000_000)]
    pub synthetic_rows: usize,
    /// Keep generated dumps here and reuse them when the parameters match.
    #[arg(long)]
    pub dump_cache: Option<PathBuf>,

    #[arg(long, default_value_t = 1024 * 1024 * 1024)]
    pub memory_size: usize,
    #[arg(long, default_value_t = 4)]
    pub memory_streams: usize,

    /// Versions loaded into the bucket the lifecycle worker passes over.
    #[arg(long, default_value_t = 1_000_000)]
    pub lifecycle_versions: usize,
    /// Keys the versions are spread over (round robin).
    #[arg(long, default_value_t = 1000)]
    pub lifecycle_keys: usize,
    #[arg(long, default_value_t = 32)]
    pub lifecycle_load_concurrency: usize,
    /// Body size of the small PUTs measured with the worker idle and running.
    #[arg(long, default_value_t = 4096)]
    pub lifecycle_put_size: usize,
    #[arg(long, default_value_t = 32)]
    pub lifecycle_put_concurrency: usize,
    /// Seconds of each measured phase (PUTs idle, worker alone, PUTs with the worker).
    #[arg(long, default_value_t = 20.0)]
    pub lifecycle_seconds: f64,
    /// Rounds of the three phases (the rules are deleted again before each round's
    /// idle phase).
    #[arg(long, default_value_t = 2)]
    pub lifecycle_rounds: usize,
    /// cofferd's `COFFER_CLOCK_SPEEDUP` in this scenario (3,600,000: the worker's
    /// one-hour interval between passes is one real millisecond).
    #[arg(long, default_value_t = 3_600_000.0)]
    pub lifecycle_clock_speedup: f64,

    /// moto keeps objects in memory: scenarios storing more than this are skipped for it
    /// (reported as infeasible).
    #[arg(long, default_value_t = 2 * 1024 * 1024 * 1024)]
    pub moto_max_bytes: u64,
    /// moto creates keys at a few hundred per second: listing scenarios needing more
    /// keys than this are skipped for it (reported as infeasible).
    #[arg(long, default_value_t = 20_000)]
    pub moto_max_keys: usize,
    /// Before each server's run, write and delete a scratch file as large as the
    /// scenario's writes, at most this many bytes (0: never), so every server starts
    /// from the same page-cache state (see bench/src/page_cache.rs).
    #[arg(long, default_value_t = 3 * 1024 * 1024 * 1024)]
    pub page_cache_warmup_max: u64,
    /// s3s-fs stats every object of the bucket for each listing page: listing scenarios
    /// needing more keys than this are skipped for it (reported as infeasible).
    #[arg(long, default_value_t = 20_000)]
    pub s3s_fs_max_keys: usize,
}
