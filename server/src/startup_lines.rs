//! The lines `cofferd` prints on stdout while it starts, written and read in one
//! place: the app root prints them with the functions here, and everything that
//! starts the binary (the test kit, the bench) reads them with [`StartupReader`],
//! so a changed wording cannot leave a reader behind.
//!
//! The lines, in order (docs/configuration.md): on the first start only, the four
//! "initialised" lines with the generated (or given) root key; when the admin
//! token file was created, its path; then `admin API listening on URL` and last
//! `S3 listening on URL`. The admin token itself is never printed, only its file.
//! The Python harness (`conformance-tests/python/coffer_harness.py`) reads the same
//! prefixes; `conformance-tests/fixtures/startup_lines.txt` pins both readers to
//! what is printed here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Prefix of the first first-start line; the data directory follows.
pub const INITIALISED: &str = "coffer: initialised a new repository in ";
/// Prefix of the master key file line; the path and [`MASTER_KEY_WARNING`] follow.
pub const MASTER_KEY_FILE: &str = "coffer: master key file ";
/// What follows the master key file's path on its line.
pub const MASTER_KEY_WARNING: &str = " — BACK IT UP: without it nothing stored can be read";
/// Prefix of the root access key id line (first start only).
pub const ROOT_ACCESS_KEY: &str = "coffer: root access key id: ";
/// Prefix of the root secret line (first start only, when the server generated it).
pub const ROOT_SECRET_KEY: &str = "coffer: root secret access key: ";
/// The line after a generated root secret.
pub const SAVE_ROOT_SECRET: &str =
    "coffer: save the root secret access key now: it is printed only this once";
/// The root secret line when the operator supplied the secret: printing it
/// would copy it into every service log, and they already hold it.
pub const ROOT_SECRET_NOT_PRINTED: &str =
    "coffer: root secret access key: as configured (not printed)";
/// Prefix of the line naming the admin token file, when this start created it.
pub const ADMIN_TOKEN_FILE: &str = "coffer: admin token file ";
/// Prefix of the admin listener's line; its URL follows.
pub const ADMIN_LISTENING: &str = "coffer: admin API listening on ";
/// Prefix of the S3 listener's line, the last start-up line; its URL follows.
pub const S3_LISTENING: &str = "coffer: S3 listening on ";

/// The lines of the start that created the repository. `root_secret_key`:
/// the secret when the server generated it (printed this once, with a line
/// saying to save it), `None` when the operator supplied it (not printed).
pub fn first_start(
    data_dir: &Path,
    master_key_file: &Path,
    root_access_key: &str,
    root_secret_key: Option<&str>,
) -> String {
    let secret = match root_secret_key {
        Some(secret) => format!("{ROOT_SECRET_KEY}{secret}\n{SAVE_ROOT_SECRET}"),
        None => ROOT_SECRET_NOT_PRINTED.to_owned(),
    };
    format!(
        "{INITIALISED}{}\n{MASTER_KEY_FILE}{}{MASTER_KEY_WARNING}\n\
         {ROOT_ACCESS_KEY}{root_access_key}\n{secret}",
        data_dir.display(),
        master_key_file.display(),
    )
}

/// The line naming a newly created admin token file.
pub fn admin_token_file(path: &Path) -> String {
    format!("{ADMIN_TOKEN_FILE}{}", path.display())
}

/// The admin listener's line.
pub fn admin_listening(url: &str) -> String {
    format!("{ADMIN_LISTENING}{url}")
}

/// The S3 listener's line (the last one).
pub fn s3_listening(url: &str) -> String {
    format!("{S3_LISTENING}{url}")
}

/// What the first start printed beside the listeners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstStart {
    pub data_dir: PathBuf,
    pub master_key_file: PathBuf,
    /// The root key id, generated or taken from `COFFER_ROOT_ACCESS_KEY`.
    pub root_access_key: String,
    /// The generated root secret; `None` when it was supplied (not printed).
    pub root_secret_key: Option<String>,
}

/// Everything a completed start printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartupLines {
    /// `http(s)://host:port` of the S3 listener.
    pub s3_url: String,
    /// `http(s)://host:port` of the admin API.
    pub admin_url: String,
    /// `Some` on the start that created the repository, never again.
    pub first_start: Option<FirstStart>,
    /// `Some` on the start that created the admin token file.
    pub admin_token_file: Option<PathBuf>,
}

