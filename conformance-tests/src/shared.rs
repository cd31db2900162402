//! One `cofferd` per test binary for the tests that only need *a* server: each
//! takes a bucket of its own on it ([`crate::TestEnv::shared`]) instead of
//! paying for a start of its own. A test that stops, restarts or crashes the
//! server, reads its data dir or its memory, or counts what is on it (buckets,
//! keys) keeps a server of its own.
//!
//! The server lives in a static, which Rust never drops; so that it does not
//! outlive the test binary, a watchdog shell (started beside it) waits for the
//! test process to exit, then kills the server and removes its temp dir.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::server::CofferServer;

static SHARED: OnceLock<CofferServer> = OnceLock::new();

/// The test binary's shared server, started on first use.
pub fn shared_server() -> &'static CofferServer {
    SHARED.get_or_init(|| {
        let root = tempfile::Builder::new()
            .prefix("coffer-shared-")
            .tempdir()
            .expect("create temp dir")
            .keep();
        if std::env::var_os("COFFER_KEEP_TMP").is_some() {
            eprintln!("shared server: temp dir {}", root.display());
        }
        let server = CofferServer::builder(root.join("data"), root.join("logs")).start();
        reap_on_exit(&server, &root);
        server
    })
}

/// Kills the server (and removes `root`) once this process has exited.
fn reap_on_exit(server: &CofferServer, root: &Path) {
    let keep = std::env::var_os("COFFER_KEEP_TMP").is_some();
    let script = if keep {
        "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; kill -9 \"$2\" 2>/dev/null"
    } else {
        "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; kill -9 \"$2\" 2>/dev/null; \
         sleep 1; rm -rf \"$3\""
    };
    let spawned = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("coffer-reaper")
        .arg(std::process::id().to_string())
        .arg(server.pid().to_string())
        .arg(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        panic!("cannot start the shared server's reaper: {e}");
    }
}
