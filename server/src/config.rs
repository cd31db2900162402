//! `cofferd`'s configuration: every setting has a default, which a TOML file
//! overrides, which `COFFER_*` environment variables override, which
//! command-line flags override. `docs/configuration.md` lists them all.

use std::fmt;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde::{Deserialize, Serialize};

use crate::engine::EngineOptions;
use crate::s3::S3Options;

/// The name of the config file looked for in the data directory when no
/// `--config` / `COFFER_CONFIG` is given.
pub const DEFAULT_CONFIG_FILE: &str = "cofferd.toml";

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Everything `cofferd` can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory holding the repository, the master key file and the metadata store.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Address of the S3 listener, `host:port`; port 0 picks a free port.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// PEM certificate chain; with `tls_key`, the listener speaks HTTPS only.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`; refused if readable by everyone.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Region reported to clients and expected in LocationConstraint.
    #[serde(default = "default_region")]
    pub region: String,
    /// Base domain enabling virtual-host addressing (`bucket.<domain>`); path style always works.
    #[serde(default)]
    pub domain: Option<String>,
    /// Root access key id to create on first start instead of a generated one.
    #[serde(default)]
    pub root_access_key: Option<String>,
    /// Root secret key to create on first start instead of a generated one.
    #[serde(default)]
    pub root_secret_key: Option<Secret>,
    /// Address of the admin API listener, `host:port`; port 0 picks a free port.
    #[serde(default = "default_admin_listen")]
    pub admin_listen: String,
    /// Admin token to store when `<data-dir>/admin.token` does not exist yet
    /// (instead of a generated one).
    #[serde(default)]
    pub admin_token: Option<Secret>,
    /// Content-defined chunking of a new repository (an existing one keeps its own).
    #[serde(default)]
    pub chunker: ChunkerConfig,
    /// zstd level for new chunks (1–19; chunks that do not shrink are kept raw).
    #[serde(default = "default_zstd_level")]
    pub zstd_level: i32,
    /// Threads that seal (compress + encrypt) chunks; 0 = one per core.
    #[serde(default)]
    pub seal_threads: usize,
    /// Speed-up of the engine's clock, for tests (1.0 = real time; 86400 = a day per second).
    #[serde(default = "default_clock_speedup")]
    pub clock_speedup: f64,
    /// `tracing` filter for the log on stderr (e.g. `info`, `debug,hyper=info`).
    #[serde(default = "default_log")]
    pub log: String,
}

/// FastCDC parameters, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkerConfig {
    /// Smallest chunk (except an object's last).
    #[serde(default = "default_chunk_min")]
    pub min_size: u32,
    /// Average chunk size the cut-point condition aims at.
    #[serde(default = "default_chunk_avg")]
    pub avg_size: u32,
    /// Largest chunk; a cut is forced here.
    #[serde(default = "default_chunk_max")]
    pub max_size: u32,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./coffer-data")
}
fn default_listen() -> String {
    "127.0.0.1:9000".to_owned()
}
fn default_admin_listen() -> String {
    "127.0.0.1:9001".to_owned()
}
fn default_region() -> String {
    "us-east-1".to_owned()
}
fn default_zstd_level() -> i32 {
    3
}
fn default_clock_speedup() -> f64 {
    1.0
}
fn default_log() -> String {
    "info".to_owned()
}
fn default_chunk_min() -> u32 {
    256 * 1024
}
fn default_chunk_avg() -> u32 {
    1024 * 1024
}
fn default_chunk_max() -> u32 {
    4 * 1024 * 1024
}

