//! Starts `coffer-bench null-server` as a separate process: a server that does no work,
//! so its figures are the ceiling of the load generator on this machine.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use super::{RunningServer, ServerError, ServerKind, spawn};
use crate::null_server::LISTENING;
use crate::s3_client::Endpoint;
use coffer_server::sigv4::Credentials;

pub async fn start(binary: &Path, dir: &Path) -> Result<RunningServer, ServerError> {
    let log = dir.join("null.log");
    let mut cmd = Command::new(binary);
    cmd.args(["null-server", "--listen", "127.0.0.1:0"]);
    let mut child = spawn(cmd, &log, true)?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| ServerError::Startup("null server stdout not piped".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix(LISTENING) {
                return rest.trim().parse().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| ServerError::Startup("null server printed no listening line".into()))?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(RunningServer {
        kind: ServerKind::Null,
        endpoint: Arc::new(Endpoint {
            addr,
            creds: Credentials {
                access_key_id: "null".into(),
                secret_access_key: "null".into(),
                region: "us-east-1".into(),
            },
        }),
        data_dirs: vec![],
        stores_on_disk: false,
        admin_addr: None,
        child,
        log,
    })
}
