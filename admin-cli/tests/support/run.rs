//! Runs the real `coffer` binary with a clean environment and a private HOME.

use std::path::Path;
use std::process::{Command, Output};

/// What one run of `coffer` did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {:?} / stderr {:?}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit code, showing both streams when it is wrong.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// `coffer args…` with HOME set to `home`, no COFFER_* or XDG variables except those in `env`.
pub fn coffer(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_coffer"));
    cmd.args(args)
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("COFFER_ADMIN_URL")
        .env_remove("COFFER_ADMIN_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run coffer");
    Run {
        code: status.code().expect("coffer ended by a signal"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// `coffer --url <url> --token <token> args…`.
pub fn coffer_at(url: &str, token: &str, args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    // `--token=` so that a token starting with `-` is not read as a flag.
    let token = format!("--token={token}");
    let mut all = vec!["--url", url, token.as_str()];
    all.extend_from_slice(args);
    coffer(home.path(), &[], &all)
}
