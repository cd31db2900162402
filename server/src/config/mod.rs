//! `cofferd`'s configuration. The file is in sections (`[server]`, `[s3]`,
//! `[admin]`, `[storage]`, `[engine]`, `[workers]`); every setting has a
//! default, which the TOML file overrides, which `COFFER_*` environment
//! variables override, which command-line flags override. The environment
//! and flags are one mechanism: each is a list of (setting, value) pairs,
//! read through the table in [`settings`], written into the file's TOML tree
//! before that tree is deserialised once. `docs/configuration.md` lists every
//! setting.

mod cli;
mod error;
mod legacy;
mod secret;
mod sections;
pub mod settings;
mod storage;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

use crate::engine::EngineOptions;
use crate::s3::S3Options;

pub use cli::{Cli, command};
pub use error::ConfigError;
pub use secret::{REDACTED, Secret};
pub use sections::{
    AdminSection, ChunkerConfig, EngineSection, S3Section, ServerSection, WorkersSection,
};
pub use storage::{DEFAULT_STORE_NAME, StorageSection, Store, StoreConfig, StoreKind};

use settings::{SETTINGS, Setting};

/// The name of the config file looked for in the data directory when no
/// `--config` / `COFFER_CONFIG` is given.
pub const DEFAULT_CONFIG_FILE: &str = "cofferd.toml";

/// Everything `cofferd` can be told.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// What the whole process uses: data directory, log.
    #[serde(default)]
    pub server: ServerSection,
    /// The S3 listener.
    #[serde(default)]
    pub s3: S3Section,
    /// The admin API listener.
    #[serde(default)]
    pub admin: AdminSection,
    /// Where the repository's objects are stored.
    #[serde(default)]
    pub storage: StorageSection,
    /// Chunking, sealing, the clock, the first start.
    #[serde(default)]
    pub engine: EngineSection,
    /// Background workers.
    #[serde(default)]
    pub workers: WorkersSection,
    /// The file this was read from, if any.
    #[serde(skip)]
    file: Option<PathBuf>,
    /// Warnings for the log once it is set up (a deprecated file layout).
    #[serde(skip)]
    warnings: Vec<String>,
}

/// A certificate chain and its private key, both PEM files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

impl Config {
    /// Builds the configuration from flags, an environment lookup and the
    /// config file, then checks it.
    pub fn load(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        // Empty variables count as unset, so a container can blank one out.
        let env = |name: &str| env(name).filter(|v| !v.is_empty());
        let env_values = env_layer(&env)?;

        let explicit = cli
            .config
            .clone()
            .or_else(|| env("COFFER_CONFIG").map(PathBuf::from));
        let path = match explicit {
            Some(p) => Some(p),
            None => {
                let data_dir = cli
                    .values
                    .iter()
                    .chain(&env_values)
                    .find(|(s, _)| s.path == ["server", "data_dir"])
                    .and_then(|(_, v)| v.as_str().map(PathBuf::from))
                    .unwrap_or_else(sections::default_data_dir);
                let candidate = data_dir.join(DEFAULT_CONFIG_FILE);
                candidate.is_file().then_some(candidate)
            }
        };
        let (mut tree, warning) = match &path {
            Some(p) => read_file(p)?,
            None => (Table::new(), None),
        };
        for (s, v) in env_values.iter().chain(&cli.values) {
            settings::set(&mut tree, s.path, v.clone());
        }
        let mut config = Config::deserialize(Value::Table(tree))
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        config.file = path;
        config.warnings.extend(warning);
        validate::validate(&config)?;
        Ok(config)
    }

