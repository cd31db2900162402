//! The run: for each scenario, prepare its inputs once, then start every server fresh,
//! run the scenario, record figures, load and peak RSS, stop it; then write the outputs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cli::RunArgs;
use crate::dumps::{self, DumpSet};
use crate::page_cache;
use crate::procfs;
use crate::report;
use crate::results::{Machine, Measured, Report, RunStatus, ScenarioRun};
use crate::scenarios::{
    Scenario, ScenarioError, dump_dedup, large_objects, lifecycle, listing, memory, small_objects,
};
use crate::servers::{self, Binaries, RunningServer, ServerKind, StartOptions};

/// A scenario's inputs, made once and shared by every server.
enum Prepared {
    Large(large_objects::Params, large_objects::Prepared),
    Small(small_objects::Params, small_objects::Prepared),
    List(listing::Params),
    Dump(Arc<DumpSet>),
    Memory(memory::Params, memory::Prepared),
    Lifecycle(lifecycle::Params),
}

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Machine {
        cpu_model,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_gib: mem_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

fn prepare(scenario: Scenario, a: &RunArgs, work: &Path) -> Result<Prepared, ScenarioError> {
    Ok(match scenario {
        Scenario::Large => {
            let p = large_objects::Params {
                size: a.large_size,
                streams: a.large_streams,
                objects: a.large_objects,
                seed: a.seed,
                verify: a.verify,
            };
            let prep = large_objects::prepare(&p);
            Prepared::Large(p, prep)
        }
        Scenario::Small => {
            let p = small_objects::Params {
                size: a.small_size,
                concurrency: a.small_concurrency,
                objects: a.small_objects,
                seed: a.seed,
            };
            let prep = small_objects::prepare(&p);
            Prepared::Small(p, prep)
        }
        Scenario::List => Prepared::List(listing::Params {
            keys: a.list_keys,
            page: a.list_page,
            passes: a.list_passes,
            concurrency: a.list_concurrency,
            populate_concurrency: a.list_populate_concurrency,
        }),
        Scenario::Dump => {
            let dir = a.dump_cache.clone().unwrap_or_else(|| work.join("dumps"));
            let set = if a.synthetic {
                dumps::synthetic::generate(
                    &dir,
                    a.synthetic_rows,
                    a.dump_nights,
                    a.dump_churn_pct,
                    a.seed,
                )?
            } else {
                dumps::pgbench::generate(
                    &dir,
                    &dumps::pgbench::PgParams {
                        scale: a.dump_scale,
                        nights: a.dump_nights,
                        churn_pct: a.dump_churn_pct,
                    },
                )?
            };
            Prepared::Dump(Arc::new(set))
        }
        Scenario::Memory => {
            let p = memory::Params {
                size: a.memory_size,
                streams: a.memory_streams,
                seed: a.seed,
            };
            let prep = memory::prepare(&p);
            Prepared::Memory(p, prep)
        }
        Scenario::Lifecycle => Prepared::Lifecycle(lifecycle::Params {
            versions: a.lifecycle_versions,
            keys: a.lifecycle_keys,
            load_concurrency: a.lifecycle_load_concurrency,
            put_size: a.lifecycle_put_size,
            put_concurrency: a.lifecycle_put_concurrency,
            seconds: a.lifecycle_seconds,
            rounds: a.lifecycle_rounds,
            clock_speedup: a.lifecycle_clock_speedup,
            seed: a.seed,
        }),
    })
}

/// Why a scenario is not run against a server at all, if it is not.
fn infeasible(kind: ServerKind, prepared: &Prepared, a: &RunArgs) -> Option<String> {
    if kind != ServerKind::Coffer && matches!(prepared, Prepared::Lifecycle(_)) {
        return Some(
            "the lifecycle scenario measures cofferd's own lifecycle worker through its admin \
             API (pass counters) and its sped-up engine clock; other servers have neither"
                .into(),
        );
    }
    if kind == ServerKind::S3sFs
        && let Prepared::List(p) = prepared
        && p.keys > a.s3s_fs_max_keys
    {
        return Some(format!(
            "s3s-fs walks and stats the whole bucket for every ListObjectsV2 page (below 0.5 pages/s \
             at 100,000 keys); {} keys exceed --s3s-fs-max-keys {}",
            p.keys, a.s3s_fs_max_keys
        ));
    }
    if kind != ServerKind::Moto {
        return None;
    }
    if let Prepared::List(p) = prepared
        && p.keys > a.moto_max_keys
    {
        return Some(format!(
            "moto creates keys at a few hundred per second; {} keys exceed --moto-max-keys {}",
            p.keys, a.moto_max_keys
        ));
    }
    let bytes = written_bytes(prepared);
    (bytes > a.moto_max_bytes).then(|| {
        format!(
            "moto keeps objects in memory; this scenario stores {:.1} GB (limit --moto-max-bytes {:.1} GB)",
            bytes as f64 / 1e9,
            a.moto_max_bytes as f64 / 1e9
        )
    })
}

/// Bytes the scenario makes a server store (moto's memory limit, the page-cache warm-up).
fn written_bytes(prepared: &Prepared) -> u64 {
    match prepared {
        Prepared::Large(p, _) => (p.size * p.objects * 2) as u64,
        Prepared::Small(p, _) => (p.size * p.objects) as u64,
        Prepared::List(_) => 0,
        Prepared::Dump(set) => set.total_bytes,
        Prepared::Memory(p, _) => (p.size * p.streams) as u64,
        // Empty versions; the small PUTs run for a time, not a count.
        Prepared::Lifecycle(_) => 0,
    }
}

/// Warms the page cache in `work`; a failure is noted on the run, which goes on.
fn warm_page_cache(run: &mut ScenarioRun, work: &Path, bytes: u64, max: u64) {
    if let Err(e) = page_cache::warm(work, bytes.min(max)) {
        run.notes.push(format!("page-cache warm-up failed: {e}"));
    }
}

async fn run_one(server: &RunningServer, prepared: &Prepared) -> Result<Measured, ScenarioError> {
    match prepared {
        Prepared::Large(p, prep) => large_objects::run(server, p, prep).await,
        Prepared::Small(p, prep) => small_objects::run(server, p, prep).await,
        Prepared::List(p) => listing::run(server, p).await,
        Prepared::Dump(set) => dump_dedup::run(server, set).await,
        Prepared::Memory(p, prep) => memory::run(server, p, prep).await,
        Prepared::Lifecycle(p) => lifecycle::run(server, p).await,
    }
}

pub async fn run(a: RunArgs) -> anyhow::Result<()> {
    let started_at = now();
    let _tmp;
    let work: PathBuf = match &a.work_dir {
        Some(d) => d.clone(),
        None => {
            let t = tempfile::Builder::new()
                .prefix("coffer-bench-")
                .tempdir()
                .context("creating a work dir")?;
            let p = t.path().to_path_buf();
            _tmp = t;
            p
        }
    };
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let bins = Binaries {
        cofferd: a.cofferd.clone(),
        s3s_fs: a.s3s_fs.clone(),
        garage: a.garage.clone(),
        moto_server: a.moto_server.clone(),
    };
    let with_restic = a.scenarios.contains(&Scenario::Dump) && !a.no_restic;
    let mut server_names: Vec<String> = a.servers.iter().map(|s| s.name().to_owned()).collect();
    if with_restic {
        server_names.push("restic".into());
    }
    let mut runs = Vec::new();
    for &scenario in &a.scenarios {
        eprintln!("coffer-bench: preparing {}", scenario.name());
        let prepared = match prepare(scenario, &a, &work) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("coffer-bench: {}: cannot prepare: {e}", scenario.name());
                for name in &server_names {
                    runs.push(ScenarioRun::new(
                        name,
                        scenario.name(),
                        RunStatus::Failed(format!("preparing the scenario: {e}")),
                    ));
                }
                continue;
            }
        };
        for &kind in &a.servers {
            let run = run_server(kind, scenario, &prepared, &a, &bins, &work).await;
            eprintln!(
                "coffer-bench: {} / {}: {:?}",
                kind.name(),
                scenario.name(),
                run.status
            );
            runs.push(run);
        }
        if let (true, Prepared::Dump(set)) = (with_restic, &prepared) {
            runs.push(run_restic(set.clone(), &a, &work).await);
        }
    }
    let report = Report {
        started_at,
        finished_at: now(),
        machine: machine(),
        command_line: std::env::args().collect(),
        servers: server_names,
        scenarios: a.scenarios.iter().map(|s| s.name().to_owned()).collect(),
        runs,
    };
    let md = report::markdown(&report);
    std::fs::write(&a.json, serde_json::to_string_pretty(&report)?)
        .with_context(|| format!("writing {}", a.json.display()))?;
    std::fs::write(&a.markdown, &md)
        .with_context(|| format!("writing {}", a.markdown.display()))?;
    println!("{md}");
    Ok(())
}

