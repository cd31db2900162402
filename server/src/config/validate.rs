//! Checks of a loaded configuration that serde cannot express: addresses,
//! ranges, settings that go in pairs, key-file permissions, the store list.

use std::path::{Path, PathBuf};

use super::Config;
use super::error::ConfigError;

fn invalid(m: String) -> Result<(), ConfigError> {
    Err(ConfigError::Invalid(m))
}

fn check_host_port(what: &str, addr: &str) -> Result<(), ConfigError> {
    if addr
        .rsplit_once(':')
        .is_none_or(|(_, port)| port.parse::<u16>().is_err())
    {
        return invalid(format!("{what} address {addr:?} is not host:port"));
    }
    Ok(())
}

fn check_tls_pair(
    section: &str,
    cert: &Option<PathBuf>,
    key: &Option<PathBuf>,
) -> Result<(), ConfigError> {
    match (cert, key) {
        (Some(_), None) | (None, Some(_)) => invalid(format!(
            "[{section}] tls_cert and tls_key must be given together"
        )),
        (Some(_), Some(key)) => check_key_permissions(key),
        (None, None) => Ok(()),
    }
}

/// The smallest GET data budget that lets a GET send one chunk while it
/// opens the next (sealed bytes exceed plain by a small overhead).
fn min_read_buffer_bytes(chunk_max: u32) -> u64 {
    2 * u64::from(chunk_max) + 64 * 1024
}

/// Checks what can be checked before start-up touches anything.
pub fn validate(c: &Config) -> Result<(), ConfigError> {
    check_host_port("[s3] listen", &c.s3.listen)?;
    check_host_port("[admin] listen", &c.admin.listen)?;
    check_tls_pair("s3", &c.s3.tls_cert, &c.s3.tls_key)?;
    check_tls_pair("admin", &c.admin.tls_cert, &c.admin.tls_key)?;
    for (section, secs) in [
        ("s3", c.s3.header_read_timeout_secs),
        ("admin", c.admin.header_read_timeout_secs),
    ] {
        if secs == 0 {
            return invalid(format!(
                "[{section}] header_read_timeout_secs must be at least 1"
            ));
        }
    }
    if c.s3.send_timeout_secs == 0 {
        return invalid("[s3] send_timeout_secs must be at least 1".to_owned());
    }
    if c.s3.body_rate_window_secs == 0 {
        return invalid("[s3] body_rate_window_secs must be at least 1".to_owned());
    }
    if c.s3.max_connections == 0 {
        return invalid("[s3] max_connections must be at least 1".to_owned());
    }
    let k = &c.engine.chunker;
    if !(k.min_size >= 64 && k.min_size <= k.avg_size && k.avg_size <= k.max_size) {
        return invalid(format!(
            "[engine.chunker] sizes must satisfy 64 <= min_size <= avg_size <= max_size (got {}/{}/{})",
            k.min_size, k.avg_size, k.max_size
        ));
    }
    let least = min_read_buffer_bytes(k.max_size);
    if c.engine.read_buffer_bytes < least {
        return invalid(format!(
            "[engine] read_buffer_bytes must be at least twice [engine.chunker] max_size plus \
             64 KiB, {least} (got {}): a GET needs room for one chunk being sent and one being opened",
            c.engine.read_buffer_bytes
        ));
    }
    if !(1..=22).contains(&c.engine.zstd_level) {
        return invalid(format!(
            "[engine] zstd_level must be between 1 and 22 (got {})",
            c.engine.zstd_level
        ));
    }
    if !(c.engine.clock_speedup.is_finite() && c.engine.clock_speedup > 0.0) {
        return invalid(format!(
            "[engine] clock_speedup must be a positive number (got {})",
            c.engine.clock_speedup
        ));
    }
    if let Some(start) = &c.engine.clock_start
        && super::clock_start(start).is_none()
    {
        return invalid(format!(
            "[engine] clock_start must be an RFC 3339 instant such as 2024-01-01T00:00:00Z (got {start:?})"
        ));
    }
    if c.engine.root_access_key.is_some() != c.engine.root_secret_key.is_some() {
        return invalid(
            "[engine] root_access_key and root_secret_key (COFFER_ROOT_ACCESS_KEY and \
             COFFER_ROOT_SECRET_KEY) must be given together"
                .to_owned(),
        );
    }
    if c.s3.region.is_empty() {
        return invalid("[s3] region must not be empty".to_owned());
    }
    c.storage.resolve(&c.server.data_dir)?;
    Ok(())
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