    /// The configuration a file gives on its own (no environment, no flags,
    /// not validated).
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let (tree, warning) = read_file(path)?;
        let mut config = parse_tree(path, tree)?;
        config.file = Some(path.to_owned());
        config.warnings.extend(warning);
        Ok(config)
    }

    /// Checks what can be checked before start-up touches anything.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self)
    }

    /// The config file that was read, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Warnings found while loading, for the log once it is set up.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn data_dir(&self) -> &Path {
        &self.server.data_dir
    }

    /// The token to store when `<data-dir>/admin.token` does not exist yet.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin.token.as_ref().map(Secret::expose)
    }

    pub fn region(&self) -> &str {
        &self.s3.region
    }

    /// The log filter, with two sources of noise silenced unless the filter
    /// names them: s3s's own per-error lines (the access log already has one
    /// line per request, and s3s's debug output would include request
    /// signatures), and rustls's warning for every TLS handshake whose client
    /// sends an IP address as server name (pgBackRest does, given an IP
    /// endpoint; the handshake goes on, so there is nothing to act on).
    pub fn log_filter(&self) -> String {
        let mut filter = self.server.log.clone();
        if !filter.contains("s3s") {
            filter.push_str(",s3s=off");
        }
        if !filter.contains("rustls") {
            filter.push_str(",rustls::msgs::handshake=error");
        }
        filter
    }

    /// The S3 listener's address.
    pub fn s3_listen(&self) -> &str {
        &self.s3.listen
    }

    /// The S3 listener's certificate and key, when it serves HTTPS.
    pub fn s3_tls(&self) -> Option<TlsFiles<'_>> {
        tls_files(&self.s3.tls_cert, &self.s3.tls_key)
    }

    /// How long the S3 listener waits for a request's headers.
    pub fn s3_header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.s3.header_read_timeout_secs)
    }

    /// What a request body to the S3 listener must sustain.
    pub fn s3_body_rate(&self) -> crate::http::BodyRate {
        crate::http::BodyRate {
            min_bytes_per_sec: self.s3.body_min_rate,
            window: Duration::from_secs(self.s3.body_rate_window_secs),
        }
    }

    /// How long the S3 listener waits on a client that reads nothing.
    pub fn s3_send_timeout(&self) -> Duration {
        Duration::from_secs(self.s3.send_timeout_secs)
    }

    /// Bytes of GET data the engine holds in memory at once.
    pub fn engine_read_buffer_bytes(&self) -> u64 {
        self.engine.read_buffer_bytes
    }

    /// Open connections the S3 listener accepts at once.
    pub fn s3_max_connections(&self) -> usize {
        self.s3.max_connections
    }

    /// The admin listener's address. Left at its default while the S3
    /// listener picks a free port (tests, harnesses), the admin API picks one
    /// too, so that servers started side by side do not collide on 9001.
    pub fn admin_listen_addr(&self) -> String {
        let s3_port_zero = self
            .s3
            .listen
            .rsplit_once(':')
            .is_some_and(|(_, p)| p == "0");
        if s3_port_zero && self.admin.listen == sections::default_admin_listen() {
            "127.0.0.1:0".to_owned()
        } else {
            self.admin.listen.clone()
        }
    }

    /// The admin listener's certificate and key, when it serves HTTPS.
    pub fn admin_tls(&self) -> Option<TlsFiles<'_>> {
        tls_files(&self.admin.tls_cert, &self.admin.tls_key)
    }

    /// How long the admin listener waits for a request's headers.
    pub fn admin_header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.admin.header_read_timeout_secs)
    }

    /// The stores, defaults filled in (a local store's path is the data
    /// directory unless given). Checked by [`Config::load`]; a config built
    /// by hand that fails the checks gives an error here.
    pub fn stores(&self) -> Result<Vec<Store>, ConfigError> {
        self.storage.resolve(&self.server.data_dir)
    }

    pub fn engine_options(&self) -> EngineOptions {
        let e = &self.engine;
        EngineOptions {
            data_dir: self.server.data_dir.clone(),
            root_access_key: e.root_access_key.clone(),
            root_secret_key: e.root_secret_key.as_ref().map(|s| s.expose().to_owned()),
            zstd_level: e.zstd_level,
            chunker: coffer_repo::ChunkerParams {
                min_size: e.chunker.min_size,
                avg_size: e.chunker.avg_size,
                max_size: e.chunker.max_size,
            },
            seal_threads: e.seal_threads,
            clock_speedup: e.clock_speedup,
            clock_start: e.clock_start.as_deref().and_then(clock_start),
        }
    }

    pub fn s3_options(&self) -> S3Options {
        S3Options {
            region: self.s3.region.clone(),
            domain: self.s3.domain.clone(),
            limits: crate::s3::request_limits::RequestLimitSettings {
                max_requests: self.s3.max_requests,
                max_requests_per_key: self.s3.max_requests_per_key,
            },
        }
    }

    /// The configuration as a TOML tree, secrets redacted.
    pub fn to_tree(&self) -> Result<Table, ConfigError> {
        Table::try_from(self).map_err(|e| ConfigError::Print(e.to_string()))
    }

    /// The effective configuration as a sectioned `cofferd.toml`, secrets
    /// redacted and each store's defaults filled in: what `--print-config`
    /// shows.
    pub fn to_toml_redacted(&self) -> Result<String, ConfigError> {
        let mut shown = self.clone();
        for store in &mut shown.storage.stores {
            if store.kind == StoreKind::Local && store.path.is_none() {
                store.path = Some(self.server.data_dir.clone());
            }
        }
        let body = toml::to_string_pretty(&shown).map_err(|e| ConfigError::Print(e.to_string()))?;
        let source = match &self.file {
            Some(p) => format!("the file {}", p.display()),
            None => "no config file".to_owned(),
        };
        Ok(format!(
            "# cofferd's effective configuration: the defaults, {source}, the COFFER_*\n\
             # variables and the flags; secrets are shown as \"{REDACTED}\"\n\n{body}"
        ))
    }
}

fn tls_files<'a>(cert: &'a Option<PathBuf>, key: &'a Option<PathBuf>) -> Option<TlsFiles<'a>> {
    match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    }
}

/// The settings the environment gives, each parsed to its type.
fn env_layer(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(&'static Setting, Value)>, ConfigError> {
    let mut values = Vec::new();
    for s in SETTINGS {
        let Some((name, text)) = s.env.iter().find_map(|n| env(n).map(|v| (*n, v))) else {
            continue;
        };
        let value = s.kind.parse(&text).map_err(|message| ConfigError::Env {
            name,
            value: text.clone(),
            message,
        })?;
        values.push((s, value));
    }
    Ok(values)
}

/// Reads a file into a sectioned tree (a flat file's keys moved to their
/// sections) that is known to deserialise, so that its errors are reported
/// as the file's.
fn read_file(path: &Path) -> Result<(Table, Option<String>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_owned(),
        message,
    };
    let mut tree: Table = text
        .parse()
        .map_err(|e: toml::de::Error| parse_error(e.to_string()))?;
    let warning = legacy::migrate(&mut tree)
        .map_err(parse_error)?
        .map(|w| format!("config file {}: {w}", path.display()));
    parse_tree(path, tree.clone())?;
    Ok((tree, warning))
}

fn parse_tree(path: &Path, tree: Table) -> Result<Config, ConfigError> {
    Config::deserialize(Value::Table(tree)).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        // toml puts the key path on a line of its own ("…\nin `s3`").
        message: e.to_string().trim_end().replace("\nin `", " in `"),
    })
}

#[cfg(test)]
mod tests;

/// `[engine] clock_start` as an instant; `None` when it is not RFC 3339.
fn clock_start(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}
