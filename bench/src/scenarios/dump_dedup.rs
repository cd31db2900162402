//! Scenario 4: 30 nights of database dumps (plain + custom) uploaded to the same two
//! keys of a versioned bucket, one stream, like `aws s3 cp` in a nightly job: logical
//! bytes, bytes on disk, ingest MB/s. Servers without versioning keep each night under
//! its own key instead, so that every server retains the same 30 nights.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::{ScenarioError, create_bucket, expect_eq};
use crate::dumps::DumpSet;
use crate::procfs;
use crate::results::Measured;
use crate::s3_client::Connection;
use crate::servers::RunningServer;

pub async fn run(server: &RunningServer, set: &DumpSet) -> Result<Measured, ScenarioError> {
    let mut m = Measured::default();
    let bucket = "dumps";
    create_bucket(&server.endpoint, bucket).await?;
    let mut conn = Connection::new(server.endpoint.clone());
    let versioned = match conn.enable_versioning(bucket).await {
        Ok(()) => true,
        Err(e) => {
            m.note(format!(
                "versioning not available ({e}); each night stored under its own key"
            ));
            false
        }
    };
    conn.warm().await?;
    let disk_before = server.disk_usage_bytes();
    let client_before = procfs::cpu_seconds(None).unwrap_or(0.0);
    let server_before = server.pid().and_then(procfs::tree_cpu_seconds);
    let mut busy = Duration::ZERO;
    let mut logical = 0u64;
    for (n, night) in set.nights.iter().enumerate() {
        for (name, path) in night.files() {
            // Reading the file is not part of the server's ingest time.
            let body = Bytes::from(tokio::fs::read(path).await?);
            let key = if versioned {
                format!("db/{name}")
            } else {
                format!("db/night-{n:02}/{name}")
            };
            let t = Instant::now();
            logical += conn.put(bucket, &key, body).await?;
            busy += t.elapsed();
        }
    }
    let client_cpu = procfs::cpu_seconds(None).unwrap_or(0.0) - client_before;
    let server_cpu = server_before
        .zip(server.pid().and_then(procfs::tree_cpu_seconds))
        .map(|(b, a)| a - b);
    expect_eq("dump bytes uploaded", logical, set.total_bytes)?;
    let stored = server.disk_usage_bytes().saturating_sub(disk_before);

    let found = if versioned {
        conn.count_versions(bucket, "db/plain.sql").await?
            + conn.count_versions(bucket, "db/custom.dump").await?
    } else {
        let mut seen = 0;
        let mut token = None;
        loop {
            let page = conn.list_page(bucket, 1000, token.as_deref()).await?;
            seen += page.keys;
            match page.next_token {
                Some(t) => token = Some(t),
                None => break seen,
            }
        }
    };
    expect_eq(
        "versions (or keys) kept",
        found as u64,
        (set.nights.len() * 2) as u64,
    )?;

    m.set("dump.nights", set.nights.len() as f64);
    m.set("dump.versioned", if versioned { 1.0 } else { 0.0 });
    m.set("dump.objects_found", found as f64);
    m.set("dump.logical_bytes", logical as f64);
    if server.stores_on_disk {
        m.set("dump.stored_bytes", stored as f64);
        m.set(
            "dump.stored_pct_of_logical",
            100.0 * stored as f64 / logical.max(1) as f64,
        );
    } else {
        m.note("keeps objects in memory: no bytes-on-disk figure");
    }
    m.set("dump.ingest_seconds", busy.as_secs_f64());
    m.set(
        "dump.ingest_mb_per_s",
        logical as f64 / 1e6 / busy.as_secs_f64().max(1e-9),
    );
    m.set("dump.client_cpu_s", client_cpu);
    if let Some(c) = server_cpu {
        m.set("dump.server_cpu_s", c);
    }
    Ok(m)
}
