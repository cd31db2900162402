//! Scenario 6 (cofferd only): the lifecycle and the retention workers over a
//! versioned bucket of many versions (default 1,000,000): how many versions a pass
//! evaluates per second, alone and while small PUTs run, and small-PUT ops/s with
//! no worker busy (no rules on any bucket) against with each running. The lifecycle
//! rules match every version and make nothing due for centuries; the retention rule
//! is a GFS policy per key that also keeps everything (`keep_within` 100 years), so
//! every pass reads the whole bucket and deletes nothing; the version count is
//! checked unchanged at the end. Each round runs one worker at a time.
//!
//! cofferd runs with its engine clock sped up (`COFFER_CLOCK_SPEEDUP`, default
//! 3,600,000: the workers' one-hour interval is one real millisecond), so passes run
//! back to back. Its figures come from the admin API (`GET /v1/workers`, the
//! `lifecycle` and `retention` rows' pass and step counters), sampled every 100 ms.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use super::{ScenarioError, create_bucket, expect_eq, record};
use crate::payload::{self, DataKind};
use crate::pool::{self, PhaseOutcome};
use crate::results::Measured;
use crate::s3_client::{ClientError, Connection};
use crate::servers::RunningServer;

#[derive(Debug, Clone)]
pub struct Params {
    /// Versions loaded into the bucket under rules.
    pub versions: usize,
    /// Keys they are spread over (round robin, so concurrent PUTs hit different keys).
    pub keys: usize,
    pub load_concurrency: usize,
    /// Small PUTs: body size, concurrent connections, seconds per measured phase.
    pub put_size: usize,
    pub put_concurrency: usize,
    pub seconds: f64,
    /// Rounds of (PUTs, worker idle) then (worker alone) then (PUTs, worker running).
    pub rounds: usize,
    /// `COFFER_CLOCK_SPEEDUP` for this scenario's cofferd.
    pub clock_speedup: f64,
    pub seed: u64,
}

const VERSIONED: &str = "lc-versions";
const PUTS: &str = "lc-puts";
/// Every version matches; nothing is due for about 274 years.
const RULES: &str = "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
    <Rule><ID>bench-keep-everything</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>\
    <Expiration><Days>100000</Days></Expiration>\
    <NoncurrentVersionExpiration><NoncurrentDays>100000</NoncurrentDays></NoncurrentVersionExpiration>\
    </Rule></LifecycleConfiguration>";
/// restic's GFS row plus a window that keeps every version, for every key.
const RETENTION_RULE: &str = r#"{"prefix": "v/", "grouping": "per-key", "keep_last": 35,
    "keep_daily": 7, "keep_weekly": 8, "keep_monthly": 12, "keep_yearly": 2, "keep_within": "100y"}"#;
const RETENTION_PATH: &str = "/v1/buckets/lc-versions/retention";
const POLL: Duration = Duration::from_millis(100);

fn version_key(k: usize) -> String {
    format!("v/{k:06}")
}

/// The admin API of the cofferd under test.
#[derive(Debug, Clone)]
struct Admin {
    addr: SocketAddr,
    token: String,
}

/// A worker's row of `GET /v1/workers` at one moment.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    passes: u64,
    steps: u64,
    /// Lifecycle: expired + noncurrent deleted + delete markers removed + uploads
    /// aborted; retention: removed + kept by object lock.
    acted: u64,
}

impl Admin {
    async fn send(&self, method: Method, path: &str, body: &str) -> Result<String, ClientError> {
        let addr = self.addr;
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect { addr, source })?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", addr.to_string())
            .header("authorization", format!("Bearer {}", self.token))
            .body(Full::new(Bytes::from(body.to_owned())))?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        if !status.is_success() {
            return Err(ClientError::Status {
                method,
                path: path.to_owned(),
                status,
                body: text,
            });
        }
        Ok(text)
    }

    async fn worker(&self, name: &str) -> Result<Sample, ClientError> {
        let text = self.send(Method::GET, "/v1/workers", "").await?;
        let at = Instant::now();
        parse_workers(&text, name, at).ok_or_else(|| {
            ClientError::BadResponse(format!("no {name} worker in /v1/workers: {text}"))
        })
    }
}