impl StartupLines {
    /// Reads a complete start-up (up to the S3 line) from `text`; lines that are
    /// not start-up lines are skipped.
    pub fn parse(text: &str) -> Result<StartupLines, StartupLinesError> {
        let mut reader = StartupReader::default();
        for line in text.lines() {
            if let Some(done) = reader.feed(line)? {
                return Ok(done);
            }
        }
        Err(StartupLinesError::NoS3Line)
    }

    /// The S3 listener's port.
    pub fn s3_port(&self) -> Option<u16> {
        port_of(&self.s3_url)
    }

    /// The S3 listener's address (`127.0.0.1:PORT`).
    pub fn s3_addr(&self) -> Option<SocketAddr> {
        host_port(&self.s3_url)?.parse().ok()
    }

    /// Whether the S3 listener speaks TLS.
    pub fn s3_is_tls(&self) -> bool {
        self.s3_url.starts_with("https://")
    }
}

/// Why the start-up lines do not describe a start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartupLinesError {
    #[error("no `{S3_LISTENING}URL` line")]
    NoS3Line,
    #[error("the `{S3_LISTENING}` line came before any `{ADMIN_LISTENING}` line")]
    NoAdminLine,
    #[error("`{line}` has no http:// or https:// URL with a port")]
    BadUrl { line: String },
    #[error("the first start's lines are incomplete: no {missing} line")]
    IncompleteFirstStart { missing: &'static str },
}

/// Reads start-up lines one at a time, as a spawner gets them from a pipe.
#[derive(Debug, Default, Clone)]
pub struct StartupReader {
    admin_url: Option<String>,
    data_dir: Option<PathBuf>,
    master_key_file: Option<PathBuf>,
    root_access_key: Option<String>,
    /// `Some(None)`: the not-printed line was read.
    root_secret_key: Option<Option<String>>,
    admin_token_file: Option<PathBuf>,
}

impl StartupReader {
    /// Takes one line; returns the whole start-up once the S3 line (always the
    /// last) is read. Other lines are skipped.
    pub fn feed(&mut self, line: &str) -> Result<Option<StartupLines>, StartupLinesError> {
        let line = line.trim_end();
        if let Some(url) = line.strip_prefix(S3_LISTENING) {
            return self.finish(line, url).map(Some);
        }
        if let Some(url) = line.strip_prefix(ADMIN_LISTENING) {
            self.admin_url = Some(checked_url(line, url)?);
        } else if let Some(dir) = line.strip_prefix(INITIALISED) {
            self.data_dir = Some(PathBuf::from(dir));
        } else if let Some(rest) = line.strip_prefix(MASTER_KEY_FILE) {
            let path = rest.strip_suffix(MASTER_KEY_WARNING).unwrap_or(rest);
            self.master_key_file = Some(PathBuf::from(path));
        } else if let Some(id) = line.strip_prefix(ROOT_ACCESS_KEY) {
            self.root_access_key = Some(id.to_owned());
        } else if line == ROOT_SECRET_NOT_PRINTED {
            self.root_secret_key = Some(None);
        } else if let Some(secret) = line.strip_prefix(ROOT_SECRET_KEY) {
            self.root_secret_key = Some(Some(secret.to_owned()));
        } else if let Some(path) = line.strip_prefix(ADMIN_TOKEN_FILE) {
            self.admin_token_file = Some(PathBuf::from(path));
        }
        Ok(None)
    }

