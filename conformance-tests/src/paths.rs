//! Where the binaries under test live: `cofferd`, the workspace's Python venv and the client programs.

use std::path::{Path, PathBuf};

/// The workspace root (parent of this crate's manifest dir).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The `cofferd` binary: `$COFFER_BIN`, else `<target dir>/debug/cofferd` next to the running test binary.
pub fn cofferd_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("COFFER_BIN") {
        return PathBuf::from(p);
    }
    // Test binaries live in <target>/debug/deps/; the server binary in <target>/debug/.
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let candidate = dir.join("cofferd");
    if candidate.exists() {
        return candidate;
    }
    workspace_root().join("target/debug/cofferd")
}

/// The `coffer` CLI binary, built next to `cofferd` (`$COFFER_BIN`'s directory when that is set).
pub fn coffer_bin() -> PathBuf {
    cofferd_bin().with_file_name("coffer")
}

/// The Python venv holding boto3, pytest and awscli v1: `$COFFER_VENV` or `<workspace>/.venv`.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("COFFER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"))
}

/// aws cli v2, the Debian package (never the `aws` on PATH, which may be anything).
pub fn aws_v2() -> PathBuf {
    PathBuf::from("/usr/bin/aws")
}

/// aws cli v1, pip-installed in the venv.
pub fn aws_v1() -> PathBuf {
    venv_dir().join("bin/aws")
}

/// A fixed, minimal PATH for client programs so that shims on the host do not leak in.
pub const CLIENT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
