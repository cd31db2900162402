//! Scenario 2: small objects (default 4 KiB) at high concurrency: PUT, GET, HEAD and
//! DELETE ops/s with p50/p99 latency.

use std::sync::Arc;

use bytes::Bytes;

use super::{ScenarioError, create_bucket, expect_eq, record};
use crate::payload::{self, DataKind};
use crate::pool;
use crate::results::Measured;
use crate::s3_client::Connection;
use crate::servers::RunningServer;

#[derive(Debug, Clone)]
pub struct Params {
    pub size: usize,
    pub concurrency: usize,
    pub objects: usize,
    pub seed: u64,
}

#[derive(Debug)]
pub struct Prepared {
    pub bodies: Arc<Vec<Bytes>>,
}

pub fn prepare(p: &Params) -> Prepared {
    Prepared {
        bodies: Arc::new(payload::bodies(
            DataKind::Random,
            p.seed ^ 0x5A11,
            p.objects,
            p.size,
        )),
    }
}

fn key(i: usize) -> String {
    format!("small/{i:07}")
}

pub async fn run(
    server: &RunningServer,
    p: &Params,
    prep: &Prepared,
) -> Result<Measured, ScenarioError> {
    let mut m = Measured::default();
    let bucket: Arc<str> = "small".into();
    create_bucket(&server.endpoint, &bucket).await?;
    let n = p.objects;
    let size = p.size as u64;
    let expected = size * n as u64;
    m.set("small.expected_bytes", expected as f64);

    let (b, set) = (bucket.clone(), prep.bodies.clone());
    let mut put = pool::run(
        &server.endpoint,
        server.pid(),
        p.concurrency,
        n,
        move |mut c, i| {
            let (b, body) = (b.clone(), set[i].clone());
            async move {
                let r = c.put(&b, &key(i), body).await;
                (c, r)
            }
        },
    )
    .await?;
    expect_eq("small PUT bytes", put.bytes, expected)?;
    record(&mut m, "small.put", &mut put);

    let b = bucket.clone();
    let mut get = pool::run(
        &server.endpoint,
        server.pid(),
        p.concurrency,
        n,
        move |mut c, i| {
            let b = b.clone();
            async move {
                let r = c.get_count(&b, &key(i)).await;
                (c, r)
            }
        },
    )
    .await?;
    expect_eq("small GET bytes", get.bytes, expected)?;
    record(&mut m, "small.get", &mut get);

    let b = bucket.clone();
    let mut head = pool::run(
        &server.endpoint,
        server.pid(),
        p.concurrency,
        n,
        move |mut c, i| {
            let b = b.clone();
            async move {
                // HEAD moves no body; its "bytes" are the Content-Length it reported.
                let r = c.head(&b, &key(i)).await;
                (c, r)
            }
        },
    )
    .await?;
    expect_eq("small HEAD Content-Length sum", head.bytes, expected)?;
    record(&mut m, "small.head", &mut head);

    let b = bucket.clone();
    let mut delete = pool::run(
        &server.endpoint,
        server.pid(),
        p.concurrency,
        n,
        move |mut c, i| {
            let b = b.clone();
            async move {
                let r = c.delete(&b, &key(i)).await.map(|()| 0);
                (c, r)
            }
        },
    )
    .await?;
    expect_eq("small DELETE ops", delete.ops, n as u64)?;
    record(&mut m, "small.delete", &mut delete);

    let mut conn = Connection::new(server.endpoint.clone());
    let left = conn.list_page(&bucket, 1000, None).await?;
    m.set("small.keys_left_after_delete", left.keys as f64);
    expect_eq("keys listed after DELETE", left.keys as u64, 0)?;
    Ok(m)
}
