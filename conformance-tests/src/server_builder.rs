//! How a test server is started: [`ServerBuilder`] collects what a test wants
//! beyond the defaults (extra env vars and flags, a config file, TLS, no fixed
//! root key) and starts the one spawner, [`CofferServer`]. The defaults are
//! what every test needs: a free port for both listeners, the given data dir,
//! the kit's root key and region, `COFFER_LOG=info`, and nothing from the
//! host's environment.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::paths;
use crate::server::{CofferServer, ServerOptions};
use crate::tls::TlsFiles;

/// A server about to be started. Every setting holds for restarts too.
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    pub(crate) opts: ServerOptions,
    pub(crate) launch: Launch,
}

/// What a start adds to the defaults, kept for every restart.
#[derive(Debug, Clone, Default)]
pub(crate) struct Launch {
    /// Set (`Some`) or removed (`None`) after the defaults, in order.
    pub env: Vec<(OsString, Option<OsString>)>,
    pub args: Vec<OsString>,
    /// Without the kit's root key, the first start generates one and prints it.
    pub generated_root_key: bool,
}

impl ServerBuilder {
    /// A server on `data_dir`, its logs in `log_dir`.
    pub fn new(data_dir: impl Into<PathBuf>, log_dir: impl Into<PathBuf>) -> ServerBuilder {
        ServerBuilder {
            opts: ServerOptions {
                data_dir: data_dir.into(),
                log_dir: log_dir.into(),
                tls: None,
            },
            launch: Launch::default(),
        }
    }

    /// Both listeners speak HTTPS with these files.
    pub fn tls(mut self, tls: TlsFiles) -> Self {
        self.opts.tls = Some(tls);
        self
    }

    /// Sets an environment variable (after the defaults, so it can override them).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.launch
            .env
            .push((key.as_ref().to_owned(), Some(value.as_ref().to_owned())));
        self
    }

    /// Removes one of the default environment variables.
    pub fn env_remove(mut self, key: impl AsRef<OsStr>) -> Self {
        self.launch.env.push((key.as_ref().to_owned(), None));
        self
    }

    /// A command-line flag (flags beat env vars and the config file).
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.launch.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.launch
            .args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// `--config FILE`.
    pub fn config_file(self, path: &Path) -> Self {
        self.arg("--config").arg(path)
    }

    /// `COFFER_LOG` (default `info`).
    pub fn log(self, filter: &str) -> Self {
        self.env("COFFER_LOG", filter)
    }

    /// The admin token the server takes instead of generating one (`COFFER_ADMIN_TOKEN`).
    pub fn admin_token(self, token: &str) -> Self {
        self.env("COFFER_ADMIN_TOKEN", token)
    }

    /// Starts without the kit's root key, so the first start generates one
    /// (read it from [`CofferServer::startup`]).
    pub fn generated_root_key(mut self) -> Self {
        self.launch.generated_root_key = true;
        self
    }

    /// Starts the server and waits for its last start-up line; panics (with the
    /// server's log) if it does not get there.
    pub fn start(self) -> CofferServer {
        CofferServer::launch(self)
    }

    /// The command a start runs: the binary, the defaults and this builder's settings.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = bare_cofferd();
        cmd.env("HOME", &self.opts.log_dir)
            .env("COFFER_LISTEN", "127.0.0.1:0")
            .env("COFFER_DATA_DIR", &self.opts.data_dir)
            .env("COFFER_REGION", crate::REGION)
            .env("COFFER_LOG", "info");
        if !self.launch.generated_root_key {
            cmd.env("COFFER_ROOT_ACCESS_KEY", crate::ACCESS_KEY)
                .env("COFFER_ROOT_SECRET_KEY", crate::SECRET_KEY);
        }
        if let Some(tls) = &self.opts.tls {
            cmd.env("COFFER_TLS_CERT", &tls.cert)
                .env("COFFER_TLS_KEY", &tls.key);
        }
        for (key, value) in &self.launch.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd.args(&self.launch.args);
        cmd
    }
}

impl From<ServerOptions> for ServerBuilder {
    fn from(opts: ServerOptions) -> Self {
        ServerBuilder {
            opts,
            launch: Launch::default(),
        }
    }
}

/// The `cofferd` binary with an empty environment but for a fixed PATH: for runs
/// that are not meant to serve (`--print-config`, refused starts), where the
/// test sets exactly what it checks.
pub fn bare_cofferd() -> Command {
    let bin = paths::cofferd_bin();
    assert!(
        bin.exists(),
        "cofferd binary not found at {} (build it with `cargo build -p coffer-server --bins` or set COFFER_BIN)",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.env_clear().env("PATH", paths::CLIENT_PATH);
    cmd
}
