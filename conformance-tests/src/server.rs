//! A real `cofferd` process on a free port, owned by one test and killed when dropped.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::paths;
use crate::tls::TlsFiles;

/// How long a start may take before the test fails (first start creates the repository).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What a server is started with.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub data_dir: PathBuf,
    /// Where stdout/stderr logs of each start are kept (appended to).
    pub log_dir: PathBuf,
    pub tls: Option<TlsFiles>,
}

/// A running `cofferd`.
#[derive(Debug)]
pub struct CofferServer {
    opts: ServerOptions,
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` or `https://…`, as printed by the server.
    endpoint: String,
    port: u16,
    /// Every stdout line the server printed up to the listening line.
    startup_lines: Vec<String>,
    starts: u32,
}

impl CofferServer {
    /// Starts `cofferd` and waits for its "S3 listening on" line.
    pub fn start(opts: ServerOptions) -> CofferServer {
        let mut s = CofferServer {
            opts,
            child: None,
            endpoint: String::new(),
            port: 0,
            startup_lines: Vec::new(),
            starts: 0,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let bin = paths::cofferd_bin();
        assert!(
            bin.exists(),
            "cofferd binary not found at {} (build it with `cargo build -p coffer-server --bins` or set COFFER_BIN)",
            bin.display()
        );
        std::fs::create_dir_all(&self.opts.log_dir).expect("create log dir");
        let stderr_path = self.stderr_path();
        let stderr = File::options()
            .create(true)
            .append(true)
            .open(&stderr_path)
            .expect("open stderr log");
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .env("PATH", paths::CLIENT_PATH)
            .env("HOME", &self.opts.log_dir)
            .env("COFFER_LISTEN", "127.0.0.1:0")
            .env("COFFER_DATA_DIR", &self.opts.data_dir)
            .env("COFFER_ROOT_ACCESS_KEY", crate::ACCESS_KEY)
            .env("COFFER_ROOT_SECRET_KEY", crate::SECRET_KEY)
            .env("COFFER_REGION", crate::REGION)
            .env("COFFER_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr));
        if let Some(tls) = &self.opts.tls {
            cmd.env("COFFER_TLS_CERT", &tls.cert)
                .env("COFFER_TLS_KEY", &tls.key);
        }
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => panic!("cannot start {}: {e}", bin.display()),
        };
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
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let listening = line
                        .strip_prefix("coffer: S3 listening on ")
                        .map(str::trim)
                        .map(str::to_string);
                    self.startup_lines.push(line);
                    if let Some(url) = listening {
                        self.port = parse_port(&url).unwrap_or_else(|| {
                            self.fail(&format!("cannot parse a port from {url:?}"))
                        });
                        self.endpoint = url;
                        break;
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

    /// Stdout lines of the latest start, up to and including the listening line.
    pub fn startup_lines(&self) -> &[String] {
        &self.startup_lines
    }

    /// SIGKILL, no chance to clean up: what a power cut looks like to the process.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            // std's Child::kill sends SIGKILL on Unix.
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then waits up to `timeout` for the exit status (`None` if it did not exit; it is then killed).
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Ok(Some(s)) = child.try_wait() {
                return Some(s);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts a new process on the same data dir (after [`Self::kill9`] or a crash); the port changes.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Peak resident memory of the running process so far (Linux `VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Panics with the server log if the process has exited.
    #[track_caller]
    pub fn assert_alive(&mut self) {
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
}

impl Drop for CofferServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn parse_port(url: &str) -> Option<u16> {
    let rest = url.split("://").nth(1)?;
    let hostport = rest.split('/').next()?;
    hostport.rsplit(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::parse_port;

    #[test]
    fn parses_ports() {
        assert_eq!(parse_port("http://127.0.0.1:40123"), Some(40123));
        assert_eq!(parse_port("https://127.0.0.1:443/"), Some(443));
        assert_eq!(parse_port("http://127.0.0.1"), None);
    }
}
