//! Renders a run as Markdown: the server × scenario table with Coffer's ratio to each
//! peer, the load average and peak RSS behind every figure, and what went wrong where.

use std::fmt::Write as _;

use crate::results::{Report, RunStatus, ScenarioRun};

/// One row of the main table.
struct Row {
    scenario: &'static str,
    label: &'static str,
    key: &'static str,
    /// Divide the stored value by this before printing (e.g. bytes → MB).
    scale: f64,
    higher_is_better: bool,
}

const fn row(
    scenario: &'static str,
    label: &'static str,
    key: &'static str,
    scale: f64,
    higher_is_better: bool,
) -> Row {
    Row {
        scenario,
        label,
        key,
        scale,
        higher_is_better,
    }
}

const ROWS: &[Row] = &[
    row(
        "large",
        "large PUT, incompressible (MB/s)",
        "large.incompressible.put.mb_per_s",
        1.0,
        true,
    ),
    row(
        "large",
        "large GET, incompressible (MB/s)",
        "large.incompressible.get.mb_per_s",
        1.0,
        true,
    ),
    row(
        "large",
        "large PUT, text (MB/s)",
        "large.text.put.mb_per_s",
        1.0,
        true,
    ),
    row(
        "large",
        "large GET, text (MB/s)",
        "large.text.get.mb_per_s",
        1.0,
        true,
    ),
    row(
        "small",
        "small PUT (ops/s)",
        "small.put.ops_per_s",
        1.0,
        true,
    ),
    row(
        "small",
        "small PUT p50 / p99 (ms)",
        "small.put.p50_ms|small.put.p99_ms",
        1.0,
        false,
    ),
    row(
        "small",
        "small GET (ops/s)",
        "small.get.ops_per_s",
        1.0,
        true,
    ),
    row(
        "small",
        "small GET p50 / p99 (ms)",
        "small.get.p50_ms|small.get.p99_ms",
        1.0,
        false,
    ),
    row(
        "small",
        "small HEAD (ops/s)",
        "small.head.ops_per_s",
        1.0,
        true,
    ),
    row(
        "small",
        "small HEAD p50 / p99 (ms)",
        "small.head.p50_ms|small.head.p99_ms",
        1.0,
        false,
    ),
    row(
        "small",
        "small DELETE (ops/s)",
        "small.delete.ops_per_s",
        1.0,
        true,
    ),
    row(
        "small",
        "small DELETE p50 / p99 (ms)",
        "small.delete.p50_ms|small.delete.p99_ms",
        1.0,
        false,
    ),
    row(
        "list",
        "ListObjectsV2 (pages/s)",
        "list.pages_per_s",
        1.0,
        true,
    ),
    row(
        "list",
        "populate: empty-object PUT (ops/s)",
        "list.populate.ops_per_s",
        1.0,
        true,
    ),
    row(
        "dump",
        "dumps: logical (MB)",
        "dump.logical_bytes",
        1e6,
        true,
    ),
    row(
        "dump",
        "dumps: stored on disk (MB)",
        "dump.stored_bytes",
        1e6,
        false,
    ),
    row(
        "dump",
        "dumps: stored / logical (%)",
        "dump.stored_pct_of_logical",
        1.0,
        false,
    ),
    row(
        "dump",
        "dumps: ingest (MB/s)",
        "dump.ingest_mb_per_s",
        1.0,
        true,
    ),
    row(
        "memory",
        "memory: peak RSS, 1 GiB PUTs+GETs (MiB)",
        "memory.peak_rss_mib",
        1.0,
        false,
    ),
    row(
        "memory",
        "memory: PUT (MB/s)",
        "memory.put.mb_per_s",
        1.0,
        true,
    ),
    row(
        "memory",
        "memory: GET (MB/s)",
        "memory.get.mb_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "lifecycle: evaluation, worker alone (versions/s)",
        "lifecycle.alone.versions_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "lifecycle: evaluation during small PUTs (versions/s)",
        "lifecycle.busy.versions_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "lifecycle: small PUT, worker idle (ops/s)",
        "lifecycle.put_idle.ops_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "lifecycle: small PUT, worker running (ops/s)",
        "lifecycle.put_busy.ops_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "lifecycle: small PUT running ÷ idle",
        "lifecycle.put_ratio",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "retention: evaluation, worker alone (versions/s)",
        "retention.alone.versions_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "retention: evaluation during small PUTs (versions/s)",
        "retention.busy.versions_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "retention: small PUT, worker idle (ops/s)",
        "retention.put_idle.ops_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "retention: small PUT, worker running (ops/s)",
        "retention.put_busy.ops_per_s",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "retention: small PUT running ÷ idle",
        "retention.put_ratio",
        1.0,
        true,
    ),
    row(
        "lifecycle",
        "lifecycle: load, versioned empty PUT (ops/s)",
        "lifecycle.load.ops_per_s",
        1.0,
        true,
    ),
];

fn find<'a>(report: &'a Report, server: &str, scenario: &str) -> Option<&'a ScenarioRun> {
    report
        .runs
        .iter()
        .find(|r| r.server == server && r.scenario == scenario)
}

fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn status_word(status: &RunStatus) -> &'static str {
    match status {
        RunStatus::Ok => "—",
        RunStatus::NotInstalled(_) => "not installed",
        RunStatus::Infeasible(_) => "infeasible",
        RunStatus::Failed(_) => "failed",
    }
}

