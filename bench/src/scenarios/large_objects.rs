//! Scenario 1: large objects (default 64 MiB), a few concurrent streams, PUT then GET,
//! once with incompressible and once with text-like bodies: MB/s.

use std::sync::Arc;

use bytes::Bytes;

use super::{ScenarioError, create_bucket, expect_eq, record};
use crate::payload::{self, DataKind};
use crate::pool;
use crate::results::Measured;
use crate::servers::{RunningServer, ServerKind};

#[derive(Debug, Clone)]
pub struct Params {
    pub size: usize,
    pub streams: usize,
    pub objects: usize,
    pub seed: u64,
    pub verify: bool,
}

/// Bodies generated once per run, before any timing, shared by every server.
#[derive(Debug)]
pub struct Prepared {
    pub sets: Vec<(DataKind, Arc<Vec<Bytes>>)>,
}

pub fn prepare(p: &Params) -> Prepared {
    Prepared {
        sets: [DataKind::Random, DataKind::Text]
            .into_iter()
            .map(|kind| {
                (
                    kind,
                    Arc::new(payload::bodies(kind, p.seed, p.objects, p.size)),
                )
            })
            .collect(),
    }
}

pub async fn run(
    server: &RunningServer,
    p: &Params,
    prep: &Prepared,
) -> Result<Measured, ScenarioError> {
    let mut m = Measured::default();
    let expected = (p.size * p.objects) as u64;
    m.set("large.expected_bytes", expected as f64);
    let verify = p.verify && server.kind != ServerKind::Null;
    for (kind, bodies) in &prep.sets {
        let bucket: Arc<str> = format!("large-{}", kind.label()).into();
        create_bucket(&server.endpoint, &bucket).await?;
        let prefix = format!("large.{}", kind.label());

        let (b, set) = (bucket.clone(), bodies.clone());
        let mut put = pool::run(
            &server.endpoint,
            server.pid(),
            p.streams,
            p.objects,
            move |mut c, i| {
                let (b, body) = (b.clone(), set[i].clone());
                async move {
                    let r = c.put(&b, &format!("obj-{i:05}"), body).await;
                    (c, r)
                }
            },
        )
        .await?;
        expect_eq(&format!("{prefix} PUT bytes"), put.bytes, expected)?;
        record(&mut m, &format!("{prefix}.put"), &mut put);

        let (b, set) = (bucket.clone(), bodies.clone());
        let mut get = pool::run(
            &server.endpoint,
            server.pid(),
            p.streams,
            p.objects,
            move |mut c, i| {
                let (b, want) = (b.clone(), set[i].clone());
                async move {
                    let key = format!("obj-{i:05}");
                    let r = if verify {
                        match c.get_bytes(&b, &key).await {
                            Ok(got) if got == want => Ok(got.len() as u64),
                            Ok(got) => Err(crate::s3_client::ClientError::BadResponse(format!(
                                "GET {key}: {} bytes differ from the {} PUT",
                                got.len(),
                                want.len()
                            ))),
                            Err(e) => Err(e),
                        }
                    } else {
                        c.get_count(&b, &key).await
                    };
                    (c, r)
                }
            },
        )
        .await?;
        expect_eq(&format!("{prefix} GET bytes"), get.bytes, expected)?;
        record(&mut m, &format!("{prefix}.get"), &mut get);
    }
    if verify {
        m.note("GET bodies compared byte for byte with what was PUT");
    }
    Ok(m)
}
