//! The admin token: created at first start as `<data-dir>/admin.token` (0600,
//! 32 random bytes in base64url) or taken from `COFFER_ADMIN_TOKEN`; requests
//! carry it as `Authorization: Bearer <token>`. Only its BLAKE3 hash is kept
//! in memory, and presented tokens are compared in constant time.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rand::RngCore;
use subtle::ConstantTimeEq;

/// The file name of the token in the data directory.
pub const TOKEN_FILE: &str = "admin.token";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error("{path}: {source}", path = .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty", path = .path.display())]
    Empty { path: PathBuf },
}

/// The token as the admin API checks it.
pub struct AdminToken {
    hash: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    pub fn from_secret(token: &str) -> Self {
        AdminToken {
            hash: *blake3::hash(token.as_bytes()).as_bytes(),
        }
    }

    /// Whether `presented` is the token. Both sides are hashed first, so the
    /// comparison takes the same time whatever the presented length.
    pub fn verify(&self, presented: &str) -> bool {
        let h = blake3::hash(presented.as_bytes());
        bool::from(h.as_bytes().ct_eq(&self.hash))
    }
}

/// What `load_or_create` did.
#[derive(Debug)]
pub struct LoadedToken {
    pub token: AdminToken,
    /// `Some(path)` when the file was created on this start.
    pub created: Option<PathBuf>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TokenError + '_ {
    move |source| TokenError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads `<data_dir>/admin.token`, creating it (0600) when missing, with
/// `initial` as its content or 32 random bytes.
pub fn load_or_create(data_dir: &Path, initial: Option<&str>) -> Result<LoadedToken, TokenError> {
    let path = data_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let t = text.trim();
            if t.is_empty() {
                return Err(TokenError::Empty { path });
            }
            return Ok(LoadedToken {
                token: AdminToken::from_secret(t),
                created: None,
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&path)(e)),
    }
    let token = match initial.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t.to_owned(),
        None => generate(),
    };
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io(&tmp))?;
    f.write_all(format!("{token}\n").as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io(data_dir))?;
    Ok(LoadedToken {
        token: AdminToken::from_secret(&token),
        created: Some(path),
    })
}

/// 32 random bytes, base64url. Never starting with `-`: `coffer --token -E…`
/// would read the token as a flag (a CLI test failed that way, 1 start in 64).
fn generate() -> String {
    loop {
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        if !token.starts_with('-') {
            return token;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_0600_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path(), None).unwrap();
        let path = first.created.clone().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), 43);
        assert!(first.token.verify(text.trim()));
        assert!(!first.token.verify("wrong"));
        assert!(!first.token.verify(""));
        let again = load_or_create(dir.path(), Some("ignored")).unwrap();
        assert!(again.created.is_none());
        assert!(again.token.verify(text.trim()));
    }

    #[test]
    fn initial_value_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let t = load_or_create(dir.path(), Some("s3cret-token")).unwrap();
        assert!(t.token.verify("s3cret-token"));
        let text = std::fs::read_to_string(dir.path().join(TOKEN_FILE)).unwrap();
        assert_eq!(text.trim(), "s3cret-token");
    }

    #[test]
    fn regression_generated_token_never_starts_with_a_dash() {
        for _ in 0..2000 {
            let t = super::generate();
            assert!(!t.starts_with('-'), "{t}");
            assert_eq!(t.len(), 43);
        }
    }
}
