//! The one declaration of every setting that can be given outside the file:
//! its place in the TOML tree, its `COFFER_*` variables, its flag, its type
//! and its key in the flat file of before sections. The environment and
//! flag layers, the flag help and the legacy-file mapping are all read from
//! [`SETTINGS`]; adding a setting is one entry here plus its field in its
//! section.

use toml::{Table, Value};

/// How a setting's text (env value or flag argument) is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Path,
    I32,
    U32,
    U64,
    Usize,
    F64,
    /// A string never shown back (tokens, secret keys).
    Secret,
}

impl Kind {
    /// Parses `text` into the value the TOML tree holds; the message says
    /// what was expected, the caller says where the text came from.
    pub fn parse(self, text: &str) -> Result<Value, String> {
        fn num<T: std::str::FromStr>(text: &str) -> Result<T, String>
        where
            T::Err: std::fmt::Display,
        {
            text.trim().parse::<T>().map_err(|e| e.to_string())
        }
        fn int<T: TryInto<i64>>(n: T) -> Result<Value, String> {
            n.try_into()
                .map(Value::Integer)
                .map_err(|_| "number too large".to_owned())
        }
        match self {
            Kind::Str | Kind::Path | Kind::Secret => Ok(Value::String(text.to_owned())),
            Kind::I32 => int(num::<i32>(text)?),
            Kind::U32 => int(num::<u32>(text)?),
            Kind::U64 => int(num::<u64>(text)?),
            Kind::Usize => int(num::<usize>(text)?),
            Kind::F64 => num::<f64>(text).map(Value::Float),
        }
    }

    /// Whether a flag's argument may start with `-` (a negative number).
    pub fn is_signed(self) -> bool {
        matches!(self, Kind::I32 | Kind::F64)
    }
}

/// One setting.
#[derive(Debug)]
pub struct Setting {
    /// Where it sits in the sectioned file, e.g. `["s3", "listen"]`.
    pub path: &'static [&'static str],
    /// Variables that set it, the first one set wins (`COFFER_LOG` before `RUST_LOG`).
    pub env: &'static [&'static str],
    /// Its `--flag`; secrets have none (a command line is visible to every user).
    pub flag: Option<&'static str>,
    pub value_name: &'static str,
    pub kind: Kind,
    /// Its key in the flat `cofferd.toml` of before sections, if it had one.
    pub legacy: Option<&'static [&'static str]>,
    /// One line for `--help`.
    pub help: &'static str,
}

