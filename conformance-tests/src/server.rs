//! The one spawner of the real `cofferd`: a process on free ports, owned by one
//! test (or, as a view, shared by many: [`crate::shared`]) and killed when dropped.
//! Its start-up lines are read with the server's own reader
//! (`coffer_server::startup_lines`), so the kit and the bench cannot drift from
//! what cofferd prints.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use coffer_server::startup_lines::{StartupLines, StartupReader};

use crate::admin::Admin;
use crate::server_builder::{Launch, ServerBuilder};
use crate::tls::TlsFiles;

/// How long a start may take before the test fails (first start creates the repository).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What a server is started with; [`ServerBuilder`] adds everything else.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub data_dir: PathBuf,
    /// Where stdout/stderr logs of each start are kept (appended to).
    pub log_dir: PathBuf,
    pub tls: Option<TlsFiles>,
}

/// How a server is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// SIGTERM, then wait this long for the exit (a graceful drain).
    Term(Duration),
    /// SIGKILL: what a power cut looks like to the process.
    Kill,
}

/// A running `cofferd`.
#[derive(Debug)]
pub struct CofferServer {
    opts: ServerOptions,
    launch: Launch,
    child: Option<Child>,
    /// The process id of the latest start (kept for views, which hold no child).
    pid: u32,
    /// `http://127.0.0.1:PORT` or `https://…`, as printed by the server.
    endpoint: String,
    port: u16,
    /// Every stdout line the server printed up to the listening line.
    startup_lines: Vec<String>,
    startup: Option<StartupLines>,
    starts: u32,
    /// A view of a server other tests use too: it cannot be stopped or restarted.
    shared: bool,
}

impl CofferServer {
    /// Starts `cofferd` and waits for its "S3 listening on" line.
    pub fn start(opts: ServerOptions) -> CofferServer {
        ServerBuilder::from(opts).start()
    }

    /// A builder for a server on `data_dir` with logs in `log_dir`
    /// (extra env, flags, config file, TLS…).
    pub fn builder(data_dir: impl Into<PathBuf>, log_dir: impl Into<PathBuf>) -> ServerBuilder {
        ServerBuilder::new(data_dir, log_dir)
    }

    pub(crate) fn launch(builder: ServerBuilder) -> CofferServer {
        let mut s = CofferServer {
            opts: builder.opts,
            launch: builder.launch,
            child: None,
            pid: 0,
            endpoint: String::new(),
            port: 0,
            startup_lines: Vec::new(),
            startup: None,
            starts: 0,
            shared: false,
        };
        s.spawn();
        s
    }

    /// A handle on the same process that does not own it (see [`crate::shared`]).
    pub(crate) fn view(&self) -> CofferServer {
        CofferServer {
            opts: self.opts.clone(),
            launch: self.launch.clone(),
            child: None,
            pid: self.pid,
            endpoint: self.endpoint.clone(),
            port: self.port,
            startup_lines: self.startup_lines.clone(),
            startup: self.startup.clone(),
            starts: self.starts,
            shared: true,
        }
    }

    fn command(&self) -> Command {
        ServerBuilder {
            opts: self.opts.clone(),
            launch: self.launch.clone(),
        }
        .command()
    }