/// Reads a worker's row: `steps`, and from `progress` (lifecycle: "3 passes; 0
/// expired, 0 noncurrent deleted, 0 delete markers removed, 0 uploads aborted";
/// retention: "3 passes; 0 removed; 0 kept by object lock in the last pass") the
/// counters.
fn parse_workers(text: &str, name: &str, at: Instant) -> Option<Sample> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let list = match &v {
        serde_json::Value::Array(a) => a,
        other => other.get("workers")?.as_array()?,
    };
    let row = list.iter().find(|w| w["name"] == name)?;
    let steps = row["steps"].as_u64().unwrap_or(0);
    let progress = row["progress"].as_str().unwrap_or("0 passes");
    let numbers: Vec<u64> = progress
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    Some(Sample {
        at,
        passes: numbers.first().copied().unwrap_or(0),
        steps,
        acted: numbers.iter().skip(1).sum(),
    })
}

/// Samples the worker every [`POLL`] until `stop` is set.
fn sampler(
    admin: Admin,
    worker: &'static str,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Vec<Sample>> {
    tokio::spawn(async move {
        let mut out = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            if let Ok(s) = admin.worker(worker).await {
                out.push(s);
            }
            tokio::time::sleep(POLL).await;
        }
        if let Ok(s) = admin.worker(worker).await {
            out.push(s);
        }
        out
    })
}

/// What a sampled window says about the worker.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    /// Passes completed between the first and the last pass end seen in the window.
    full_passes: u64,
    /// Seconds between those two pass ends.
    full_pass_seconds: f64,
    /// Passes ended in the window, and its length.
    passes: u64,
    seconds: f64,
    steps: u64,
    acted: u64,
}

fn window(samples: &[Sample]) -> Window {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return Window::default();
    };
    let mut w = Window {
        passes: last.passes - first.passes,
        seconds: (last.at - first.at).as_secs_f64(),
        steps: last.steps - first.steps,
        acted: last.acted - first.acted,
        ..Window::default()
    };
    // A pass ends between the sample before a change of the counter and the one
    // showing it; take the first sample showing each of the first and last change.
    let first_end = samples.iter().find(|s| s.passes > first.passes);
    let last_end = samples.iter().find(|s| s.passes == last.passes);
    if let (Some(a), Some(b)) = (first_end, last_end)
        && b.passes > a.passes
    {
        w.full_passes = b.passes - a.passes;
        w.full_pass_seconds = (b.at - a.at).as_secs_f64();
    }
    w
}

/// Small PUTs into the bucket without rules for `p.seconds`, each a fresh random
/// body (`phase` keeps keys and bodies of phases apart).
async fn puts(
    server: &RunningServer,
    p: &Params,
    phase: &str,
    seed: u64,
) -> Result<PhaseOutcome, ScenarioError> {
    let (size, phase): (usize, Arc<str>) = (p.put_size, phase.into());
    Ok(pool::run_for(
        &server.endpoint,
        server.pid(),
        p.put_concurrency,
        Duration::from_secs_f64(p.seconds),
        move |mut c, i| {
            let phase = phase.clone();
            async move {
                let body = payload::body(DataKind::Random, seed, i as u64, size);
                let r = c.put(PUTS, &format!("{phase}/{i:08}"), body).await;
                (c, r)
            }
        },
    )
    .await?)
}

fn per_s(n: f64, seconds: f64) -> f64 {
    n / seconds.max(1e-9)
}

