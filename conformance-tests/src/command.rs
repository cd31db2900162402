//! Running a client program with a deadline and asserting on what it did.

use std::fmt;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a finished client command produced.
#[derive(Debug)]
pub struct CmdOutput {
    /// Human-readable command line, for failure messages.
    pub cmdline: String,
    /// Exit status; `None` when the deadline killed it.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl CmdOutput {
    /// True when the program exited with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Panics (showing everything) unless the command exited 0; returns self for chaining.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.success(), "command failed:\n{self}");
        self
    }

    /// Panics unless the command failed (non-zero exit, not a timeout).
    #[track_caller]
    pub fn assert_failed(&self) -> &Self {
        assert!(
            self.status.is_some() && !self.success(),
            "command was expected to fail:\n{self}"
        );
        self
    }

    /// Panics unless stdout contains `needle`.
    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{self}"
        );
        self
    }

    /// Panics unless stdout does not contain `needle`.
    #[track_caller]
    pub fn assert_stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout unexpectedly has {needle:?}:\n{self}"
        );
        self
    }

    /// Panics unless stderr or stdout contains `needle` (clients differ in where they report errors).
    #[track_caller]
    pub fn assert_output_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle) || self.stderr.contains(needle),
            "output lacks {needle:?}:\n{self}"
        );
        self
    }

    /// Parses stdout as JSON, panicking with the output when it is not.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        match serde_json::from_str(&self.stdout) {
            Ok(v) => v,
            Err(e) => panic!("stdout is not JSON ({e}):\n{self}"),
        }
    }
}

impl fmt::Display for CmdOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = match self.status {
            Some(s) => s.to_string(),
            None => "killed at deadline".to_string(),
        };
        writeln!(f, "$ {}", self.cmdline)?;
        writeln!(f, "status: {status} after {:.1?}", self.elapsed)?;
        writeln!(f, "--- stdout ---\n{}", tail(&self.stdout, 6000))?;
        write!(f, "--- stderr ---\n{}", tail(&self.stderr, 6000))
    }
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Runs `cmd` to completion (stdin closed), killing it after `timeout`.
pub fn run_cmd(cmd: Command, timeout: Duration) -> CmdOutput {
    run_cmd_with_stdin(cmd, Stdio::null(), timeout)
}

/// Runs `cmd` to completion with `stdin` (e.g. a file, for `aws s3 cp - …`), killing it after `timeout`.
pub fn run_cmd_with_stdin(mut cmd: Command, stdin: Stdio, timeout: Duration) -> CmdOutput {
    let cmdline = format!("{cmd:?}");
    cmd.stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("cannot start {cmdline}: {e}"),
    };
    let out_reader = child.stdout.take().map(spawn_reader);
    let err_reader = child.stderr.take().map(spawn_reader);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for {cmdline}: {e}"),
        }
    };
    let join = |r: Option<thread::JoinHandle<String>>| {
        r.map(|h| h.join().unwrap_or_default()).unwrap_or_default()
    };
    CmdOutput {
        cmdline,
        status,
        stdout: join(out_reader),
        stderr: join(err_reader),
        elapsed: start.elapsed(),
    }
}

fn spawn_reader<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}
