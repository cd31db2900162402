//! The servers under test: where each binary is found, how it is started on loopback
//! with a fresh data directory, and what we can observe of it while it runs.

mod cofferd;
mod garage;
mod moto;
mod null_target;
mod s3s_fs;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};

use crate::procfs;
use crate::s3_client::Endpoint;

/// Failures to find or start a server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("not installed ({0})")]
    NotInstalled(String),
    #[error("starting {what}: {source}")]
    Spawn {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Startup(String),
    #[error("I/O in {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Which server a run targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ServerKind {
    Coffer,
    #[value(name = "s3s-fs")]
    S3sFs,
    Garage,
    Moto,
    /// coffer-bench's own discard-everything server: the generator's ceiling.
    Null,
}

impl ServerKind {
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Coffer => "coffer",
            ServerKind::S3sFs => "s3s-fs",
            ServerKind::Garage => "garage",
            ServerKind::Moto => "moto",
            ServerKind::Null => "null",
        }
    }
}

/// Binaries given on the command line; `None` means "look on PATH".
#[derive(Debug, Clone, Default)]
pub struct Binaries {
    pub cofferd: Option<PathBuf>,
    pub s3s_fs: Option<PathBuf>,
    pub garage: Option<PathBuf>,
    pub moto_server: Option<PathBuf>,
}

/// A started server. Killed when dropped.
#[derive(Debug)]
pub struct RunningServer {
    pub kind: ServerKind,
    pub endpoint: Arc<Endpoint>,
    /// Directories holding everything the server stores (for bytes-on-disk).
    pub data_dirs: Vec<PathBuf>,
    /// Whether what it stores is on disk at all (moto and null keep nothing there).
    pub stores_on_disk: bool,
    /// cofferd's admin API (from its start-up lines); `None` for the peers.
    pub admin_addr: Option<SocketAddr>,
    child: Child,
    log: PathBuf,
}

impl RunningServer {
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// VmHWM summed over the server's process tree.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let pid = self.pid()?;
        Some(
            tree(pid)
                .into_iter()
                .filter_map(procfs::peak_rss_bytes)
                .sum(),
        )
    }

    pub fn reset_peak_rss(&self) -> bool {
        self.pid()
            .map(|pid| tree(pid).into_iter().all(procfs::reset_peak_rss))
            .unwrap_or(false)
    }

    pub fn disk_usage_bytes(&self) -> u64 {
        self.data_dirs
            .iter()
            .map(|d| procfs::disk_usage_bytes(d))
            .sum()
    }

    /// The last lines of the server's log, for error reports.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

fn tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|s| s.parse::<u32>().ok()),
            );
        }
        i += 1;
    }
    out
}

/// Finds the binary for `kind`, or says why it is not installed.
pub fn locate(kind: ServerKind, bins: &Binaries) -> Result<PathBuf, ServerError> {
    let (given, name, hint) = match kind {
        ServerKind::Coffer => (
            bins.cofferd.clone().or_else(default_cofferd),
            "cofferd",
            "cargo build --release -p coffer-server",
        ),
        ServerKind::S3sFs => (
            bins.s3s_fs.clone(),
            "s3s-fs",
            "scripts/install-bench-peers.sh",
        ),
        ServerKind::Garage => (
            bins.garage.clone(),
            "garage",
            "scripts/install-bench-peers.sh",
        ),
        ServerKind::Moto => (
            bins.moto_server.clone(),
            "moto_server",
            "scripts/install-bench-peers.sh",
        ),
        ServerKind::Null => {
            return std::env::current_exe().map_err(|e| ServerError::NotInstalled(e.to_string()));
        }
    };
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(ServerError::NotInstalled(format!(
                "{} does not exist; {hint}",
                path.display()
            )))
        };
    }
    find_on_path(name)
        .ok_or_else(|| ServerError::NotInstalled(format!("`{name}` not on PATH; {hint}")))
}

/// `$COFFER_BIN`, else `cofferd` next to this executable (same cargo profile).
fn default_cofferd() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("COFFER_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.join("cofferd");
    candidate.is_file().then_some(candidate)
}

/// Looks a program up on PATH and in ~/.cargo/bin (where `cargo install` puts peers).
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// What one scenario changes in how a server is started. The default (every
/// scenario but `lifecycle`) changes nothing.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// cofferd only: `COFFER_CLOCK_SPEEDUP`, the engine clock's speed.
    pub clock_speedup: Option<f64>,
}

/// Starts `kind` from `binary` with its state under `dir` (which must be empty).
pub async fn start(
    kind: ServerKind,
    binary: &Path,
    dir: &Path,
    options: &StartOptions,
) -> Result<RunningServer, ServerError> {
    std::fs::create_dir_all(dir).map_err(|source| ServerError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    match kind {
        ServerKind::Coffer => cofferd::start(binary, dir, options).await,
        ServerKind::S3sFs => s3s_fs::start(binary, dir).await,
        ServerKind::Garage => garage::start(binary, dir).await,
        ServerKind::Moto => moto::start(binary, dir).await,
        ServerKind::Null => null_target::start(binary, dir).await,
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, ServerError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ServerError::Startup(format!("finding a free port: {e}")))
}

/// Spawns `cmd` with stderr (and stdout unless piped by the caller) going to `log`.
fn spawn(mut cmd: Command, log: &Path, pipe_stdout: bool) -> Result<Child, ServerError> {
    let file = std::fs::File::create(log).map_err(|source| ServerError::Io {
        path: log.to_path_buf(),
        source,
    })?;
    let err_file = file.try_clone().map_err(|source| ServerError::Io {
        path: log.to_path_buf(),
        source,
    })?;
    cmd.stdin(Stdio::null())
        .stderr(Stdio::from(err_file))
        .kill_on_drop(true);
    if pipe_stdout {
        cmd.stdout(Stdio::piped());
    } else {
        cmd.stdout(Stdio::from(file));
    }
    cmd.spawn().map_err(|source| ServerError::Spawn {
        what: format!("{:?}", cmd.as_std().get_program()),
        source,
    })
}

/// Waits until something accepts TCP connections on `addr`, or the child died.
async fn wait_for_port(
    child: &mut Child,
    addr: SocketAddr,
    log: &Path,
    timeout: Duration,
) -> Result<(), ServerError> {
    let deadline = Instant::now() + timeout;
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(ServerError::Startup(format!(
                "exited with {status} before listening; log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            )));
        }
        if Instant::now() > deadline {
            return Err(ServerError::Startup(format!(
                "not listening on {addr} after {timeout:?}"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