pub async fn run(server: &RunningServer, p: &Params) -> Result<Measured, ScenarioError> {
    let mut m = Measured::default();
    let admin = Admin {
        addr: server
            .admin_addr
            .ok_or_else(|| ScenarioError::Check("cofferd printed no admin API address".into()))?,
        token: {
            let data = server
                .data_dirs
                .first()
                .ok_or_else(|| ScenarioError::Check("cofferd has no data directory".into()))?;
            let path = data.join(coffer_server::admin::token::TOKEN_FILE);
            std::fs::read_to_string(&path)?.trim().to_owned()
        },
    };
    let (n, keys) = (p.versions, p.keys.clamp(1, p.versions.max(1)));
    m.set("lifecycle.versions", n as f64);
    m.set("lifecycle.keys", keys as f64);
    m.set("lifecycle.clock_speedup", p.clock_speedup);

    create_bucket(&server.endpoint, VERSIONED).await?;
    create_bucket(&server.endpoint, PUTS).await?;
    Connection::new(server.endpoint.clone())
        .enable_versioning(VERSIONED)
        .await?;
    let mut load = pool::run(
        &server.endpoint,
        server.pid(),
        p.load_concurrency,
        n,
        move |mut c, i| async move {
            let r = c
                .put(VERSIONED, &version_key(i % keys), Bytes::new())
                .await
                .map(|_| 1);
            (c, r)
        },
    )
    .await?;
    expect_eq("versions created", load.bytes, n as u64)?;
    record(&mut m, "lifecycle.load", &mut load);

    let start = admin.worker("lifecycle").await?;
    let retention_start = admin.worker("retention").await?;
    let mut conn = Connection::new(server.endpoint.clone());
    let mut totals: [Totals; 2] = Default::default();
    let seed = p.seed ^ 0x11FE;
    for round in 0..p.rounds.max(1) {
        for (i, rules) in [Rules::Lifecycle, Rules::Retention].into_iter().enumerate() {
            let phases = worker_round(server, p, &admin, &mut conn, rules, round, seed).await?;
            phases.record(&mut m, rules.worker(), round, n);
            totals[i].add(phases);
        }
    }
    for (rules, t) in [Rules::Lifecycle, Rules::Retention].iter().zip(&mut totals) {
        let name = rules.worker();
        record(&mut m, &format!("{name}.put_idle"), &mut t.idle);
        record(&mut m, &format!("{name}.put_busy"), &mut t.busy);
        m.set(
            format!("{name}.put_ratio"),
            t.busy.ops_per_s() / t.idle.ops_per_s().max(1e-9),
        );
        for (phase, w) in [("alone", t.alone), ("busy", t.busy_w)] {
            set_window(&mut m, &format!("{name}.{phase}"), w, n);
            if w.full_passes == 0 {
                m.note(format!(
                    "{name}.{phase}: no whole pass between two pass ends in {:.0} s; versions/s \
                     estimated from steps (one step reads {} rows)",
                    w.seconds, ROWS_PER_STEP
                ));
            }
        }
    }

    let end = admin.worker("lifecycle").await?;
    m.set("lifecycle.passes_total", (end.passes - start.passes) as f64);
    m.set("lifecycle.actions", end.acted as f64);
    expect_eq("lifecycle actions taken (nothing is due)", end.acted, 0)?;
    let retention_end = admin.worker("retention").await?;
    m.set(
        "retention.passes_total",
        (retention_end.passes - retention_start.passes) as f64,
    );
    m.set("retention.actions", retention_end.acted as f64);
    expect_eq(
        "retention removals (the policy keeps everything)",
        retention_end.acted,
        0,
    )?;
    let per_key = n / keys;
    let mut count = pool::run(
        &server.endpoint,
        server.pid(),
        p.load_concurrency.min(8),
        keys,
        move |mut c, k| async move {
            let r = c
                .count_versions(VERSIONED, &version_key(k))
                .await
                .map(|v| v as u64);
            (c, r)
        },
    )
    .await?;
    m.set("lifecycle.versions_after", count.bytes as f64);
    record(&mut m, "lifecycle.count", &mut count);
    expect_eq("versions listed after the passes", count.bytes, n as u64)?;
    m.note(format!(
        "{n} versions: {keys} keys × {per_key}{} empty bodies; small PUTs {} B on {} \
         connections, {} × {:.0} s per phase; clock ×{}",
        if n % keys == 0 { "" } else { "+" },
        p.put_size,
        p.put_concurrency,
        p.rounds.max(1),
        p.seconds,
        p.clock_speedup
    ));
    Ok(m)
}

