//! Starts `moto_server` (PyPI `moto[server]`): an in-memory AWS mock, the slow end
//! of the comparison. It accepts any credentials.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::Command;

use super::{RunningServer, ServerError, ServerKind, free_port, spawn, wait_for_port};
use crate::s3_client::Endpoint;
use coffer_server::sigv4::Credentials;

pub async fn start(binary: &Path, dir: &Path) -> Result<RunningServer, ServerError> {
    let port = free_port()?;
    let log = dir.join("moto.log");
    let mut cmd = Command::new(binary);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .current_dir(dir)
        // moto spills large bodies to temp files; keep them inside the server's dir.
        .env("TMPDIR", dir);
    let mut child = spawn(cmd, &log, false)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_for_port(&mut child, addr, &log, Duration::from_secs(60)).await?;
    Ok(RunningServer {
        kind: ServerKind::Moto,
        endpoint: Arc::new(Endpoint {
            addr,
            creds: Credentials {
                access_key_id: "motobenchkey".into(),
                secret_access_key: "motobenchsecret".into(),
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