async fn run_server(
    kind: ServerKind,
    scenario: Scenario,
    prepared: &Prepared,
    a: &RunArgs,
    bins: &Binaries,
    work: &Path,
) -> ScenarioRun {
    let mut run = ScenarioRun::new(kind.name(), scenario.name(), RunStatus::Ok);
    let binary = match servers::locate(kind, bins) {
        Ok(b) => b,
        Err(e) => {
            run.status = RunStatus::NotInstalled(e.to_string());
            return run;
        }
    };
    if let Some(why) = infeasible(kind, prepared, a) {
        run.status = RunStatus::Infeasible(why);
        return run;
    }
    let dir = work.join(format!("{}-{}", kind.name(), scenario.name()));
    let _ = std::fs::remove_dir_all(&dir);
    warm_page_cache(
        &mut run,
        work,
        written_bytes(prepared),
        a.page_cache_warmup_max,
    );
    run.load_avg_start = procfs::load_average_1m();
    let options = match prepared {
        Prepared::Lifecycle(p) => StartOptions {
            clock_speedup: Some(p.clock_speedup),
        },
        _ => StartOptions::default(),
    };
    let server = match servers::start(kind, &binary, &dir, &options).await {
        Ok(s) => s,
        Err(e) => {
            run.status = RunStatus::Failed(format!("start: {e}"));
            return run;
        }
    };
    match run_one(&server, prepared).await {
        Ok(m) => {
            run.metrics = m.metrics;
            run.notes.extend(m.notes);
        }
        Err(e) => {
            run.status = RunStatus::Failed(format!("{e}\nserver log tail:\n{}", server.log_tail()));
        }
    }
    let mut peak = server.peak_rss_bytes();
    if let Some(mib) = run.metrics.get("memory.peak_rss_mib") {
        peak = Some(peak.unwrap_or(0).max((mib * 1048576.0) as u64));
    }
    run.server_peak_rss_bytes = peak;
    run.load_avg_end = procfs::load_average_1m();
    server.stop().await;
    if !a.keep_data {
        let _ = std::fs::remove_dir_all(&dir);
    }
    run
}

