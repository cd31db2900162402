//! One test's world: a temp dir, a running `cofferd` (its own, or the test
//! binary's shared one), and the base environment for clients.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use crate::paths;
use crate::server::CofferServer;
use crate::server_builder::ServerBuilder;
use crate::shared;
use crate::tls::{self, TlsFiles};

/// A temp dir with `home/` (HOME and aws config of every client), `data/` (the server's data dir),
/// `logs/` (server output), `work/` (test files) and a running server: its own, or
/// for [`TestEnv::shared`] a view of the test binary's shared one.
#[derive(Debug)]
pub struct TestEnv {
    pub name: String,
    pub server: CofferServer,
    tls: Option<TlsFiles>,
    // Dropped last: the server must be gone before its data dir is removed.
    root: TempDir,
}

impl TestEnv {
    /// A fresh env with a plain-HTTP server of its own.
    pub fn new(name: &str) -> TestEnv {
        Self::build(name, Server::Own { tls: false }, |b| b)
    }

    /// A fresh env whose own server speaks HTTPS with a self-signed certificate.
    pub fn new_tls(name: &str) -> TestEnv {
        Self::build(name, Server::Own { tls: true }, |b| b)
    }

    /// A fresh env whose own server is started with `configure` applied to the
    /// kit's defaults (extra env vars, flags, a config file…).
    pub fn with_server(
        name: &str,
        configure: impl FnOnce(ServerBuilder) -> ServerBuilder,
    ) -> TestEnv {
        Self::build(name, Server::Own { tls: false }, configure)
    }

    /// A fresh temp dir whose clients talk to the test binary's shared server
    /// ([`crate::shared`]): for tests that use buckets of their own and never
    /// stop the server, read its data dir or count what it holds.
    pub fn shared(name: &str) -> TestEnv {
        Self::build(name, Server::Shared, |b| b)
    }

    fn build(
        name: &str,
        server: Server,
        configure: impl FnOnce(ServerBuilder) -> ServerBuilder,
    ) -> TestEnv {
        let root = tempfile::Builder::new()
            .prefix(&format!("coffer-{name}-"))
            .tempdir()
            .expect("create temp dir");
        if std::env::var_os("COFFER_KEEP_TMP").is_some() {
            eprintln!("{name}: temp dir {}", root.path().display());
        }
        let r = root.path();
        for d in ["home/.aws", "work", "logs", "tmp"] {
            std::fs::create_dir_all(r.join(d)).expect("create test dirs");
        }
        // Path-style addressing for every botocore-based client (aws cli, duplicity's boto3).
        std::fs::write(
            r.join("home/.aws/config"),
            format!(
                "[default]\nregion = {}\ns3 =\n    addressing_style = path\n",
                crate::REGION
            ),
        )
        .expect("write aws config");
        std::fs::write(r.join("home/.aws/credentials"), "").expect("write aws credentials");
        let (server, tls) = match server {
            Server::Shared => (shared::shared_server().view(), None),
            Server::Own { tls } => {
                let tls = tls.then(|| tls::self_signed(&r.join("tls")));
                let mut builder = CofferServer::builder(r.join("data"), r.join("logs"));
                if let Some(files) = &tls {
                    builder = builder.tls(files.clone());
                }
                (configure(builder).start(), tls)
            }
        };
        TestEnv {
            name: name.to_string(),
            server,
            tls,
            root,
        }
    }

    /// The temp dir of this test.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// A path under the test's `work/` dir.
    pub fn work(&self, rel: &str) -> PathBuf {
        self.root.path().join("work").join(rel)
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// The real `coffer` CLI, pointed at this test's server with its token file.
    pub fn coffer_cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = crate::coffer_cmd(&self.home());
        c.arg("--url")
            .arg(self.server.admin_url())
            .arg("--token-file")
            .arg(self.server.admin_token_file())
            .args(args);
        c
    }

    pub fn data_dir(&self) -> PathBuf {
        self.server.data_dir().to_path_buf()
    }

    /// The admin API of this env's server, through the CLI's own client.
    pub fn admin(&self) -> crate::admin::Admin {
        self.server.admin()
    }

    pub fn endpoint(&self) -> String {
        self.server.endpoint().to_string()
    }

    /// The CA certificate clients must trust (HTTPS envs only).
    pub fn ca_cert(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.cert.as_path())
    }

    /// A command for `program` with a scrubbed environment: fixed PATH, HOME in the temp dir,
    /// the root credentials and region, and no proxy or AWS settings from the host.
    pub fn client_cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let home = self.home();
        let mut c = Command::new(program);
        c.env_clear()
            .current_dir(self.work(""))
            .env("PATH", paths::CLIENT_PATH)
            .env("HOME", &home)
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .env("TMPDIR", self.root().join("tmp"))
            .env("AWS_ACCESS_KEY_ID", crate::ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", crate::SECRET_KEY)
            .env("AWS_DEFAULT_REGION", crate::REGION)
            .env("AWS_REGION", crate::REGION)
            .env("AWS_CONFIG_FILE", home.join(".aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_PAGER", "");
        if let Some(ca) = self.ca_cert() {
            c.env("AWS_CA_BUNDLE", ca);
        }
        c
    }
}

/// Which server an env gets.
#[derive(Debug, Clone, Copy)]
enum Server {
    Own { tls: bool },
    Shared,
}
