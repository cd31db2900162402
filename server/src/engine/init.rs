//! Opening a repository: first start creates the repository config (in the store), the
//! master key file (0600, in the data directory), the metadata store and the root access
//! key; later starts open what exists, and copy the config of an older data directory
//! into the store.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use coffer_repo::{KeyFile, Keys, MasterKey, RepoConfig};
use rand::Rng;
use rand::distributions::Alphanumeric;

use crate::backend::{ObjectId, ObjectKind, Store};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::access_keys::{self, KeyRecord};
use crate::engine::meta::codec::micros;
use crate::engine::meta::{MetaStore, engine_meta};

pub(crate) const MASTER_KEY_FILE: &str = "master.key";
pub(crate) const REPO_CONFIG_FILE: &str = "repo.config";
pub(crate) const META_FILE: &str = "meta.redb";
/// Name of the store built from the data directory when the engine is given none:
/// the store that pack records written before stores had names refer to.
pub(crate) use crate::engine::meta::DEFAULT_STORE;

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

/// What `open_repo` found or created.
pub(crate) struct Opened {
    pub keys: Keys,
    pub config: RepoConfig,
    pub meta: MetaStore,
    pub created: bool,
    pub master_key_file: PathBuf,
}

/// What the data directory holds before anything is created.
struct DataDir {
    key_exists: bool,
    meta_exists: bool,
    /// `repo.config` of a data directory written before the config moved into the store.
    legacy_config: Option<Vec<u8>>,
}

fn inspect(data_dir: &Path) -> EngineResult<DataDir> {
    crate::file_modes::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
    let legacy_path = data_dir.join(REPO_CONFIG_FILE);
    let legacy_config = match std::fs::read(&legacy_path) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&legacy_path, e)),
    };
    Ok(DataDir {
        key_exists: data_dir.join(MASTER_KEY_FILE).exists(),
        meta_exists: data_dir.join(META_FILE).exists(),
        legacy_config,
    })
}

/// Writes the config into the store and reads it back, so nothing relies on a copy that
/// did not land.
async fn put_config(store: &dyn Store, bytes: &[u8]) -> EngineResult<()> {
    let id = ObjectId::repo_config();
    store
        .put(ObjectKind::Config, &id, Bytes::copy_from_slice(bytes))
        .await?;
    let back = store.get(ObjectKind::Config, &id, None).await?;
    if back != bytes {
        return Err(EngineError::Internal(format!(
            "the repository config read back from store {} differs from what was written",
            store.name()
        )));
    }
    Ok(())
}

/// Loads (or on first start creates) the repository config (in the store), the master
/// key (in the data directory) and the metadata store.
///
/// A data directory from before Store v2 has its config in `<data>/repo.config` only:
/// it is copied into the store (durably, and read back) before anything else uses it.
/// The old file is left in place: migration never deletes, and the store's copy is the
/// one read from then on; if the two ever differ, opening is refused rather than
/// guessing which one is right.
pub(crate) async fn open_repo(
    data_dir: &Path,
    store: &dyn Store,
    chunker: coffer_repo::ChunkerParams,
    zstd_level: i32,
) -> EngineResult<Opened> {
    let dir = data_dir.to_path_buf();
    let found = super::blocking(move || inspect(&dir)).await?;
    let key_path = data_dir.join(MASTER_KEY_FILE);
    let stored = store
        .get_if_exists(ObjectKind::Config, &ObjectId::repo_config())
        .await?;

    let mut created = false;
    let config_bytes: Vec<u8> = if !found.key_exists {
        if found.meta_exists || stored.is_some() || found.legacy_config.is_some() {
            return Err(EngineError::Internal(format!(
                "{} is missing but the data directory holds a repository; restore the key file",
                key_path.display()
            )));
        }
        let mut config = RepoConfig::new_random();
        config.chunker = chunker;
        config.zstd_level = zstd_level;
        config.validate()?;
        let bytes = config.encode();
        // The config before the key, as before: a crash in between leaves a repository
        // without a key, which the next start refuses instead of silently re-creating.
        put_config(store, &bytes).await?;
        created = true;
        bytes
    } else {
        match (stored, found.legacy_config) {
            (Some(stored), Some(legacy)) if stored != legacy => {
                return Err(EngineError::Internal(format!(
                    "{} differs from the repository config in store {}; remove the file if \
                     the store's copy is right",
                    data_dir.join(REPO_CONFIG_FILE).display(),
                    store.name()
                )));
            }
            (Some(stored), _) => stored.to_vec(),
            (None, Some(legacy)) => {
                // Checked before it is copied: a corrupt file must not become the
                // store's copy.
                RepoConfig::decode(&legacy)?;
                put_config(store, &legacy).await?;
                tracing::info!(
                    store = store.name(),
                    "copied {} into the store",
                    REPO_CONFIG_FILE
                );
                legacy
            }
            (None, None) => {
                return Err(EngineError::Internal(format!(
                    "the repository config is missing from store {}",
                    store.name()
                )));
            }
        }
    };
    let config = RepoConfig::decode(&config_bytes)?;
    if found.key_exists
        && !found.meta_exists
        && !store.list_page(ObjectKind::Pack, None, 1).await?.is_empty()
    {
        // Starting on an empty metadata store would hide every stored object
        // (and a later gc would treat their packs as garbage).
        return Err(EngineError::Internal(format!(
            "{} is missing but packs exist; restore it from a backup \
             (rebuilding from packs is not implemented yet)",
            data_dir.join(META_FILE).display()
        )));
    }

    let dir = data_dir.to_path_buf();
    super::blocking(move || {
        let key_path = dir.join(MASTER_KEY_FILE);
        if created {
            let master = MasterKey::generate();
            write_atomic(&key_path, &KeyFile::encode(&master), 0o600)?;
        }
        let key_bytes = std::fs::read(&key_path).map_err(|e| io(&key_path, e))?;
        let mode = std::fs::metadata(&key_path)
            .map_err(|e| io(&key_path, e))?
            .permissions()
            .mode();
        let master = KeyFile::decode(&key_bytes, mode)?;
        let keys = Keys::derive(&master);
        drop(master);
        let meta = MetaStore::open(&dir.join(META_FILE), &keys)?;
        Ok(Opened {
            keys,
            config,
            meta,
            created,
            master_key_file: key_path,
        })
    })
    .await
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

/// Creates the root access key unless it exists. Returns `(id, secret, generated)`
/// when created; `generated` = the secret was not supplied.
pub(crate) fn ensure_root_key(
    meta: &MetaStore,
    keys: &Keys,
    access_key: Option<&str>,
    secret_key: Option<&str>,
    now: time::OffsetDateTime,
) -> EngineResult<Option<(String, String, bool)>> {
    meta.write("create root key", |txn| {
        if engine_meta::root_key(txn)?.is_some() {
            return Ok(None);
        }
        let id = match access_key {
            Some(a) if !a.is_empty() => a.to_owned(),
            _ => format!("CF{}", random_string(18, true)),
        };
        let (secret, generated) = match secret_key {
            Some(s) if !s.is_empty() => (s.to_owned(), false),
            _ => (random_string(40, false), true),
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
        Ok(Some((id, secret, generated)))
    })
}