/// (cell text, primary value for ratios)
fn cell(report: &Report, server: &str, row: &Row) -> (String, Option<f64>) {
    let Some(run) = find(report, server, row.scenario) else {
        return ("—".into(), None);
    };
    if run.status != RunStatus::Ok {
        return (status_word(&run.status).into(), None);
    }
    let values: Vec<Option<f64>> = row
        .key
        .split('|')
        .map(|k| run.metrics.get(k).map(|v| v / row.scale))
        .collect();
    if values.iter().all(Option::is_none) {
        return ("n/a".into(), None);
    }
    let text = values
        .iter()
        .map(|v| v.map_or("n/a".into(), fmt_num))
        .collect::<Vec<_>>()
        .join(" / ");
    (text, values.last().copied().flatten())
}

/// Renders the whole report.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let m = &report.machine;
    let _ = writeln!(
        out,
        "Machine: {} — {} cores, {:.1} GiB RAM, Linux {}. Run {} → {}.\n",
        m.cpu_model, m.cores, m.memory_gib, m.kernel, report.started_at, report.finished_at
    );
    let servers = &report.servers;
    let peers: Vec<&String> = servers.iter().filter(|s| s.as_str() != "coffer").collect();
    let has_coffer = servers.iter().any(|s| s == "coffer");

    out.push_str("| scenario / figure |");
    for s in servers {
        let _ = write!(out, " {s} |");
    }
    if has_coffer {
        for p in &peers {
            let _ = write!(out, " coffer ÷ {p} |");
        }
    }
    out.push_str("\n|---|");
    for _ in servers {
        out.push_str("---:|");
    }
    if has_coffer {
        for _ in &peers {
            out.push_str("---:|");
        }
    }
    out.push('\n');
    for row in ROWS {
        if !report.scenarios.iter().any(|s| s == row.scenario) {
            continue;
        }
        let arrow = if row.higher_is_better { "↑" } else { "↓" };
        let _ = write!(out, "| {} {arrow} |", row.label);
        let mut coffer_value = None;
        for s in servers {
            let (text, v) = cell(report, s, row);
            if s == "coffer" {
                coffer_value = v;
            }
            let _ = write!(out, " {text} |");
        }
        if has_coffer {
            for p in &peers {
                let (_, v) = cell(report, p, row);
                match (coffer_value, v) {
                    (Some(c), Some(pv)) if pv != 0.0 => {
                        let _ = write!(out, " {:.2}× |", c / pv);
                    }
                    _ => out.push_str(" — |"),
                }
            }
        }
        out.push('\n');
    }
    out.push_str(
        "\n↑ higher is better, ↓ lower is better; ratios are coffer's figure divided by the \
         peer's (for p50 / p99 rows, the p99).\n",
    );

    out.push_str("\nLoad average (1 min) at start → end, and server peak RSS (MiB), per run:\n\n");
    out.push_str("| server | scenario | load start → end | peak RSS (MiB) | client CPU note |\n|---|---|---|---:|---|\n");
    for run in &report.runs {
        if run.status != RunStatus::Ok {
            continue;
        }
        let load = match (run.load_avg_start, run.load_avg_end) {
            (Some(a), Some(b)) => format!("{a:.2} → {b:.2}"),
            _ => "?".into(),
        };
        let rss = run
            .server_peak_rss_bytes
            .map_or("n/a".into(), |b| format!("{:.0}", b as f64 / 1048576.0));
        let cpu = headroom(run);
        let _ = writeln!(
            out,
            "| {} | {} | {load} | {rss} | {cpu} |",
            run.server, run.scenario
        );
    }

    let problems: Vec<&ScenarioRun> = report
        .runs
        .iter()
        .filter(|r| r.status != RunStatus::Ok || !r.notes.is_empty())
        .collect();
    if !problems.is_empty() {
        out.push_str("\nNotes:\n\n");
        for r in problems {
            let detail = match &r.status {
                RunStatus::Ok => String::new(),
                RunStatus::NotInstalled(d) => format!("not installed: {d}. "),
                RunStatus::Infeasible(d) => format!("infeasible: {d}. "),
                RunStatus::Failed(d) => {
                    format!(
                        "FAILED: {}. ",
                        d.lines().take(6).collect::<Vec<_>>().join(" ⏎ ")
                    )
                }
            };
            let _ = writeln!(
                out,
                "- {} / {}: {detail}{}",
                r.server,
                r.scenario,
                r.notes.join("; ")
            );
        }
    }
    out
}

/// The generator's own cost: bytes (or ops) per client CPU-second in the heaviest phase.
fn headroom(run: &ScenarioRun) -> String {
    let get = |k: &str| run.metrics.get(k).copied();
    let pick = match run.scenario.as_str() {
        "large" => Some(("large.incompressible.put", true)),
        "memory" => Some(("memory.put", true)),
        "small" => Some(("small.put", false)),
        "list" => Some(("list.populate", false)),
        "lifecycle" => Some(("lifecycle.load", false)),
        _ => None,
    };
    let Some((p, bytes)) = pick else {
        return String::new();
    };
    match (
        get(&format!("{p}.client_cpu_s")),
        get(&format!("{p}.{}", if bytes { "bytes" } else { "ops" })),
    ) {
        (Some(cpu), Some(n)) if cpu > 0.0 => {
            if bytes {
                format!("client {:.0} MB per CPU-s", n / 1e6 / cpu)
            } else {
                format!("client {:.0} ops per CPU-s", n / cpu)
            }
        }
        (Some(_), Some(_)) => "client CPU below clock resolution".into(),
        _ => String::new(),
    }
}
