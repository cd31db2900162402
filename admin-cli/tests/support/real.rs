//! A real cofferd for the CLI tests, started by the test kit (`coffer-conformance`),
//! and the real `coffer` binary of this build pointed at it.

use coffer_conformance::TestEnv;
use coffer_conformance::clients::AwsCli;

use super::run::{Run, coffer_at};

/// The admin URL of `env`'s server.
pub fn url(env: &TestEnv) -> String {
    env.server.admin_url().to_owned()
}

/// The admin token of `env`'s server.
pub fn token(env: &TestEnv) -> String {
    env.server.admin_token()
}

/// `coffer --url <admin> --token <token> args…` against `env`'s server.
pub fn cli(env: &TestEnv, args: &[&str]) -> Run {
    coffer_at(&url(env), &token(env), args)
}

/// Stores `len` bytes at `bucket/key` with the aws cli, as a backup client would.
pub fn put(env: &TestEnv, bucket: &str, key: &str, len: usize) {
    let f = env.work(&format!("put-{len}.bin"));
    std::fs::write(&f, vec![b'x'; len]).unwrap();
    env.aws(
        AwsCli::V2,
        &[
            "s3api",
            "put-object",
            "--bucket",
            bucket,
            "--key",
            key,
            "--body",
            f.to_str().unwrap(),
        ],
    )
    .assert_ok();
}

/// How the CLI's tables show an RFC 3339 time the server sent (`2026-11-20T10:00:00.5Z`
/// → `2026-11-20 10:00:00Z`).
pub fn shown(rfc3339: &serde_json::Value) -> String {
    let s = rfc3339.as_str().expect("an RFC 3339 time");
    format!("{}Z", s[..19].replace('T', " "))
}
