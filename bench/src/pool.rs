//! Runs one phase: N workers, each with its own connection, pulling operation numbers
//! from a shared counter until all are done; plus the meter that times the phase.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::procfs;
use crate::s3_client::{ClientError, Connection, Endpoint};

/// What a finished phase measured.
#[derive(Debug, Clone, Default)]
pub struct PhaseOutcome {
    pub ops: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    pub latencies: Vec<Duration>,
    pub client_cpu_seconds: f64,
    pub server_cpu_seconds: f64,
}

impl PhaseOutcome {
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Wall time and CPU time of the client and of the server process across a phase.
#[derive(Debug)]
pub struct Meter {
    start: Instant,
    client_cpu: f64,
    server_pid: Option<u32>,
    server_cpu: f64,
}

impl Meter {
    pub fn start(server_pid: Option<u32>) -> Self {
        Self {
            start: Instant::now(),
            client_cpu: procfs::cpu_seconds(None).unwrap_or(0.0),
            server_pid,
            server_cpu: server_pid.and_then(procfs::tree_cpu_seconds).unwrap_or(0.0),
        }
    }

    /// (elapsed, client CPU s, server CPU s)
    pub fn finish(&self) -> (Duration, f64, f64) {
        let elapsed = self.start.elapsed();
        let client = procfs::cpu_seconds(None).unwrap_or(0.0) - self.client_cpu;
        let server = self
            .server_pid
            .and_then(procfs::tree_cpu_seconds)
            .map(|c| c - self.server_cpu)
            .unwrap_or(0.0);
        (elapsed, client, server)
    }
}

/// Runs `total` operations on `concurrency` connections. `op(conn, i)` performs
/// operation `i` and returns the connection and the bytes it moved. Stops at the
/// first failure and reports it.
pub async fn run<F, Fut>(
    endpoint: &Arc<Endpoint>,
    server_pid: Option<u32>,
    concurrency: usize,
    total: usize,
    op: F,
) -> Result<PhaseOutcome, ClientError>
where
    F: Fn(Connection, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (Connection, Result<u64, ClientError>)> + Send + 'static,
{
    run_until(endpoint, server_pid, concurrency, total, None, op).await
}

/// Like [`run`], but for a fixed time instead of a fixed count: workers start
/// no operation after `duration` (those in flight finish and are counted).
pub async fn run_for<F, Fut>(
    endpoint: &Arc<Endpoint>,
    server_pid: Option<u32>,
    concurrency: usize,
    duration: Duration,
    op: F,
) -> Result<PhaseOutcome, ClientError>
where
    F: Fn(Connection, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (Connection, Result<u64, ClientError>)> + Send + 'static,
{
    run_until(
        endpoint,
        server_pid,
        concurrency,
        usize::MAX,
        Some(duration),
        op,
    )
    .await
}

async fn run_until<F, Fut>(
    endpoint: &Arc<Endpoint>,
    server_pid: Option<u32>,
    concurrency: usize,
    total: usize,
    duration: Option<Duration>,
    op: F,
) -> Result<PhaseOutcome, ClientError>
where
    F: Fn(Connection, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (Connection, Result<u64, ClientError>)> + Send + 'static,
{
    let concurrency = concurrency.clamp(1, total.max(1));
    let mut conns = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let mut c = Connection::new(endpoint.clone());
        c.warm().await?;
        conns.push(c);
    }
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let meter = Meter::start(server_pid);
    let deadline = duration.map(|d| Instant::now() + d);
    let mut tasks = Vec::with_capacity(concurrency);
    for conn in conns {
        let op = op.clone();
        let next = next.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = conn;
            let mut latencies = Vec::new();
            let mut bytes = 0u64;
            loop {
                if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                let (c, result) = op(conn, i).await;
                conn = c;
                match result {
                    Ok(n) => {
                        latencies.push(t.elapsed());
                        bytes += n;
                    }
                    Err(e) => {
                        stop.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            Ok((latencies, bytes))
        }));
    }
    let mut outcome = PhaseOutcome::default();
    let mut first_error = None;
    for task in tasks {
        match task.await {
            Ok(Ok((lat, bytes))) => {
                outcome.ops += lat.len() as u64;
                outcome.bytes += bytes;
                outcome.latencies.extend(lat);
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            Err(join) => {
                first_error.get_or_insert(ClientError::BadResponse(format!(
                    "worker task failed: {join}"
                )));
            }
        }
    }
    let (elapsed, client, server) = meter.finish();
    if let Some(e) = first_error {
        return Err(e);
    }
    outcome.elapsed = elapsed;
    outcome.client_cpu_seconds = client;
    outcome.server_cpu_seconds = server;
    Ok(outcome)
}
