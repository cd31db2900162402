//! The restic side of the dump comparison: back up the same nightly files, one
//! snapshot per night, into a local repository (format v2, compression auto).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{DumpError, DumpSet, io};
use crate::procfs;
use crate::results::Measured;

const PASSWORD: &str = "coffer-bench-restic-password";

fn restic(binary: &Path, repo: &Path, cache: &Path, args: &[&str]) -> Result<(), DumpError> {
    let out = Command::new(binary)
        .arg("-r")
        .arg(repo)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env("RESTIC_PASSWORD", PASSWORD)
        .output()
        .map_err(|e| DumpError::Command {
            command: "restic".into(),
            detail: e.to_string(),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(DumpError::Command {
            command: format!("restic {}", args.join(" ")),
            detail: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Backs up each night's two files (staged under fixed names, as a nightly job would
/// see them) and measures the repository size and the time restic took.
pub fn run(binary: &Path, set: &DumpSet, work: &Path) -> Result<Measured, DumpError> {
    let repo = work.join("repo");
    let cache = work.join("cache");
    let staging = work.join("staging");
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    restic(
        binary,
        &repo,
        &cache,
        &["init", "--repository-version", "2"],
    )?;
    let mut busy = Duration::ZERO;
    let mut logical = 0u64;
    let cpu_before = procfs::children_cpu_seconds();
    for night in &set.nights {
        for (name, path) in night.files() {
            let target = staging.join(name);
            let _ = std::fs::remove_file(&target);
            // A hard link costs nothing and gives restic a new inode, so it reads the file.
            std::fs::hard_link(path, &target)
                .or_else(|_| std::fs::copy(path, &target).map(|_| ()))
                .map_err(io(&target))?;
            logical += std::fs::metadata(&target).map_err(io(&target))?.len();
        }
        let t = Instant::now();
        restic(
            binary,
            &repo,
            &cache,
            &[
                "backup",
                "--quiet",
                "--host",
                "bench",
                &staging.display().to_string(),
            ],
        )?;
        busy += t.elapsed();
    }
    let mut m = Measured::default();
    m.set("dump.nights", set.nights.len() as f64);
    m.set("dump.logical_bytes", logical as f64);
    let stored = procfs::disk_usage_bytes(&repo);
    m.set("dump.stored_bytes", stored as f64);
    m.set(
        "dump.stored_pct_of_logical",
        100.0 * stored as f64 / logical.max(1) as f64,
    );
    m.set("dump.ingest_seconds", busy.as_secs_f64());
    m.set(
        "dump.ingest_mb_per_s",
        logical as f64 / 1e6 / busy.as_secs_f64().max(1e-9),
    );
    if let Some(cpu) = procfs::children_cpu_seconds()
        .zip(cpu_before)
        .map(|(a, b)| a - b)
    {
        m.set("dump.server_cpu_s", cpu);
    }
    m.set("dump.objects_found", (set.nights.len() * 2) as f64);
    m.note("restic backup (repository v2, compression auto) of a staging dir holding each night's two files; time includes process start per night");
    Ok(m)
}
