//! Starts `s3s-fs` 0.14.1: objects as plain files under a directory, no dedup,
//! compression or encryption — the "no extra work" reference.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;

use super::{RunningServer, ServerError, ServerKind, free_port, spawn, wait_for_port};
use crate::s3_client::Endpoint;
use coffer_server::sigv4::Credentials;

const ACCESS_KEY: &str = "S3SFSBENCHACCESSKEY1";
const SECRET_KEY: &str = "s3s-fs-bench-secret-key-0123456789abcdef";

pub async fn start(binary: &Path, dir: &Path) -> Result<RunningServer, ServerError> {
    let root = dir.join("root");
    std::fs::create_dir_all(&root).map_err(|source| ServerError::Io {
        path: root.clone(),
        source,
    })?;
    let port = free_port()?;
    let log = dir.join("s3s-fs.log");
    let mut cmd = Command::new(binary);
    cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(&root)
        .env("RUST_LOG", "warn");
    let mut child = spawn(cmd, &log, false)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for_port(&mut child, addr, &log, Duration::from_secs(30)).await?;
    Ok(RunningServer {
        kind: ServerKind::S3sFs,
        endpoint: Arc::new(Endpoint {
            addr,
            creds: Credentials {
                access_key_id: ACCESS_KEY.into(),
                secret_access_key: SECRET_KEY.into(),
                region: "us-east-1".into(),
            },
        }),
        data_dirs: vec![root],
        stores_on_disk: true,
        admin_addr: None,
        child,
        log,
    })
}
