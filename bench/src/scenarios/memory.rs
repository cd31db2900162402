//! Scenario 5: the server's peak RSS (VmHWM) during a few concurrent very large PUTs
//! (default 4 × 1 GiB) and then GETs of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;

use super::{ScenarioError, create_bucket, expect_eq, record};
use crate::payload::{self, DataKind};
use crate::pool;
use crate::procfs;
use crate::results::Measured;
use crate::servers::RunningServer;

#[derive(Debug, Clone)]
pub struct Params {
    pub size: usize,
    pub streams: usize,
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
            p.seed ^ 0x3E30,
            p.streams,
            p.size,
        )),
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// Polls VmRSS while a phase runs, as a floor in case VmHWM cannot be reset.
struct Sampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(pid: Option<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(0));
        let (s, mx) = (stop.clone(), max.clone());
        let task = tokio::spawn(async move {
            while !s.load(Ordering::Relaxed) {
                if let Some(rss) = pid.and_then(procfs::rss_bytes) {
                    mx.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        Self { stop, max, task }
    }

    async fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.task.await;
        self.max.load(Ordering::Relaxed)
    }
}

pub async fn run(
    server: &RunningServer,
    p: &Params,
    prep: &Prepared,
) -> Result<Measured, ScenarioError> {
    let mut m = Measured::default();
    let bucket: Arc<str> = "memory".into();
    create_bucket(&server.endpoint, &bucket).await?;
    let expected = (p.size * p.streams) as u64;
    m.set("memory.expected_bytes", expected as f64);
    let reset_ok = server.reset_peak_rss();
    if !reset_ok {
        m.note("VmHWM could not be reset: peaks include start-up");
    }

    let sampler = Sampler::start(server.pid());
    let (b, set) = (bucket.clone(), prep.bodies.clone());
    let mut put = pool::run(
        &server.endpoint,
        server.pid(),
        p.streams,
        p.streams,
        move |mut c, i| {
            let (b, body) = (b.clone(), set[i].clone());
            async move {
                let r = c.put(&b, &format!("big-{i}"), body).await;
                (c, r)
            }
        },
    )
    .await?;
    let sampled = sampler.finish().await;
    let put_peak = server.peak_rss_bytes().unwrap_or(0).max(sampled);
    expect_eq("memory PUT bytes", put.bytes, expected)?;
    record(&mut m, "memory.put", &mut put);

    server.reset_peak_rss();
    let sampler = Sampler::start(server.pid());
    let b = bucket.clone();
    let mut get = pool::run(
        &server.endpoint,
        server.pid(),
        p.streams,
        p.streams,
        move |mut c, i| {
            let b = b.clone();
            async move {
                let r = c.get_count(&b, &format!("big-{i}")).await;
                (c, r)
            }
        },
    )
    .await?;
    let sampled = sampler.finish().await;
    let get_peak = server.peak_rss_bytes().unwrap_or(0).max(sampled);
    expect_eq("memory GET bytes", get.bytes, expected)?;
    record(&mut m, "memory.get", &mut get);

    m.set("memory.put.peak_rss_mib", put_peak as f64 / MIB);
    m.set("memory.get.peak_rss_mib", get_peak as f64 / MIB);
    m.set("memory.peak_rss_mib", put_peak.max(get_peak) as f64 / MIB);
    Ok(m)
}