/// Which worker a round's phases measure, and how its rules are set.
#[derive(Debug, Clone, Copy)]
enum Rules {
    Lifecycle,
    Retention,
}

impl Rules {
    fn worker(self) -> &'static str {
        match self {
            Rules::Lifecycle => "lifecycle",
            Rules::Retention => "retention",
        }
    }

    async fn set(self, conn: &mut Connection, admin: &Admin) -> Result<(), ScenarioError> {
        match self {
            Rules::Lifecycle => conn.put_lifecycle(VERSIONED, RULES).await?,
            Rules::Retention => {
                admin
                    .send(Method::PUT, RETENTION_PATH, RETENTION_RULE)
                    .await?;
            }
        }
        Ok(())
    }

    async fn unset(self, conn: &mut Connection, admin: &Admin) -> Result<(), ScenarioError> {
        match self {
            Rules::Lifecycle => conn.delete_lifecycle(VERSIONED).await?,
            Rules::Retention => {
                let remove = format!("{RETENTION_PATH}?prefix=v/");
                admin.send(Method::DELETE, &remove, "").await?;
            }
        }
        Ok(())
    }
}

/// One worker's phases of a round, back to back so that the PUT bucket's
/// growth weighs on both sides of the ratio alike: small PUTs with no rules
/// anywhere, the worker alone, then the same PUTs while it runs.
struct WorkerPhases {
    idle: PhaseOutcome,
    alone: Window,
    busy: Window,
    puts: PhaseOutcome,
}

