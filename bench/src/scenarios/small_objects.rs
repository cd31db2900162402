//! Scenario 2: small objects (default 4 KiB) at high concurrency: PUT, GET, HEAD and
//! DELETE ops/s with p50/p99 latency.

use std::sync::Arc;

use bytes::Bytes;

use super::{ScenarioError, create_bucket, expect_eq, record};
use crate::payload::{self, DataKind};
use crate::pool::{self, PhaseOutcome};
use crate::results::Measured;
use crate::s3_client::{ClientError, Connection};
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

/// The four timed phases, in the order they run over the same keys.
#[derive(Debug, Clone, Copy)]
enum Op {
    Put,
    Get,
    Head,
    Delete,
}

impl Op {
    const ALL: [Op; 4] = [Op::Put, Op::Get, Op::Head, Op::Delete];

    fn metric(self) -> &'static str {
        match self {
            Op::Put => "small.put",
            Op::Get => "small.get",
            Op::Head => "small.head",
            Op::Delete => "small.delete",
        }
    }

    /// One request; the `u64` is the body bytes it moved (for HEAD, the
    /// Content-Length it reported; for DELETE, nothing).
    async fn call(
        self,
        c: &mut Connection,
        bucket: &str,
        i: usize,
        bodies: &[Bytes],
    ) -> Result<u64, ClientError> {
        let k = key(i);
        match self {
            Op::Put => c.put(bucket, &k, bodies[i].clone()).await,
            Op::Get => c.get_count(bucket, &k).await,
            Op::Head => c.head(bucket, &k).await,
            Op::Delete => c.delete(bucket, &k).await.map(|()| 0),
        }
    }

    /// What the phase must add up to: every body's bytes once, or (DELETE)
    /// one operation per key.
    fn check(
        self,
        outcome: &PhaseOutcome,
        n: usize,
        expected_bytes: u64,
    ) -> Result<(), ScenarioError> {
        match self {
            Op::Put => expect_eq("small PUT bytes", outcome.bytes, expected_bytes),
            Op::Get => expect_eq("small GET bytes", outcome.bytes, expected_bytes),
            Op::Head => expect_eq(
                "small HEAD Content-Length sum",
                outcome.bytes,
                expected_bytes,
            ),
            Op::Delete => expect_eq("small DELETE ops", outcome.ops, n as u64),
        }
    }
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
    let expected = p.size as u64 * n as u64;
    m.set("small.expected_bytes", expected as f64);

    for op in Op::ALL {
        let (b, set) = (bucket.clone(), prep.bodies.clone());
        let mut outcome = pool::run(
            &server.endpoint,
            server.pid(),
            p.concurrency,
            n,
            move |mut c, i| {
                let (b, set) = (b.clone(), set.clone());
                async move {
                    let r = op.call(&mut c, &b, i, &set).await;
                    (c, r)
                }
            },
        )
        .await?;
        op.check(&outcome, n, expected)?;
        record(&mut m, op.metric(), &mut outcome);
    }

    let mut conn = Connection::new(server.endpoint.clone());
    let left = conn.list_page(&bucket, 1000, None).await?;
    m.set("small.keys_left_after_delete", left.keys as f64);
    expect_eq("keys listed after DELETE", left.keys as u64, 0)?;
    Ok(m)
}