impl Default for ChunkerConfig {
    fn default() -> Self {
        ChunkerConfig {
            min_size: default_chunk_min(),
            avg_size: default_chunk_avg(),
            max_size: default_chunk_max(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: default_data_dir(),
            listen: default_listen(),
            tls_cert: None,
            tls_key: None,
            region: default_region(),
            domain: None,
            root_access_key: None,
            root_secret_key: None,
            admin_listen: default_admin_listen(),
            admin_token: None,
            chunker: ChunkerConfig::default(),
            zstd_level: default_zstd_level(),
            seal_threads: 0,
            clock_speedup: default_clock_speedup(),
            log: default_log(),
        }
    }
}

/// Command-line flags (each overrides the environment and the file).
#[derive(Debug, Default, Clone, Parser)]
#[command(
    name = "cofferd",
    version,
    about = "Coffer: S3-compatible backup storage server"
)]
pub struct Cli {
    /// TOML config file [default: <data-dir>/cofferd.toml if it exists]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Repository and metadata directory [default: ./coffer-data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// S3 listener address; port 0 picks a free port [default: 127.0.0.1:9000]
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// PEM certificate chain (serve HTTPS)
    #[arg(long, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (serve HTTPS)
    #[arg(long, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Region reported to clients [default: us-east-1]
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Base domain for virtual-host addressing (bucket.DOMAIN)
    #[arg(long, value_name = "D")]
    pub domain: Option<String>,
    /// Admin API listener address; port 0 picks a free port [default: 127.0.0.1:9001]
    #[arg(long, value_name = "HOST:PORT")]
    pub admin_listen: Option<String>,
    /// Log filter [default: info]
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,
    /// zstd level for new chunks [default: 3]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub zstd_level: Option<i32>,
    /// Chunk-sealing threads, 0 = one per core [default: 0]
    #[arg(long, value_name = "N")]
    pub seal_threads: Option<usize>,
    /// Clock speed-up for tests [default: 1.0]
    #[arg(long, value_name = "X")]
    pub clock_speedup: Option<f64>,
    /// Minimum chunk size in bytes, for a new repository [default: 262144]
    #[arg(long, value_name = "BYTES")]
    pub chunk_min_size: Option<u32>,
    /// Average chunk size in bytes, for a new repository [default: 1048576]
    #[arg(long, value_name = "BYTES")]
    pub chunk_avg_size: Option<u32>,
    /// Maximum chunk size in bytes, for a new repository [default: 4194304]
    #[arg(long, value_name = "BYTES")]
    pub chunk_max_size: Option<u32>,
}

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
}

/// One layer of settings above the file: the environment or the flags.
#[derive(Debug, Default, Clone)]
struct Layer {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    region: Option<String>,
    domain: Option<String>,
    root_access_key: Option<String>,
    root_secret_key: Option<String>,
    admin_listen: Option<String>,
    admin_token: Option<String>,
    log: Option<String>,
    zstd_level: Option<i32>,
    seal_threads: Option<usize>,
    clock_speedup: Option<f64>,
    chunk_min_size: Option<u32>,
    chunk_avg_size: Option<u32>,
    chunk_max_size: Option<u32>,
}

impl Layer {
    fn from_cli(cli: &Cli) -> Self {
        Layer {
            data_dir: cli.data_dir.clone(),
            listen: cli.listen.clone(),
            tls_cert: cli.tls_cert.clone(),
            tls_key: cli.tls_key.clone(),
            region: cli.region.clone(),
            domain: cli.domain.clone(),
            root_access_key: None,
            root_secret_key: None,
            admin_listen: cli.admin_listen.clone(),
            admin_token: None,
            log: cli.log.clone(),
            zstd_level: cli.zstd_level,
            seal_threads: cli.seal_threads,
            clock_speedup: cli.clock_speedup,
            chunk_min_size: cli.chunk_min_size,
            chunk_avg_size: cli.chunk_avg_size,
            chunk_max_size: cli.chunk_max_size,
        }
    }