async fn worker_round(
    server: &RunningServer,
    p: &Params,
    admin: &Admin,
    conn: &mut Connection,
    rules: Rules,
    round: usize,
    seed: u64,
) -> Result<WorkerPhases, ScenarioError> {
    let worker = rules.worker();
    let idle_seed = seed ^ ((round as u64) << 40) ^ (rules as u64);
    let idle = puts(server, p, &format!("{worker}-idle{round}"), idle_seed).await?;
    rules.set(conn, admin).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let task = sampler(admin.clone(), worker, stop.clone());
    tokio::time::sleep(Duration::from_secs_f64(p.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let alone = window(&task.await.unwrap_or_default());

    let stop = Arc::new(AtomicBool::new(false));
    let task = sampler(admin.clone(), worker, stop.clone());
    let busy_seed = seed ^ ((round as u64 + 1_000) << 40) ^ (rules as u64);
    let result = puts(server, p, &format!("{worker}-busy{round}"), busy_seed).await;
    stop.store(true, Ordering::Relaxed);
    let busy = window(&task.await.unwrap_or_default());
    rules.unset(conn, admin).await?;
    Ok(WorkerPhases {
        idle,
        alone,
        busy,
        puts: result?,
    })
}

impl WorkerPhases {
    fn record(&self, m: &mut Measured, worker: &str, round: usize, versions: usize) {
        let (mut idle, mut puts) = (self.idle.clone(), self.puts.clone());
        record(m, &format!("{worker}.r{round}.put_idle"), &mut idle);
        record(m, &format!("{worker}.r{round}.put_busy"), &mut puts);
        set_window(m, &format!("{worker}.r{round}.alone"), self.alone, versions);
        set_window(m, &format!("{worker}.r{round}.busy"), self.busy, versions);
    }
}

/// A worker's phases summed over the rounds.
#[derive(Default)]
struct Totals {
    idle: PhaseOutcome,
    busy: PhaseOutcome,
    alone: Window,
    busy_w: Window,
}

impl Totals {
    fn add(&mut self, w: WorkerPhases) {
        accumulate(&mut self.idle, w.idle);
        accumulate(&mut self.busy, w.puts);
        add_window(&mut self.alone, w.alone);
        add_window(&mut self.busy_w, w.busy);
    }
}

/// Rows of the `versions` table a worker step reads (the workers' `BATCH`).
const ROWS_PER_STEP: u64 = 1000;

fn accumulate(total: &mut PhaseOutcome, o: PhaseOutcome) {
    total.ops += o.ops;
    total.bytes += o.bytes;
    total.elapsed += o.elapsed;
    total.client_cpu_seconds += o.client_cpu_seconds;
    total.server_cpu_seconds += o.server_cpu_seconds;
    total.latencies.extend(o.latencies);
}

fn add_window(total: &mut Window, w: Window) {
    total.full_passes += w.full_passes;
    total.full_pass_seconds += w.full_pass_seconds;
    total.passes += w.passes;
    total.seconds += w.seconds;
    total.steps += w.steps;
    total.acted += w.acted;
}

/// Evaluation rate: whole passes × versions ÷ their seconds; without a whole pass
/// in the window, steps × rows per step ÷ the window (an upper bound: a pass also
/// takes a few steps that read no rows).
fn set_window(m: &mut Measured, prefix: &str, w: Window, versions: usize) {
    m.set(format!("{prefix}.passes"), w.passes as f64);
    m.set(format!("{prefix}.seconds"), w.seconds);
    m.set(format!("{prefix}.whole_passes"), w.full_passes as f64);
    m.set(format!("{prefix}.whole_pass_seconds"), w.full_pass_seconds);
    m.set(
        format!("{prefix}.steps_per_s"),
        per_s(w.steps as f64, w.seconds),
    );
    let by_steps = per_s((w.steps * ROWS_PER_STEP) as f64, w.seconds);
    m.set(format!("{prefix}.versions_per_s_by_steps"), by_steps);
    let rate = if w.full_passes > 0 {
        per_s(
            (w.full_passes * versions as u64) as f64,
            w.full_pass_seconds,
        )
    } else {
        by_steps
    };
    m.set(format!("{prefix}.versions_per_s"), rate);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_lifecycle_row() {
        let text = r#"[{"name":"other","state":"idle","steps":9},
            {"name":"lifecycle","state":"idle","steps":42,"errors":0,"restarts":0,
             "progress":"3 passes; 1 expired, 2 noncurrent deleted, 0 delete markers removed, 4 uploads aborted"}]"#;
        let s = parse_workers(text, "lifecycle", Instant::now()).expect("row");
        assert_eq!((s.passes, s.steps, s.acted), (3, 42, 7));
        assert!(parse_workers("[]", "lifecycle", Instant::now()).is_none());
        let text = r#"[{"name":"retention","steps":8,
             "progress":"2 passes; 5 removed; 1 kept by object lock in the last pass"}]"#;
        let s = parse_workers(text, "retention", Instant::now()).expect("row");
        assert_eq!((s.passes, s.steps, s.acted), (2, 8, 6));
    }

    #[test]
    fn a_window_counts_whole_passes_between_pass_ends() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let s = |ms, passes, steps| Sample {
            at: at(ms),
            passes,
            steps,
            acted: 0,
        };
        let w = window(&[
            s(0, 5, 100),
            s(100, 5, 150),
            s(200, 6, 200),
            s(300, 6, 250),
            s(400, 8, 300),
            s(500, 8, 310),
        ]);
        assert_eq!((w.passes, w.full_passes, w.steps), (3, 2, 210));
        assert!((w.full_pass_seconds - 0.2).abs() < 1e-9);
        assert!((w.seconds - 0.5).abs() < 1e-9);
        let none = window(&[s(0, 5, 100), s(100, 6, 120)]);
        assert_eq!(none.full_passes, 0);
    }
}
