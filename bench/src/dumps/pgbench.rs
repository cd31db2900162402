//! Real dumps: a throw-away PostgreSQL cluster (Debian packages), a `pgbench -i`
//! database, then per night a pgbench run touching ≈ churn % of the accounts and
//! `pg_dump` in plain and custom (`-Z0`) format.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{DumpError, DumpSet, Night, io};

/// Parameters of the real-dump generator.
#[derive(Debug, Clone)]
pub struct PgParams {
    pub scale: u32,
    pub nights: usize,
    pub churn_pct: f64,
}

/// The directory holding initdb, pg_ctl, pgbench and pg_dump (newest installed major).
fn pg_bin_dir() -> Result<PathBuf, DumpError> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| DumpError::NotInstalled("PostgreSQL (apt-get install postgresql)".into()))?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, b)| b)
        .ok_or_else(|| DumpError::NotInstalled("PostgreSQL server binaries (initdb)".into()))
}

/// PostgreSQL refuses to run as root; when we are root, run it as `postgres`.
struct Runner {
    bin: PathBuf,
    as_postgres: bool,
    socket_dir: PathBuf,
    port: u16,
}

impl Runner {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), DumpError> {
        let mut cmd = self.command(program);
        cmd.args(args);
        let out = cmd.output().map_err(|e| DumpError::Command {
            command: program.to_owned(),
            detail: e.to_string(),
        })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(DumpError::Command {
                command: format!("{program} {}", args.join(" ")),
                detail: format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            })
        }
    }

    fn conn_args(&self) -> Vec<String> {
        vec![
            "-h".into(),
            self.socket_dir.display().to_string(),
            "-p".into(),
            self.port.to_string(),
        ]
    }

    fn run_db(&self, program: &str, args: &[&str]) -> Result<(), DumpError> {
        let conn = self.conn_args();
        let mut all: Vec<&str> = conn.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        self.run(program, &all)
    }
}

/// Stops the cluster however generation ends.
struct Cluster<'a> {
    runner: &'a Runner,
    data: PathBuf,
}

impl Drop for Cluster<'_> {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = self
            .runner
            .run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]);
    }
}

fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let f: Vec<&str> = line.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

fn chown_tree(dir: &Path, ids: Option<(u32, u32)>) -> Result<(), DumpError> {
    if let Some((uid, gid)) = ids {
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io(dir))?;
    }
    Ok(())
}

pub fn generate(dir: &Path, p: &PgParams) -> Result<DumpSet, DumpError> {
    let source = format!(
        "pgbench scale={} nights={} churn={}%",
        p.scale, p.nights, p.churn_pct
    );
    if let Some(set) = DumpSet::load_cached(dir, &source) {
        return Ok(set);
    }
    let bin = pg_bin_dir()?;
    let as_root = std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    let ids = if as_root {
        Some(postgres_ids().ok_or_else(|| {
            DumpError::NotInstalled("a `postgres` user to run PostgreSQL as".into())
        })?)
    } else {
        None
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    chown_tree(dir, ids)?;
    let cluster_dir = dir.join("cluster");
    let socket_dir = dir.join("socket");
    std::fs::create_dir_all(&socket_dir).map_err(io(&socket_dir))?;
    chown_tree(&socket_dir, ids)?;
    let _ = std::fs::remove_dir_all(&cluster_dir);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(io(dir))?;
    let runner = Runner {
        bin,
        as_postgres: as_root,
        socket_dir: socket_dir.clone(),
        port,
    };
    let data = cluster_dir.display().to_string();
    runner.run(
        "initdb",
        &[
            "-D",
            &data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "--no-locale",
            "-E",
            "UTF8",
        ],
    )?;
    // Durability of this throw-away cluster is irrelevant; only its dumps matter.
    let opts = format!(
        "-k {} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off",
        socket_dir.display()
    );
    let log = dir.join("postgres.log").display().to_string();
    runner.run(
        "pg_ctl",
        &["-D", &data, "-l", &log, "-w", "-o", &opts, "start"],
    )?;
    let _cluster = Cluster {
        runner: &runner,
        data: cluster_dir.clone(),
    };
    runner.run_db("createdb", &["-U", "postgres", "bench"])?;
    let scale = p.scale.to_string();
    runner.run_db(
        "pgbench",
        &["-U", "postgres", "-i", "-q", "-s", &scale, "bench"],
    )?;
    // tpcb-like transactions update one random account each.
    let accounts = u64::from(p.scale) * 100_000;
    let per_client = ((accounts as f64 * p.churn_pct / 100.0) / 2.0)
        .ceil()
        .max(1.0) as u64;
    let per_client = per_client.to_string();
    let mut nights = Vec::with_capacity(p.nights);
    for night in 0..p.nights {
        runner.run_db(
            "pgbench",
            &[
                "-U",
                "postgres",
                "-n",
                "-c",
                "2",
                "-j",
                "2",
                "-t",
                &per_client,
                "bench",
            ],
        )?;
        let night_dir = dir.join(format!("night-{night:02}"));
        std::fs::create_dir_all(&night_dir).map_err(io(&night_dir))?;
        chown_tree(&night_dir, ids)?;
        let plain = night_dir.join("plain.sql");
        let custom = night_dir.join("custom.dump");
        runner.run_db(
            "pg_dump",
            &[
                "-U",
                "postgres",
                "-f",
                &plain.display().to_string(),
                "bench",
            ],
        )?;
        runner.run_db(
            "pg_dump",
            &[
                "-U",
                "postgres",
                "-Fc",
                "-Z0",
                "-f",
                &custom.display().to_string(),
                "bench",
            ],
        )?;
        nights.push(Night { plain, custom });
    }
    drop(_cluster);
    let _ = std::fs::remove_dir_all(&cluster_dir);
    let set = DumpSet::from_nights(source, nights)?;
    set.save(dir)?;
    Ok(set)
}