    /// Empty variables count as unset, so a container can blank one out.
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| env(name).filter(|v| !v.is_empty());
        fn parse<T: std::str::FromStr>(
            name: &'static str,
            v: Option<String>,
        ) -> Result<Option<T>, ConfigError>
        where
            T::Err: fmt::Display,
        {
            v.map(|v| {
                v.trim().parse::<T>().map_err(|e| ConfigError::Env {
                    name,
                    value: v.clone(),
                    message: e.to_string(),
                })
            })
            .transpose()
        }
        Ok(Layer {
            data_dir: get("COFFER_DATA_DIR").map(PathBuf::from),
            listen: get("COFFER_LISTEN"),
            tls_cert: get("COFFER_TLS_CERT").map(PathBuf::from),
            tls_key: get("COFFER_TLS_KEY").map(PathBuf::from),
            region: get("COFFER_REGION"),
            domain: get("COFFER_DOMAIN"),
            root_access_key: get("COFFER_ROOT_ACCESS_KEY"),
            root_secret_key: get("COFFER_ROOT_SECRET_KEY"),
            admin_listen: get("COFFER_ADMIN_LISTEN"),
            admin_token: get("COFFER_ADMIN_TOKEN"),
            log: get("COFFER_LOG").or_else(|| get("RUST_LOG")),
            zstd_level: parse("COFFER_ZSTD_LEVEL", get("COFFER_ZSTD_LEVEL"))?,
            seal_threads: parse("COFFER_SEAL_THREADS", get("COFFER_SEAL_THREADS"))?,
            clock_speedup: parse("COFFER_CLOCK_SPEEDUP", get("COFFER_CLOCK_SPEEDUP"))?,
            chunk_min_size: parse("COFFER_CHUNK_MIN_SIZE", get("COFFER_CHUNK_MIN_SIZE"))?,
            chunk_avg_size: parse("COFFER_CHUNK_AVG_SIZE", get("COFFER_CHUNK_AVG_SIZE"))?,
            chunk_max_size: parse("COFFER_CHUNK_MAX_SIZE", get("COFFER_CHUNK_MAX_SIZE"))?,
        })
    }

    fn apply(self, c: &mut Config) {
        fn set<T>(slot: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *slot = v;
            }
        }
        set(&mut c.data_dir, self.data_dir);
        set(&mut c.listen, self.listen);
        set(&mut c.admin_listen, self.admin_listen);
        if let Some(t) = self.admin_token {
            c.admin_token = Some(Secret(t));
        }
        set(&mut c.region, self.region);
        set(&mut c.log, self.log);
        set(&mut c.zstd_level, self.zstd_level);
        set(&mut c.seal_threads, self.seal_threads);
        set(&mut c.clock_speedup, self.clock_speedup);
        set(&mut c.chunker.min_size, self.chunk_min_size);
        set(&mut c.chunker.avg_size, self.chunk_avg_size);
        set(&mut c.chunker.max_size, self.chunk_max_size);
        if self.tls_cert.is_some() {
            c.tls_cert = self.tls_cert;
        }
        if self.tls_key.is_some() {
            c.tls_key = self.tls_key;
        }
        if self.domain.is_some() {
            c.domain = self.domain;
        }
        if self.root_access_key.is_some() {
            c.root_access_key = self.root_access_key;
        }
        if let Some(s) = self.root_secret_key {
            c.root_secret_key = Some(Secret(s));
        }
    }
}

impl Config {
    /// Builds the configuration from flags, an environment lookup and the
    /// config file, then checks it.
    pub fn load(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let env_layer = Layer::from_env(env)?;
        let cli_layer = Layer::from_cli(cli);

        let explicit = cli.config.clone().or_else(|| {
            env("COFFER_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let path = match explicit {
            Some(p) => Some(p),
            None => {
                let data_dir = cli_layer
                    .data_dir
                    .clone()
                    .or_else(|| env_layer.data_dir.clone())
                    .unwrap_or_else(default_data_dir);
                let candidate = data_dir.join(DEFAULT_CONFIG_FILE);
                candidate.is_file().then_some(candidate)
            }
        };
        let mut config = match path {
            Some(path) => Config::from_file(&path)?,
            None => Config::default(),
        };
        env_layer.apply(&mut config);
        cli_layer.apply(&mut config);
        config.validate()?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Checks what can be checked before start-up touches anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        if self
            .listen
            .rsplit_once(':')
            .is_none_or(|(_, port)| port.parse::<u16>().is_err())
        {
            return invalid(format!("listen address {:?} is not host:port", self.listen));
        }
        if self
            .admin_listen
            .rsplit_once(':')
            .is_none_or(|(_, port)| port.parse::<u16>().is_err())
        {
            return invalid(format!(
                "admin_listen address {:?} is not host:port",
                self.admin_listen
            ));
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) | (None, Some(_)) => {
                return invalid("tls_cert and tls_key must be given together".to_owned());
            }
            (Some(_), Some(key)) => check_key_permissions(key)?,
            (None, None) => {}
        }
        let c = &self.chunker;
        if !(c.min_size >= 64 && c.min_size <= c.avg_size && c.avg_size <= c.max_size) {
            return invalid(format!(
                "chunker sizes must satisfy 64 <= min_size <= avg_size <= max_size (got {}/{}/{})",
                c.min_size, c.avg_size, c.max_size
            ));
        }
        if !(1..=22).contains(&self.zstd_level) {
            return invalid(format!(
                "zstd_level must be between 1 and 22 (got {})",
                self.zstd_level
            ));
        }
        if !(self.clock_speedup.is_finite() && self.clock_speedup > 0.0) {
            return invalid(format!(
                "clock_speedup must be a positive number (got {})",
                self.clock_speedup
            ));
        }
        if self.root_access_key.is_some() != self.root_secret_key.is_some() {
            return invalid(
                "COFFER_ROOT_ACCESS_KEY and COFFER_ROOT_SECRET_KEY must be given together"
                    .to_owned(),
            );
        }
        if self.region.is_empty() {
            return invalid("region must not be empty".to_owned());
        }
        Ok(())
    }

    /// The log filter, with s3s's own per-error lines silenced unless the
    /// filter names s3s: the access log already has one line per request, and
    /// s3s's debug output would include request signatures.
    pub fn log_filter(&self) -> String {
        if self.log.contains("s3s") {
            self.log.clone()
        } else {
            format!("{},s3s=off", self.log)
        }
    }

    /// The admin listener's address. Left at its default while the S3
    /// listener picks a free port (tests, harnesses), the admin API picks one
    /// too, so that servers started side by side do not collide on 9001.
    pub fn admin_listen_addr(&self) -> String {
        let s3_port_zero = self.listen.rsplit_once(':').is_some_and(|(_, p)| p == "0");
        if s3_port_zero && self.admin_listen == default_admin_listen() {
            "127.0.0.1:0".to_owned()
        } else {
            self.admin_listen.clone()
        }
    }

    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            data_dir: self.data_dir.clone(),
            root_access_key: self.root_access_key.clone(),
            root_secret_key: self.root_secret_key.as_ref().map(|s| s.0.clone()),
            zstd_level: self.zstd_level,
            chunker: coffer_repo::ChunkerParams {
                min_size: self.chunker.min_size,
                avg_size: self.chunker.avg_size,
                max_size: self.chunker.max_size,
            },
            seal_threads: self.seal_threads,
            clock_speedup: self.clock_speedup,
        }
    }

    pub fn s3_options(&self) -> S3Options {
        S3Options {
            region: self.region.clone(),
            domain: self.domain.clone(),
        }
    }
}