    fn spawn(&mut self) {
        assert!(
            !self.shared,
            "a shared server cannot be restarted by one test"
        );
        self.starts += 1;
        std::fs::create_dir_all(&self.opts.log_dir).expect("create log dir");
        let stderr_path = self.stderr_path();
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(&stderr_path)
            .expect("open stderr log");
        let mut cmd = self.command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start {cmd:?}: {e}"),
        };
        self.pid = child.id();
        let stdout = child.stdout.take().expect("piped stdout");
        let stdout_log = self
            .opts
            .log_dir
            .join(format!("cofferd.{}.stdout", self.starts));
        let (tx, rx) = mpsc::channel::<String>();
        // Keep draining stdout for the server's whole life so it never blocks on a full pipe.
        thread::spawn(move || {
            let mut log = File::create(stdout_log).ok();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(f) = log.as_mut() {
                    let _ = writeln!(f, "{line}");
                }
                let _ = tx.send(line);
            }
        });
        self.child = Some(child);
        self.startup_lines.clear();
        self.startup = None;
        let mut reader = StartupReader::default();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let read = reader.feed(&line);
                    self.startup_lines.push(line);
                    match read {
                        Ok(None) => {}
                        Ok(Some(startup)) => {
                            self.port = startup.s3_port().unwrap_or_else(|| {
                                self.fail(&format!("no port in {:?}", startup.s3_url))
                            });
                            self.endpoint = startup.s3_url.clone();
                            self.startup = Some(startup);
                            break;
                        }
                        Err(e) => self.fail(&format!("unreadable start-up lines: {e}")),
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.fail("no \"coffer: S3 listening on\" line within 60 s")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed: the process is gone or closed it; give it a moment to exit.
                    thread::sleep(Duration::from_millis(200));
                    self.fail("cofferd closed stdout before printing \"S3 listening on\"")
                }
            }
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        let status = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
            .map(|s| s.to_string())
            .unwrap_or_else(|| "still running (killed now)".to_string());
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        panic!(
            "cofferd start failed: {why}\nstatus: {status}\nstdout so far:\n{}\nstderr ({}):\n{}",
            self.startup_lines.join("\n"),
            self.stderr_path().display(),
            self.stderr_tail()
        );
    }

    /// The file the server's stderr (its log) is appended to.
    pub fn stderr_path(&self) -> PathBuf {
        self.opts.log_dir.join("cofferd.stderr")
    }

    /// The last part of the server's log, for failure messages.
    pub fn stderr_tail(&self) -> String {
        let s = std::fs::read(self.stderr_path()).unwrap_or_default();
        let start = s.len().saturating_sub(8000);
        String::from_utf8_lossy(&s[start..]).into_owned()
    }

    /// `http://127.0.0.1:PORT` (or https) as printed by the server.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn is_tls(&self) -> bool {
        self.opts.tls.is_some()
    }

    pub fn data_dir(&self) -> &Path {
        &self.opts.data_dir
    }

    /// The process id of the latest start.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether this is a view of a server other tests share.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// Stdout lines of the latest start, up to and including the listening line.
    pub fn startup_lines(&self) -> &[String] {
        &self.startup_lines
    }

    /// The latest start's lines, read: both URLs, and on a first start the root key.
    pub fn startup(&self) -> &StartupLines {
        self.startup
            .as_ref()
            .expect("a started server has read its start-up lines")
    }

    /// `http(s)://127.0.0.1:PORT` of the admin API.
    pub fn admin_url(&self) -> &str {
        &self.startup().admin_url
    }

    /// The admin token: the one the server was given (`COFFER_ADMIN_TOKEN`), else
    /// the one it keeps in `<data dir>/admin.token`.
    pub fn admin_token(&self) -> String {
        let given = self
            .launch
            .env
            .iter()
            .rev()
            .find(|(k, _)| k == "COFFER_ADMIN_TOKEN")
            .and_then(|(_, v)| v.as_ref())
            .map(|v| v.to_string_lossy().into_owned());
        given.unwrap_or_else(|| {
            std::fs::read_to_string(self.admin_token_file())
                .expect("admin.token")
                .trim()
                .to_owned()
        })
    }

    /// Where the server keeps its admin token.
    pub fn admin_token_file(&self) -> PathBuf {
        self.opts.data_dir.join("admin.token")
    }

    /// The admin API with the server's token, through the CLI's own client.
    pub fn admin(&self) -> Admin {
        Admin::new(self.admin_url(), Some(&self.admin_token()))
    }

    /// Stops the process as `how` says; the exit status, or `None` when it was
    /// killed (SIGKILL, or SIGTERM not obeyed in time, after which it is killed).
    pub fn stop(&mut self, how: Stop) -> Option<std::process::ExitStatus> {
        match how {
            Stop::Kill => {
                self.kill9();
                None
            }
            Stop::Term(timeout) => self.terminate(timeout),
        }
    }

    /// SIGKILL, no chance to clean up: what a power cut looks like to the process.
    pub fn kill9(&mut self) {
        self.not_shared("kill");
        if let Some(mut c) = self.child.take() {
            // std's Child::kill sends SIGKILL on Unix.
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits up to `timeout` for the exit status (`None` if it did not exit; it is then killed).
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        self.not_shared("terminate");
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts a new process on the same data dir with the same settings (after
    /// [`Self::kill9`], [`Self::terminate`] or a crash; a running one is killed
    /// first); the ports change.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Stops as `how` says, then starts again on the same data dir.
    pub fn restart_after(&mut self, how: Stop) -> Option<std::process::ExitStatus> {
        let status = self.stop(how);
        self.spawn();
        status
    }

    /// Peak resident memory of the running process so far (Linux `VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        if self.child.is_none() && !self.shared {
            return None;
        }
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Panics with the server log if the process has exited.
    #[track_caller]
    pub fn assert_alive(&mut self) {
        if self.shared {
            assert!(
                Path::new(&format!("/proc/{}", self.pid)).exists(),
                "the shared cofferd exited; log:\n{}",
                self.stderr_tail()
            );
            return;
        }
        let exited = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        if let Some(status) = exited {
            panic!(
                "cofferd exited unexpectedly ({status}); log:\n{}",
                self.stderr_tail()
            );
        }
    }

    #[track_caller]
    fn not_shared(&self, what: &str) {
        assert!(
            !self.shared,
            "cannot {what} a shared server: give the test a TestEnv of its own"
        );
    }
}

impl Drop for CofferServer {
    fn drop(&mut self) {
        // A view owns no process; the shared server's owner reaps it.
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use coffer_server::startup_lines::{self, FirstStart, StartupLines};

    /// The fixture the Python harness's reader is pinned to is what the server
    /// prints, and reads back the same here.
    #[test]
    fn the_startup_fixture_is_what_cofferd_prints() {
        let fixture = include_str!("../fixtures/startup_lines.txt");
        let printed = format!(
            "{}\n{}\n{}\n{}\n",
            startup_lines::first_start(
                Path::new("/srv/coffer-data"),
                Path::new("/srv/coffer-data/master.key"),
                "AKFIXTURE000000000001",
                Some("fixtureSecret0000000000000000000000000001"),
            ),
            startup_lines::admin_token_file(Path::new("/srv/coffer-data/admin.token")),
            startup_lines::admin_listening("http://127.0.0.1:40001"),
            startup_lines::s3_listening("https://127.0.0.1:40002"),
        );
        assert_eq!(fixture, printed);
        let read = StartupLines::parse(fixture).unwrap();
        assert_eq!(
            read,
            StartupLines {
                s3_url: "https://127.0.0.1:40002".into(),
                admin_url: "http://127.0.0.1:40001".into(),
                first_start: Some(FirstStart {
                    data_dir: "/srv/coffer-data".into(),
                    master_key_file: "/srv/coffer-data/master.key".into(),
                    root_access_key: "AKFIXTURE000000000001".into(),
                    root_secret_key: Some("fixtureSecret0000000000000000000000000001".into()),
                }),
                admin_token_file: Some("/srv/coffer-data/admin.token".into()),
            }
        );
    }
}
