//! Why a configuration could not be loaded.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}", path = .path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}", path = .path.display())]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is not valid: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(
        "TLS key file {path} is readable by everyone (mode {mode:o}); restrict it, e.g. `chmod 600 {path}`",
        path = .path.display()
    )]
    KeyReadableByEveryone { path: PathBuf, mode: u32 },
    #[error(
        "[[storage.stores]] {name:?}: kind \"{kind}\" is not built yet (issue #13, storage topology); only \"local\" stores exist today"
    )]
    StoreKindNotBuilt { name: String, kind: &'static str },
    #[error("cannot show the configuration: {0}")]
    Print(String),
}