/// A private key others can read is a key others may already have.
#[cfg(unix)]
fn check_key_permissions(path: &Path) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o004 != 0 {
        return Err(ConfigError::KeyReadableByEveryone {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_permissions(_path: &Path) -> Result<(), ConfigError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k: &str| map.get(k).cloned()
    }

    fn cli(args: &[&str]) -> Cli {
        let mut argv = vec!["cofferd"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).unwrap()
    }

    #[test]
    fn defaults_match_the_interface() {
        let c = Config::load(&cli(&["--data-dir", "/nonexistent/coffer"]), &env_of(&[])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert_eq!(c.region, "us-east-1");
        assert_eq!(c.log, "info");
        assert_eq!(
            c.chunker,
            ChunkerConfig {
                min_size: 262_144,
                avg_size: 1_048_576,
                max_size: 4_194_304
            }
        );
        assert_eq!(Config::default().data_dir, PathBuf::from("./coffer-data"));
        assert!(c.tls_cert.is_none() && c.domain.is_none());
    }

    #[test]
    fn every_field_has_a_serde_default() {
        let c: Config = toml::from_str("").unwrap();
        assert_eq!(c, Config::default());
        let c: Config = toml::from_str("[chunker]\nmin_size = 1024\n").unwrap();
        assert_eq!(c.chunker.avg_size, default_chunk_avg());
    }

    #[test]
    fn precedence_default_file_env_flag() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:1111\"\nregion = \"file-region\"\nzstd_level = 5\nlog = \"warn\"\n").unwrap();
        let file_arg = file.to_str().unwrap();

        // file over default
        let c = Config::load(&cli(&["--config", file_arg]), &env_of(&[])).unwrap();
        assert_eq!(
            (c.listen.as_str(), c.region.as_str(), c.zstd_level),
            ("127.0.0.1:1111", "file-region", 5)
        );
        assert_eq!(c.seal_threads, 0);

        // env over file
        let env = env_of(&[
            ("COFFER_LISTEN", "127.0.0.1:2222"),
            ("COFFER_REGION", "env-region"),
            ("RUST_LOG", "debug"),
        ]);
        let c = Config::load(&cli(&["--config", file_arg]), &env).unwrap();
        assert_eq!(
            (c.listen.as_str(), c.region.as_str(), c.zstd_level),
            ("127.0.0.1:2222", "env-region", 5)
        );
        assert_eq!(c.log, "debug");

        // flag over env
        let c = Config::load(
            &cli(&["--config", file_arg, "--listen", "127.0.0.1:3333"]),
            &env,
        )
        .unwrap();
        assert_eq!(
            (c.listen.as_str(), c.region.as_str()),
            ("127.0.0.1:3333", "env-region")
        );

        // COFFER_LOG beats RUST_LOG; --log beats both
        let env = env_of(&[("COFFER_LOG", "trace"), ("RUST_LOG", "debug")]);
        assert_eq!(
            Config::load(&cli(&["--config", file_arg]), &env)
                .unwrap()
                .log,
            "trace"
        );
        assert_eq!(
            Config::load(&cli(&["--config", file_arg, "--log", "error"]), &env)
                .unwrap()
                .log,
            "error"
        );
    }

    #[test]
    fn config_file_is_found_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(DEFAULT_CONFIG_FILE),
            "region = \"from-data-dir\"\n",
        )
        .unwrap();
        let env = env_of(&[("COFFER_DATA_DIR", dir.path().to_str().unwrap())]);
        assert_eq!(
            Config::load(&Cli::default(), &env).unwrap().region,
            "from-data-dir"
        );
    }

    #[test]
    fn explicit_missing_file_and_unknown_keys_are_errors() {
        assert!(matches!(
            Config::load(&cli(&["--config", "/nonexistent/c.toml"]), &env_of(&[])),
            Err(ConfigError::Read { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "lsten = \"x\"\n").unwrap();
        assert!(matches!(
            Config::load(&cli(&["--config", file.to_str().unwrap()]), &env_of(&[])),
            Err(ConfigError::Parse { .. })
        ));
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        let err =
            Config::load(&Cli::default(), &env_of(&[("COFFER_ZSTD_LEVEL", "high")])).unwrap_err();
        assert!(err.to_string().contains("COFFER_ZSTD_LEVEL"), "{err}");
    }

    #[test]
    fn empty_env_values_count_as_unset() {
        let c = Config::load(
            &cli(&["--data-dir", "/nonexistent"]),
            &env_of(&[("COFFER_LISTEN", "")]),
        )
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
    }

    #[test]
    fn root_key_from_env_is_redacted_in_debug() {
        let env = env_of(&[
            ("COFFER_ROOT_ACCESS_KEY", "AKIDTEST"),
            ("COFFER_ROOT_SECRET_KEY", "supersecretvalue"),
        ]);
        let c = Config::load(&cli(&["--data-dir", "/nonexistent"]), &env).unwrap();
        assert_eq!(c.root_access_key.as_deref(), Some("AKIDTEST"));
        assert!(!format!("{c:?}").contains("supersecretvalue"));
        assert_eq!(
            c.engine_options().root_secret_key.as_deref(),
            Some("supersecretvalue")
        );
        // One without the other is refused.
        let env = env_of(&[("COFFER_ROOT_ACCESS_KEY", "AKIDTEST")]);
        assert!(Config::load(&cli(&["--data-dir", "/nonexistent"]), &env).is_err());
    }

    #[test]
    fn invalid_values_are_refused() {
        let none = env_of(&[]);
        assert!(Config::load(&cli(&["--data-dir", "/x", "--listen", "nowhere"]), &none).is_err());
        assert!(Config::load(&cli(&["--data-dir", "/x", "--zstd-level", "0"]), &none).is_err());
        assert!(Config::load(&cli(&["--data-dir", "/x", "--clock-speedup", "0"]), &none).is_err());
        assert!(
            Config::load(
                &cli(&["--data-dir", "/x", "--chunk-min-size", "9000000"]),
                &none
            )
            .is_err()
        );
        assert!(Config::load(&cli(&["--data-dir", "/x", "--tls-cert", "/c.pem"]), &none).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_tls_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        std::fs::write(&key, "k").unwrap();
        std::fs::write(&cert, "c").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let args = [
            "--data-dir",
            "/x",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ];
        let err = Config::load(&cli(&args), &env_of(&[])).unwrap_err();
        assert!(
            matches!(err, ConfigError::KeyReadableByEveryone { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"));
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(Config::load(&cli(&args), &env_of(&[])).is_ok());
    }

    #[test]
    fn log_filter_silences_s3s_unless_asked() {
        let mut c = Config::default();
        assert_eq!(c.log_filter(), "info,s3s=off");
        c.log = "info,s3s=debug".into();
        assert_eq!(c.log_filter(), "info,s3s=debug");
    }
}
