//! Smoke test of the harness: every scenario at tiny sizes against a real `cofferd`,
//! then checks that the JSON parses and that the byte and object counts add up.
//! It checks the harness, never timing.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The test kit's `cofferd` (`$COFFER_BIN`, else the one next to this test binary);
/// the bench starts it with its own launcher, as it does outside tests.
fn cofferd() -> PathBuf {
    coffer_conformance::paths::cofferd_bin()
}

fn metric(run: &Value, key: &str) -> f64 {
    run["metrics"][key].as_f64().unwrap_or_else(|| {
        panic!(
            "{} / {}: no metric {key}: {run}",
            run["server"], run["scenario"]
        )
    })
}

#[test]
fn every_scenario_at_tiny_size_against_cofferd() {
    let cofferd = cofferd();
    assert!(
        cofferd.is_file(),
        "cofferd not found at {} (build it with `cargo build -p coffer-server --bins` or set COFFER_BIN)",
        cofferd.display()
    );
    let work = tempfile::tempdir().expect("tempdir");
    let json = work.path().join("out.json");
    let md = work.path().join("out.md");
    let dumps = work.path().join("dumps");
    let (large_size, large_objects) = (1_048_576 + 17, 3);
    let (small_size, small_objects) = (4096, 64);
    let (list_keys, list_page, list_passes): (usize, usize, usize) = (1_234, 500, 2);
    let nights = 3;
    let (memory_size, memory_streams) = (5 * 1_048_576, 2);
    let (lc_versions, lc_keys) = (2_500, 100);
    let out = Command::new(env!("CARGO_BIN_EXE_coffer-bench"))
        .arg("run")
        .args([
            "--servers",
            "coffer",
            "--scenarios",
            "large,small,list,dump,memory,lifecycle",
        ])
        .arg("--cofferd")
        .arg(&cofferd)
        .arg("--work-dir")
        .arg(work.path().join("servers"))
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .arg("--dump-cache")
        .arg(&dumps)
        .args(["--verify", "--synthetic", "--no-restic"])
        .args(["--large-size", &large_size.to_string()])
        .args([
            "--large-objects",
            &large_objects.to_string(),
            "--large-streams",
            "2",
        ])
        .args(["--small-size", &small_size.to_string()])
        .args([
            "--small-objects",
            &small_objects.to_string(),
            "--small-concurrency",
            "8",
        ])
        .args([
            "--list-keys",
            &list_keys.to_string(),
            "--list-page",
            &list_page.to_string(),
        ])
        .args([
            "--list-passes",
            &list_passes.to_string(),
            "--list-populate-concurrency",
            "8",
        ])
        .args([
            "--dump-nights",
            &nights.to_string(),
            "--synthetic-rows",
            "5000",
        ])
        .args(["--memory-size", &memory_size.to_string()])
        .args(["--memory-streams", &memory_streams.to_string()])
        .args([
            "--lifecycle-versions",
            &lc_versions.to_string(),
            "--lifecycle-keys",
            &lc_keys.to_string(),
        ])
        .args(["--lifecycle-seconds", "0.5", "--lifecycle-rounds", "2"])
        .output()
        .expect("run coffer-bench");
    assert!(
        out.status.success(),
        "coffer-bench failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written"))
            .expect("json parses");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 6, "one run per scenario: {runs:?}");
    let run = |scenario: &str| {
        runs.iter()
            .find(|r| r["server"] == "coffer" && r["scenario"] == scenario)
            .unwrap_or_else(|| panic!("no coffer/{scenario} run"))
    };
    for r in runs {
        assert_eq!(r["status"]["kind"], "ok", "{r}");
        assert!(r["server_peak_rss_bytes"].as_u64().unwrap_or(0) > 0, "{r}");
    }

    let large = run("large");
    let want = (large_size * large_objects) as f64;
    assert_eq!(metric(large, "large.expected_bytes"), want);
    for kind in ["incompressible", "text"] {
        for phase in ["put", "get"] {
            assert_eq!(metric(large, &format!("large.{kind}.{phase}.bytes")), want);
            assert_eq!(
                metric(large, &format!("large.{kind}.{phase}.ops")),
                large_objects as f64
            );
            assert!(metric(large, &format!("large.{kind}.{phase}.mb_per_s")) > 0.0);
        }
    }

    let small = run("small");
    let want = (small_size * small_objects) as f64;
    for phase in ["put", "get", "head"] {
        assert_eq!(
            metric(small, &format!("small.{phase}.bytes")),
            want,
            "{phase}"
        );
    }
    for phase in ["put", "get", "head", "delete"] {
        assert_eq!(
            metric(small, &format!("small.{phase}.ops")),
            small_objects as f64
        );
        assert!(
            metric(small, &format!("small.{phase}.p50_ms"))
                <= metric(small, &format!("small.{phase}.p99_ms"))
        );
    }
    assert_eq!(metric(small, "small.keys_left_after_delete"), 0.0);

    let list = run("list");
    assert_eq!(metric(list, "list.populate.ops"), list_keys as f64);
    assert_eq!(
        metric(list, "list.pages"),
        (list_keys.div_ceil(list_page) * list_passes) as f64
    );
    assert_eq!(metric(list, "list.keys_per_pass"), list_keys as f64);

    let dump = run("dump");
    let on_disk: u64 = std::fs::read_dir(&dumps)
        .expect("dump cache")
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|night| {
            std::fs::read_dir(night.path())
                .expect("night dir")
                .flatten()
        })
        .map(|f| f.metadata().expect("metadata").len())
        .sum();
    assert_eq!(metric(dump, "dump.logical_bytes"), on_disk as f64);
    assert_eq!(metric(dump, "dump.nights"), nights as f64);
    assert_eq!(metric(dump, "dump.objects_found"), (2 * nights) as f64);
    assert_eq!(
        metric(dump, "dump.versioned"),
        1.0,
        "cofferd supports versioning"
    );
    assert!(metric(dump, "dump.stored_bytes") > 0.0);

    let memory = run("memory");
    let want = (memory_size * memory_streams) as f64;
    assert_eq!(metric(memory, "memory.put.bytes"), want);
    assert_eq!(metric(memory, "memory.get.bytes"), want);
    assert!(metric(memory, "memory.peak_rss_mib") > 0.0);

    let lifecycle = run("lifecycle");
    assert_eq!(metric(lifecycle, "lifecycle.load.ops"), lc_versions as f64);
    assert_eq!(
        metric(lifecycle, "lifecycle.versions_after"),
        lc_versions as f64
    );
    assert_eq!(
        metric(lifecycle, "lifecycle.actions"),
        0.0,
        "nothing is due"
    );
    assert!(metric(lifecycle, "lifecycle.passes_total") >= 1.0);
    assert!(metric(lifecycle, "lifecycle.put_idle.ops") > 0.0);
    assert!(metric(lifecycle, "lifecycle.put_busy.ops") > 0.0);
    assert!(metric(lifecycle, "lifecycle.put_ratio") > 0.0);

    let table = std::fs::read_to_string(&md).expect("markdown written");
    assert!(table.contains("| scenario / figure | coffer |"), "{table}");
    assert!(table.contains("large PUT, incompressible"), "{table}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        table.trim(),
        "stdout carries the same table"
    );
}