async fn run_restic(set: Arc<DumpSet>, a: &RunArgs, work: &Path) -> ScenarioRun {
    let mut run = ScenarioRun::new("restic", "dump", RunStatus::Ok);
    let binary = match a.restic.clone().or_else(|| servers::find_on_path("restic")) {
        Some(b) => b,
        None => {
            run.status = RunStatus::NotInstalled(
                "`restic` not on PATH; scripts/install-bench-peers.sh".into(),
            );
            return run;
        }
    };
    let dir = work.join("restic-dump");
    let _ = std::fs::remove_dir_all(&dir);
    warm_page_cache(&mut run, work, set.total_bytes, a.page_cache_warmup_max);
    run.load_avg_start = procfs::load_average_1m();
    let d = dir.clone();
    let result = tokio::task::spawn_blocking(move || dumps::restic::run(&binary, &set, &d)).await;
    match result {
        Ok(Ok(m)) => {
            run.metrics = m.metrics;
            run.notes.extend(m.notes);
        }
        Ok(Err(e)) => run.status = RunStatus::Failed(e.to_string()),
        Err(e) => run.status = RunStatus::Failed(format!("restic task: {e}")),
    }
    run.load_avg_end = procfs::load_average_1m();
    eprintln!("coffer-bench: restic / dump: {:?}", run.status);
    if !a.keep_data {
        let _ = std::fs::remove_dir_all(&dir);
    }
    run
}