    fn finish(&mut self, line: &str, url: &str) -> Result<StartupLines, StartupLinesError> {
        let s3_url = checked_url(line, url)?;
        let admin_url = self
            .admin_url
            .take()
            .ok_or(StartupLinesError::NoAdminLine)?;
        let first_start = match (
            self.data_dir.take(),
            self.master_key_file.take(),
            self.root_access_key.take(),
            self.root_secret_key.take(),
        ) {
            (None, None, None, None) => None,
            (
                Some(data_dir),
                Some(master_key_file),
                Some(root_access_key),
                Some(root_secret_key),
            ) => Some(FirstStart {
                data_dir,
                master_key_file,
                root_access_key,
                root_secret_key,
            }),
            (d, m, a, _) => {
                let missing = if d.is_none() {
                    "initialised"
                } else if m.is_none() {
                    "master key file"
                } else if a.is_none() {
                    "root access key id"
                } else {
                    "root secret access key"
                };
                return Err(StartupLinesError::IncompleteFirstStart { missing });
            }
        };
        Ok(StartupLines {
            s3_url,
            admin_url,
            first_start,
            admin_token_file: self.admin_token_file.take(),
        })
    }
}

/// `url` trimmed (and without a trailing `/`), if it is http(s) with a port.
fn checked_url(line: &str, url: &str) -> Result<String, StartupLinesError> {
    let url = url.trim().trim_end_matches('/');
    let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
    if scheme_ok && port_of(url).is_some() {
        Ok(url.to_owned())
    } else {
        Err(StartupLinesError::BadUrl {
            line: line.to_owned(),
        })
    }
}

/// `host:port` of `scheme://host:port[/…]`.
fn host_port(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    rest.split('/').next()
}

fn port_of(url: &str) -> Option<u16> {
    host_port(url)?.rsplit_once(':')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first() -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            first_start(
                Path::new("/d"),
                Path::new("/d/master.key"),
                "AKROOT",
                Some("SECRET")
            ),
            admin_token_file(Path::new("/d/admin.token")),
            admin_listening("http://127.0.0.1:9001"),
            s3_listening("https://127.0.0.1:9000/"),
        )
    }

    #[test]
    fn what_is_printed_is_read_back() {
        let s = StartupLines::parse(&first()).unwrap();
        assert_eq!(s.s3_url, "https://127.0.0.1:9000");
        assert_eq!(s.s3_port(), Some(9000));
        assert_eq!(s.s3_addr(), Some("127.0.0.1:9000".parse().unwrap()));
        assert!(s.s3_is_tls());
        assert_eq!(s.admin_url, "http://127.0.0.1:9001");
        assert_eq!(
            s.first_start,
            Some(FirstStart {
                data_dir: "/d".into(),
                master_key_file: "/d/master.key".into(),
                root_access_key: "AKROOT".into(),
                root_secret_key: Some("SECRET".into()),
            })
        );
        assert_eq!(s.admin_token_file, Some("/d/admin.token".into()));
    }

    #[test]
    fn a_supplied_secret_is_not_printed_and_reads_as_none() {
        let lines = first_start(Path::new("/d"), Path::new("/d/k"), "AKROOT", None);
        assert!(!lines.contains(SAVE_ROOT_SECRET));
        let text = format!(
            "{lines}\n{}\n{}\n",
            admin_listening("http://127.0.0.1:1"),
            s3_listening("http://127.0.0.1:2")
        );
        let s = StartupLines::parse(&text).unwrap();
        assert_eq!(s.first_start.unwrap().root_secret_key, None);
    }

    #[test]
    fn a_later_start_prints_only_the_listeners() {
        let text = "noise\ncoffer: admin API listening on http://127.0.0.1:1\n\
                    coffer: S3 listening on http://127.0.0.1:2\n";
        let s = StartupLines::parse(text).unwrap();
        assert_eq!(
            (s.s3_port(), s.first_start, s.admin_token_file),
            (Some(2), None, None)
        );
    }

    #[test]
    fn broken_start_ups_are_named() {
        assert_eq!(
            StartupLines::parse("coffer: S3 listening on http://127.0.0.1:2"),
            Err(StartupLinesError::NoAdminLine)
        );
        assert_eq!(StartupLines::parse(""), Err(StartupLinesError::NoS3Line));
        let bad = "coffer: admin API listening on http://h:1\ncoffer: S3 listening on 127.0.0.1:2";
        assert!(matches!(
            StartupLines::parse(bad),
            Err(StartupLinesError::BadUrl { .. })
        ));
        let half = first().replace("coffer: root secret access key: SECRET\n", "");
        assert_eq!(
            StartupLines::parse(&half),
            Err(StartupLinesError::IncompleteFirstStart {
                missing: "root secret access key"
            })
        );
    }
}
