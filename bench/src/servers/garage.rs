//! Starts Garage 2.5.0 as a single node: writes a config, runs `garage server`, then
//! assigns and applies a one-node layout and creates a key allowed to create buckets.
//! Garage's own defaults are kept (1 MiB blocks, zstd level 1, no data fsync).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::Command;

use super::{RunningServer, ServerError, ServerKind, free_port, spawn, wait_for_port};
use crate::payload::Rng;
use crate::s3_client::Endpoint;
use coffer_server::sigv4::Credentials;

pub async fn start(binary: &Path, dir: &Path) -> Result<RunningServer, ServerError> {
    let meta = dir.join("meta");
    let data = dir.join("data");
    let (s3_port, rpc_port, admin_port) = (free_port()?, free_port()?, free_port()?);
    let mut rng = Rng::new(u64::from(s3_port) << 32 | u64::from(rpc_port));
    let secret: String = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
    let config = format!(
        "metadata_dir = \"{}\"\ndata_dir = \"{}\"\ndb_engine = \"lmdb\"\n\
         replication_factor = 1\n\
         rpc_bind_addr = \"127.0.0.1:{rpc_port}\"\nrpc_public_addr = \"127.0.0.1:{rpc_port}\"\n\
         rpc_secret = \"{secret}\"\n\n\
         [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{s3_port}\"\n\
         root_domain = \".s3.garage.localhost\"\n\n\
         [admin]\napi_bind_addr = \"127.0.0.1:{admin_port}\"\n",
        meta.display(),
        data.display()
    );
    let config_path = dir.join("garage.toml");
    std::fs::write(&config_path, config).map_err(|source| ServerError::Io {
        path: config_path.clone(),
        source,
    })?;
    let log = dir.join("garage.log");
    let mut cmd = Command::new(binary);
    cmd.arg("-c")
        .arg(&config_path)
        .arg("server")
        .env("RUST_LOG", "warn");
    let mut child = spawn(cmd, &log, false)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], s3_port));
    wait_for_port(&mut child, addr, &log, Duration::from_secs(60)).await?;
    let rpc = SocketAddr::from(([127, 0, 0, 1], rpc_port));
    wait_for_port(&mut child, rpc, &log, Duration::from_secs(30)).await?;

    let cli = |args: Vec<String>| {
        let config_path = config_path.clone();
        async move {
            let out = Command::new(binary)
                .arg("-c")
                .arg(&config_path)
                .args(&args)
                .env("RUST_LOG", "warn")
                .output()
                .await
                .map_err(|source| ServerError::Spawn {
                    what: format!("garage {}", args.join(" ")),
                    source,
                })?;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            if out.status.success() {
                Ok(text)
            } else {
                Err(ServerError::Startup(format!(
                    "garage {} failed: {text}",
                    args.join(" ")
                )))
            }
        }
    };
    let node_id = node_id(&cli(vec!["node".into(), "id".into(), "-q".into()]).await?)
        .ok_or_else(|| ServerError::Startup("garage node id: no id in output".into()))?;
    cli(vec![
        "layout".into(),
        "assign".into(),
        "-z".into(),
        "dc1".into(),
        "-c".into(),
        "100G".into(),
        node_id,
    ])
    .await?;
    cli(vec![
        "layout".into(),
        "apply".into(),
        "--version".into(),
        "1".into(),
    ])
    .await?;
    let created = cli(vec!["key".into(), "create".into(), "bench".into()]).await?;
    let access_key = field(&created, "Key ID")
        .ok_or_else(|| ServerError::Startup(format!("garage key create: {created}")))?;
    let secret_key = field(&created, "Secret key")
        .ok_or_else(|| ServerError::Startup(format!("garage key create: {created}")))?;
    cli(vec![
        "key".into(),
        "allow".into(),
        "--create-bucket".into(),
        "bench".into(),
    ])
    .await?;
    // The layout takes effect asynchronously; wait until the node reports it.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(status) = cli(vec!["status".into()]).await
            && status.contains("dc1")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(RunningServer {
        kind: ServerKind::Garage,
        endpoint: Arc::new(Endpoint {
            addr,
            creds: Credentials {
                access_key_id: access_key,
                secret_access_key: secret_key,
                region: "garage".into(),
            },
        }),
        data_dirs: vec![meta, data],
        stores_on_disk: true,
        admin_addr: None,
        child,
        log,
    })
}

/// `garage node id -q` prints `<hex id>@<addr>`; the layout wants the hex part.
fn node_id(output: &str) -> Option<String> {
    output
        .lines()
        .filter_map(|l| l.trim().split('@').next())
        .find(|id| id.len() >= 16 && id.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_owned)
}

/// Value of a `Name: value` line in Garage's CLI output.
fn field(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == name).then(|| v.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cli_output() {
        assert_eq!(
            node_id(
                "563e1ac825ee3323aa441e72c26d1030d6d4414aeb3dd25287c531e7fc2bc95d@127.0.0.1:3901\n"
            )
            .as_deref(),
            Some("563e1ac825ee3323aa441e72c26d1030d6d4414aeb3dd25287c531e7fc2bc95d")
        );
        let out = "==== ACCESS KEY INFORMATION ====\nKey ID:              GK31c2f218a2e44f485b94239e\n\
                   Key name:            bench\nSecret key:          b892c0665f0ada8a4755dae98baa3b133590e11dae3bcc1f9d769d67f16c3835\n";
        assert_eq!(
            field(out, "Key ID").as_deref(),
            Some("GK31c2f218a2e44f485b94239e")
        );
        assert_eq!(
            field(out, "Secret key").as_deref(),
            Some("b892c0665f0ada8a4755dae98baa3b133590e11dae3bcc1f9d769d67f16c3835")
        );
    }
}
