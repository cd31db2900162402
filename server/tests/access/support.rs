//! Shared by the `access_*` tests: clients running as a chosen key. The admin
//! API (the CLI's own client) and the keys come from the test kit.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

pub use coffer_conformance::Key;
use coffer_conformance::{CmdOutput, TestEnv, run_cmd};
use serde_json::Value;

pub const TIMEOUT: Duration = Duration::from_secs(300);

/// `cmd` made to sign with `key` instead of the root key.
pub fn as_key(mut cmd: Command, key: &Key) -> Command {
    cmd.env("AWS_ACCESS_KEY_ID", &key.id)
        .env("AWS_SECRET_ACCESS_KEY", &key.secret);
    cmd
}

/// aws cli v1 (pip, in the venv) as `key`.
pub fn aws(env: &TestEnv, key: &Key, args: &[&str]) -> CmdOutput {
    let mut c = env.client_cmd(coffer_conformance::paths::aws_v1());
    c.arg("--endpoint-url").arg(env.endpoint()).args(args);
    run_cmd(as_key(c, key), TIMEOUT)
}

/// The venv's python, for boto3 scripts.
pub fn python() -> PathBuf {
    coffer_conformance::paths::venv_dir().join("bin/python")
}

/// Runs `tests/access/ops.py` style scripts: `script` with one JSON argument, stdout parsed.
pub fn boto3(env: &TestEnv, script: &str, arg: &Value) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/access")
        .join(script);
    let mut c = env.client_cmd(python());
    c.arg(path).arg(arg.to_string());
    let out = run_cmd(c, TIMEOUT);
    assert!(
        out.success(),
        "{script} failed:\n{}\n{}\nserver log:\n{}",
        out.stdout,
        out.stderr,
        env.server.stderr_tail()
    );
    serde_json::from_str(out.stdout.trim()).expect("script prints JSON")
}

pub fn root_key() -> Key {
    Key::root()
}