impl Setting {
    /// `s3.listen`.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// Every setting settable from the environment or a flag.
pub static SETTINGS: &[Setting] = &[
    Setting {
        path: &["server", "data_dir"],
        env: &["COFFER_DATA_DIR"],
        flag: Some("data-dir"),
        value_name: "DIR",
        kind: Kind::Path,
        legacy: Some(&["data_dir"]),
        help: "Repository and metadata directory",
    },
    Setting {
        path: &["server", "log"],
        env: &["COFFER_LOG", "RUST_LOG"],
        flag: Some("log"),
        value_name: "FILTER",
        kind: Kind::Str,
        legacy: Some(&["log"]),
        help: "Log filter",
    },
    Setting {
        path: &["s3", "listen"],
        env: &["COFFER_LISTEN"],
        flag: Some("listen"),
        value_name: "HOST:PORT",
        kind: Kind::Str,
        legacy: Some(&["listen"]),
        help: "S3 listener address; port 0 picks a free port",
    },
    Setting {
        path: &["s3", "tls_cert"],
        env: &["COFFER_TLS_CERT"],
        flag: Some("tls-cert"),
        value_name: "PEM",
        kind: Kind::Path,
        legacy: Some(&["tls_cert"]),
        help: "PEM certificate chain (serve HTTPS)",
    },
    Setting {
        path: &["s3", "tls_key"],
        env: &["COFFER_TLS_KEY"],
        flag: Some("tls-key"),
        value_name: "PEM",
        kind: Kind::Path,
        legacy: Some(&["tls_key"]),
        help: "PEM private key (serve HTTPS)",
    },
    Setting {
        path: &["s3", "region"],
        env: &["COFFER_REGION"],
        flag: Some("region"),
        value_name: "R",
        kind: Kind::Str,
        legacy: Some(&["region"]),
        help: "Region reported to clients",
    },
    Setting {
        path: &["s3", "domain"],
        env: &["COFFER_DOMAIN"],
        flag: Some("domain"),
        value_name: "D",
        kind: Kind::Str,
        legacy: Some(&["domain"]),
        help: "Base domain for virtual-host addressing (bucket.DOMAIN)",
    },
    Setting {
        path: &["s3", "header_read_timeout_secs"],
        env: &["COFFER_HEADER_READ_TIMEOUT_SECS"],
        flag: Some("header-read-timeout-secs"),
        value_name: "SECS",
        kind: Kind::U64,
        legacy: None,
        help: "Seconds the S3 listener waits for a request's headers",
    },
    Setting {
        path: &["s3", "body_min_rate"],
        env: &["COFFER_BODY_MIN_RATE"],
        flag: Some("body-min-rate"),
        value_name: "BYTES_PER_SEC",
        kind: Kind::U64,
        legacy: None,
        help: "Slowest request body accepted (0 = no minimum); slower ones get RequestTimeout",
    },
    Setting {
        path: &["s3", "body_rate_window_secs"],
        env: &["COFFER_BODY_RATE_WINDOW_SECS"],
        flag: Some("body-rate-window-secs"),
        value_name: "SECS",
        kind: Kind::U64,
        legacy: None,
        help: "Seconds of waiting over which the body rate is judged",
    },
    Setting {
        path: &["s3", "send_timeout_secs"],
        env: &["COFFER_SEND_TIMEOUT_SECS"],
        flag: Some("send-timeout-secs"),
        value_name: "SECS",
        kind: Kind::U64,
        legacy: None,
        help: "Seconds a response waits on a client that reads nothing before the connection is closed",
    },
    Setting {
        path: &["s3", "max_connections"],
        env: &["COFFER_MAX_CONNECTIONS"],
        flag: Some("max-connections"),
        value_name: "N",
        kind: Kind::Usize,
        legacy: None,
        help: "Open S3 connections at most; one more is answered 503 SlowDown",
    },
    Setting {
        path: &["s3", "max_requests"],
        env: &["COFFER_MAX_REQUESTS"],
        flag: Some("max-requests"),
        value_name: "N",
        kind: Kind::Usize,
        legacy: None,
        help: "Signed S3 requests served at once (0 = no limit); more wait, then get 503 SlowDown",
    },
    Setting {
        path: &["s3", "max_requests_per_key"],
        env: &["COFFER_MAX_REQUESTS_PER_KEY"],
        flag: Some("max-requests-per-key"),
        value_name: "N",
        kind: Kind::Usize,
        legacy: None,
        help: "Signed S3 requests of one access key served at once (0 = no limit)",
    },
    Setting {
        path: &["admin", "listen"],
        env: &["COFFER_ADMIN_LISTEN"],
        flag: Some("admin-listen"),
        value_name: "HOST:PORT",
        kind: Kind::Str,
        legacy: Some(&["admin_listen"]),
        help: "Admin API listener address; port 0 picks a free port",
    },
    Setting {
        path: &["admin", "token"],
        env: &["COFFER_ADMIN_TOKEN"],
        flag: None,
        value_name: "TOKEN",
        kind: Kind::Secret,
        legacy: Some(&["admin_token"]),
        help: "Admin token to store on first start",
    },
    Setting {
        path: &["admin", "tls_cert"],
        env: &["COFFER_ADMIN_TLS_CERT"],
        flag: Some("admin-tls-cert"),
        value_name: "PEM",
        kind: Kind::Path,
        legacy: None,
        help: "PEM certificate chain for the admin API (serve HTTPS)",
    },
    Setting {
        path: &["admin", "tls_key"],
        env: &["COFFER_ADMIN_TLS_KEY"],
        flag: Some("admin-tls-key"),
        value_name: "PEM",
        kind: Kind::Path,
        legacy: None,
        help: "PEM private key for the admin API (serve HTTPS)",
    },
    Setting {
        path: &["admin", "header_read_timeout_secs"],
        env: &["COFFER_ADMIN_HEADER_READ_TIMEOUT_SECS"],
        flag: Some("admin-header-read-timeout-secs"),
        value_name: "SECS",
        kind: Kind::U64,
        legacy: None,
        help: "Seconds the admin listener waits for a request's headers",
    },
    Setting {
        path: &["engine", "zstd_level"],
        env: &["COFFER_ZSTD_LEVEL"],
        flag: Some("zstd-level"),
        value_name: "N",
        kind: Kind::I32,
        legacy: Some(&["zstd_level"]),
        help: "zstd level for new chunks",
    },
    Setting {
        path: &["engine", "seal_threads"],
        env: &["COFFER_SEAL_THREADS"],
        flag: Some("seal-threads"),
        value_name: "N",
        kind: Kind::Usize,
        legacy: Some(&["seal_threads"]),
        help: "Chunk-sealing threads, 0 = one per core",
    },
    Setting {
        path: &["engine", "clock_speedup"],
        env: &["COFFER_CLOCK_SPEEDUP"],
        flag: Some("clock-speedup"),
        value_name: "X",
        kind: Kind::F64,
        legacy: Some(&["clock_speedup"]),
        help: "Clock speed-up for tests",
    },
    Setting {
        path: &["engine", "clock_start"],
        env: &["COFFER_CLOCK_START"],
        flag: Some("clock-start"),
        value_name: "RFC3339",
        kind: Kind::Str,
        legacy: None,
        help: "Instant the engine clock starts at, for tests (default: now)",
    },
    Setting {
        path: &["engine", "read_buffer_bytes"],
        env: &["COFFER_READ_BUFFER_BYTES"],
        flag: Some("read-buffer-bytes"),
        value_name: "BYTES",
        kind: Kind::U64,
        legacy: None,
        help: "Bytes of GET data held in memory at once, all requests together; past it GETs wait",
    },
    Setting {
        path: &["engine", "root_access_key"],
        env: &["COFFER_ROOT_ACCESS_KEY"],
        flag: None,
        value_name: "AKID",
        kind: Kind::Str,
        legacy: Some(&["root_access_key"]),
        help: "Root access key id to create on first start",
    },
    Setting {
        path: &["engine", "root_secret_key"],
        env: &["COFFER_ROOT_SECRET_KEY"],
        flag: None,
        value_name: "SECRET",
        kind: Kind::Secret,
        legacy: Some(&["root_secret_key"]),
        help: "Root secret key to create on first start",
    },
    Setting {
        path: &["engine", "chunker", "min_size"],
        env: &["COFFER_CHUNK_MIN_SIZE"],
        flag: Some("chunk-min-size"),
        value_name: "BYTES",
        kind: Kind::U32,
        legacy: Some(&["chunker", "min_size"]),
        help: "Minimum chunk size in bytes, for a new repository",
    },
    Setting {
        path: &["engine", "chunker", "avg_size"],
        env: &["COFFER_CHUNK_AVG_SIZE"],
        flag: Some("chunk-avg-size"),
        value_name: "BYTES",
        kind: Kind::U32,
        legacy: Some(&["chunker", "avg_size"]),
        help: "Average chunk size in bytes, for a new repository",
    },
    Setting {
        path: &["engine", "chunker", "max_size"],
        env: &["COFFER_CHUNK_MAX_SIZE"],
        flag: Some("chunk-max-size"),
        value_name: "BYTES",
        kind: Kind::U32,
        legacy: Some(&["chunker", "max_size"]),
        help: "Maximum chunk size in bytes, for a new repository",
    },
];

/// The value at `path` in a TOML tree.
pub fn get<'a>(tree: &'a Table, path: &[&str]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut table = tree;
    for key in parents {
        table = table.get(*key)?.as_table()?;
    }
    table.get(*last)
}

/// Sets the value at `path`, creating the tables on the way. A non-table in
/// the way is replaced: callers set values only into trees that already
/// deserialised, where every table on a declared path is a table.
pub fn set(tree: &mut Table, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut table = tree;
    for key in parents {
        let slot = table
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Table(Table::new()));
        if !slot.is_table() {
            *slot = Value::Table(Table::new());
        }
        let Value::Table(t) = slot else {
            unreachable!("just made a table")
        };
        table = t;
    }
    table.insert((*last).to_owned(), value);
}

/// Removes the value at `path`, dropping a parent table it leaves empty.
pub fn take(tree: &mut Table, path: &[&str]) -> Option<Value> {
    match path {
        [] => None,
        [key] => tree.remove(*key),
        [key, rest @ ..] => {
            let Some(Value::Table(child)) = tree.get_mut(*key) else {
                return None;
            };
            let taken = take(child, rest);
            if child.is_empty() {
                tree.remove(*key);
            }
            taken
        }
    }
}
