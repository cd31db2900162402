//! Shared by the `access_*` tests: the admin API of a `TestEnv`'s server
//! (driven with curl), access keys, and clients running as a chosen key.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use coffer_conformance::{CmdOutput, TestEnv, run_cmd};
use serde_json::{Value, json};

pub const TIMEOUT: Duration = Duration::from_secs(300);

/// The admin listener and token of a running server.
#[derive(Debug, Clone)]
pub struct Admin {
    pub url: String,
    pub token: String,
}

impl Admin {
    /// Reads the admin URL from the server's stdout log (it is printed after
    /// the S3 line the harness waits for) and the token from its file.
    pub fn of(env: &TestEnv) -> Admin {
        let log = env.root().join("logs/cofferd.1.stdout");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(url) = text
                .lines()
                .find_map(|l| l.strip_prefix("coffer: admin API listening on "))
            {
                let token = std::fs::read_to_string(env.data_dir().join("admin.token"))
                    .expect("admin.token")
                    .trim()
                    .to_owned();
                return Admin {
                    url: url.trim().to_owned(),
                    token,
                };
            }
            assert!(
                Instant::now() < deadline,
                "no admin URL in {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One request with curl; `token` None sends none. Returns (status, JSON or Null).
    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut c = Command::new("curl");
        c.args(["-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method])
            .arg(format!("{}{path}", self.url));
        if let Some(t) = token {
            c.arg("-H").arg(format!("Authorization: Bearer {t}"));
        }
        if let Some(b) = body {
            c.args(["-H", "Content-Type: application/json", "--data-binary"])
                .arg(b.to_string());
        }
        let out = run_cmd(c, TIMEOUT);
        assert!(out.success(), "curl failed: {}", out.stderr);
        let (body, code) = out.stdout.rsplit_once('\n').expect("status line");
        let v = serde_json::from_str(body).unwrap_or(Value::Null);
        (code.trim().parse().expect("status"), v)
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.call_with(method, path, body, Some(&self.token))
    }

    /// Asserts a 2xx and returns the JSON.
    pub fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let (code, v) = self.call(method, path, body);
        assert!((200..300).contains(&code), "{method} {path} → {code} {v}");
        v
    }

    pub fn create_bucket(&self, name: &str) {
        self.ok("POST", "/v1/buckets", Some(&json!({ "name": name })));
    }

    /// A new key with the given grants `(bucket, prefix, "rwdo" letters)`.
    pub fn create_key(&self, name: &str, grants: &[(&str, &str, &str)]) -> Key {
        let v = self.ok("POST", "/v1/keys", Some(&json!({ "name": name })));
        let key = Key {
            id: v["access_key_id"].as_str().expect("id").to_owned(),
            secret: v["secret_access_key"].as_str().expect("secret").to_owned(),
        };
        for (bucket, prefix, perms) in grants {
            self.grant(&key.id, bucket, prefix, perms);
        }
        key
    }

    pub fn grant(&self, id: &str, bucket: &str, prefix: &str, perms: &str) {
        self.ok(
            "POST",
            &format!("/v1/keys/{id}/grants"),
            Some(&json!({
                "bucket": bucket, "prefix": prefix,
                "read": perms.contains('r'), "write": perms.contains('w'),
                "delete": perms.contains('d'), "owner": perms.contains('o'),
            })),
        );
    }
}

/// An access key and its secret.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    pub secret: String,
}

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
    Key {
        id: coffer_conformance::ACCESS_KEY.to_owned(),
        secret: coffer_conformance::SECRET_KEY.to_owned(),
    }
}
