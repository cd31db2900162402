//! Starts `cofferd` with default settings (dedup + zstd + AES-GCM) on a fresh data dir,
//! port 0, and reads the bound ports (S3 and admin API) from its start-up lines with
//! the server's own reader (`coffer_server::startup_lines`, which the test kit uses
//! too). The bench keeps this launcher of its own: it is a product binary, async, and
//! must not pull in the test kit's dependencies. Only the `lifecycle` scenario changes
//! how it starts ([`StartOptions::clock_speedup`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::{RunningServer, ServerError, ServerKind, StartOptions, spawn};
use crate::s3_client::Endpoint;
use coffer_server::sigv4::Credentials;
use coffer_server::startup_lines::{S3_LISTENING, StartupReader};

const ACCESS_KEY: &str = "COFFERBENCHROOTKEY01";
const SECRET_KEY: &str = "coffer-bench-root-secret-key-0123456789ab";

pub async fn start(
    binary: &Path,
    dir: &Path,
    options: &StartOptions,
) -> Result<RunningServer, ServerError> {
    let data = dir.join("data");
    let log = dir.join("cofferd.log");
    let mut cmd = Command::new(binary);
    cmd.arg("--data-dir")
        .arg(&data)
        .arg("--listen")
        .arg("127.0.0.1:0")
        .env("COFFER_ROOT_ACCESS_KEY", ACCESS_KEY)
        .env("COFFER_ROOT_SECRET_KEY", SECRET_KEY)
        .env("COFFER_LOG", "warn")
        .env_remove("COFFER_CONFIG")
        .env_remove("COFFER_DATA_DIR")
        .env_remove("COFFER_LISTEN");
    if let Some(x) = options.clock_speedup {
        cmd.env("COFFER_CLOCK_SPEEDUP", x.to_string());
    }
    let mut child = spawn(cmd, &log, true)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| ServerError::Startup("cofferd stdout not piped".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        let mut reader = StartupReader::default();
        while let Ok(Some(line)) = lines.next_line().await {
            match reader.feed(&line) {
                Ok(Some(startup)) => {
                    let admin = startup
                        .admin_url
                        .split_once("://")
                        .and_then(|(_, rest)| rest.trim_end_matches('/').parse().ok());
                    return Ok(startup.s3_addr().map(|s3| (s3, admin)));
                }
                Ok(None) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(None)
    })
    .await;
    let (addr, admin_addr) = match read {
        Ok(Ok(Some(addrs))) => addrs,
        Ok(Err(why)) => return Err(startup_failed(&log, &why)),
        Ok(Ok(None)) | Err(_) => {
            let why = format!("no `{S3_LISTENING}http://HOST:PORT` line");
            return Err(startup_failed(&log, &why));
        }
    };
    // Keep reading stdout so cofferd never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(RunningServer {
        kind: ServerKind::Coffer,
        endpoint: Arc::new(Endpoint {
            addr,
            creds: Credentials {
                access_key_id: ACCESS_KEY.into(),
                secret_access_key: SECRET_KEY.into(),
                region: "us-east-1".into(),
            },
        }),
        data_dirs: vec![data],
        stores_on_disk: true,
        admin_addr,
        child,
        log,
    })
}

fn startup_failed(log: &Path, why: &str) -> ServerError {
    ServerError::Startup(format!(
        "cofferd start-up lines: {why}; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    ))
}
