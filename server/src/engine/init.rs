//! Opening a data directory: first start creates the repository config, the
//! master key file (0600), the metadata store and the root access key; later
//! starts open what exists.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::access_keys::{self, KeyRecord};
use crate::engine::meta::codec::micros;
use crate::engine::meta::{MetaStore, engine_meta};
use coffer_repo::{KeyFile, Keys, MasterKey, RepoConfig};
use rand::Rng;
use rand::distributions::Alphanumeric;

pub(crate) const MASTER_KEY_FILE: &str = "master.key";
pub(crate) const REPO_CONFIG_FILE: &str = "repo.config";
pub(crate) const META_FILE: &str = "meta.redb";
pub(crate) const PACKS_DIR: &str = "packs";

fn io(path: &Path, e: std::io::Error) -> EngineError {
    EngineError::Internal(format!("{}: {e}", path.display()))
}

fn sync_dir(dir: &Path) -> EngineResult<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

/// Writes `bytes` to `path` atomically (temp file, fsync, rename, fsync dir) with `mode`.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> EngineResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| EngineError::Internal("path without parent".into()))?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| io(&tmp, e))?;
    // `mode` applies only when the file is created; force it for a leftover temp.
    f.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| io(&tmp, e))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    sync_dir(dir)
}

/// Whether a pack directory holds any pack (fan-out directories with files).
fn holds_packs(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let name = e.file_name();
        let fan_out = name.len() == 2
            && name
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_hexdigit()));
        fan_out && std::fs::read_dir(e.path()).is_ok_and(|mut d| d.next().is_some())
    })
}

/// What `open_dir` found or created.
pub(crate) struct Opened {
    pub keys: Keys,
    pub config: RepoConfig,
    pub meta: MetaStore,
    pub created: bool,
    pub master_key_file: PathBuf,
}

/// Loads (or on first start creates) the config, key and metadata store.
pub(crate) fn open_dir(
    data_dir: &Path,
    chunker: coffer_repo::ChunkerParams,
    zstd_level: i32,
) -> EngineResult<Opened> {
    std::fs::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
    let key_path = data_dir.join(MASTER_KEY_FILE);
    let config_path = data_dir.join(REPO_CONFIG_FILE);
    let meta_path = data_dir.join(META_FILE);

    let key_exists = key_path.exists();
    let config_exists = config_path.exists();
    let mut created = false;
    if !key_exists {
        if meta_path.exists() || config_exists {
            return Err(EngineError::Internal(format!(
                "{} is missing but the data directory holds a repository; restore the key file",
                key_path.display()
            )));
        }
        let mut config = RepoConfig::new_random();
        config.chunker = chunker;
        config.zstd_level = zstd_level;
        config.validate()?;
        write_atomic(&config_path, &config.encode(), 0o644)?;
        let master = MasterKey::generate();
        write_atomic(&key_path, &KeyFile::encode(&master), 0o600)?;
        created = true;
    } else if !config_exists {
        return Err(EngineError::Internal(format!(
            "{} is missing",
            config_path.display()
        )));
    } else if !meta_path.exists() && holds_packs(&data_dir.join(PACKS_DIR)) {
        // Starting on an empty metadata store would hide every stored object
        // (and a later gc would treat their packs as garbage).
        return Err(EngineError::Internal(format!(
            "{} is missing but packs exist; restore it from a backup \
             (rebuilding from packs is not implemented yet)",
            meta_path.display()
        )));
    }

    let key_bytes = std::fs::read(&key_path).map_err(|e| io(&key_path, e))?;
    let mode = std::fs::metadata(&key_path)
        .map_err(|e| io(&key_path, e))?
        .permissions()
        .mode();
    let master = KeyFile::decode(&key_bytes, mode)?;
    let keys = Keys::derive(&master);
    drop(master);
    let config_bytes = std::fs::read(&config_path).map_err(|e| io(&config_path, e))?;
    let config = RepoConfig::decode(&config_bytes)?;

    let meta = MetaStore::open(&meta_path)?;
    std::fs::create_dir_all(data_dir.join(PACKS_DIR)).map_err(|e| io(data_dir, e))?;
    Ok(Opened {
        keys,
        config,
        meta,
        created,
        master_key_file: key_path,
    })
}

/// Context bound into a sealed access-key secret, so a sealed secret cannot be
/// moved to another key id.
pub(crate) fn secret_context(access_key: &str) -> Vec<u8> {
    let mut c = b"coffer access key secret\0".to_vec();
    c.extend_from_slice(access_key.as_bytes());
    c
}

fn random_string(len: usize, upper: bool) -> String {
    let s: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect();
    if upper { s.to_ascii_uppercase() } else { s }
}

/// Creates the root access key unless it exists. Returns `(id, secret)` when created.
pub(crate) fn ensure_root_key(
    meta: &MetaStore,
    keys: &Keys,
    access_key: Option<&str>,
    secret_key: Option<&str>,
    now: time::OffsetDateTime,
) -> EngineResult<Option<(String, String)>> {
    meta.write("create root key", |txn| {
        if engine_meta::root_key(txn)?.is_some() {
            return Ok(None);
        }
        let id = match access_key {
            Some(a) if !a.is_empty() => a.to_owned(),
            _ => format!("CF{}", random_string(18, true)),
        };
        let secret = match secret_key {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => random_string(40, false),
        };
        if id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(EngineError::InvalidArgument(
                "root access key id must be printable ASCII, ≤ 128 chars".into(),
            ));
        }
        let sealed = coffer_repo::seal_metadata(keys, &secret_context(&id), secret.as_bytes())?;
        let rec = KeyRecord {
            enabled: true,
            created_us: micros(now),
            sealed_secret: sealed,
            name: "root".into(),
            expires_us: None,
            is_admin: true,
        };
        access_keys::put(txn, &id, &rec)?;
        engine_meta::set_root_key(txn, &id)?;
        Ok(Some((id, secret)))
    })
}
