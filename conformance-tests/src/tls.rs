//! A throw-away self-signed certificate for 127.0.0.1 / localhost, made with the `openssl` CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::command::run_cmd;

/// PEM files of a self-signed certificate that is its own CA.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Writes `cert.pem` and `key.pem` into `dir`.
pub fn self_signed(dir: &Path) -> TlsFiles {
    std::fs::create_dir_all(dir).expect("create tls dir");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
    ])
    .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
    .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
    .args(["-addext", "basicConstraints=critical,CA:TRUE"])
    .arg("-keyout")
    .arg(&key)
    .arg("-out")
    .arg(&cert);
    run_cmd(cmd, Duration::from_secs(30)).assert_ok();
    TlsFiles { cert, key }
}
