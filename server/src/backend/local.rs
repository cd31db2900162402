//! The directory backend: packs as files under `<root>/<2 hex>/<pack id hex>`.
//!
//! A pack is streamed to `<root>/tmp/<random>.tmp`, fsynced, renamed to its
//! final name and the directory fsynced, so a named pack is always complete
//! and durable. Temporaries left by a crash are removed when the backend opens.

use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use coffer_repo::PackId;

use super::{Backend, BackendError, BackendResult, PackWriter};

const TMP_DIR: &str = "tmp";

/// Packs in a local directory.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: Arc<PathBuf>,
}

fn io_err(path: &Path, source: std::io::Error) -> BackendError {
    BackendError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// fsync of a directory, so a rename or create inside it is durable.
fn sync_dir(dir: &Path) -> BackendResult<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, e))
}

impl LocalBackend {
    /// Opens (creating if needed) the pack directory and removes stale temporaries.
    pub fn open(root: impl Into<PathBuf>) -> BackendResult<Self> {
        let root: PathBuf = root.into();
        let tmp = root.join(TMP_DIR);
        std::fs::create_dir_all(&tmp).map_err(|e| io_err(&tmp, e))?;
        let entries = std::fs::read_dir(&tmp).map_err(|e| io_err(&tmp, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_err(&tmp, e))?;
            let path = entry.path();
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path, e)),
            }
        }
        Ok(LocalBackend {
            root: Arc::new(root),
        })
    }

    /// The directory the packs live in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn pack_path(&self, id: &PackId) -> PathBuf {
        let hex = hex::encode(id.0);
        self.root.join(&hex[..2]).join(hex)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> BackendResult<T> + Send + 'static,
) -> BackendResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| BackendError::Other(format!("blocking task failed: {e}")))?
}

#[async_trait]
impl Backend for LocalBackend {
    async fn create_pack(&self) -> BackendResult<Box<dyn PackWriter>> {
        let name = format!("{}.tmp", uuid::Uuid::new_v4().simple());
        let path = self.root.join(TMP_DIR).join(name);
        let p2 = path.clone();
        let file = blocking(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p2)
                .map_err(|e| io_err(&p2, e))
        })
        .await?;
        Ok(Box::new(LocalPackWriter {
            backend: self.clone(),
            path,
            file: Some(file),
            written: 0,
        }))
    }

    async fn read_range(&self, pack: &PackId, offset: u64, len: u64) -> BackendResult<Bytes> {
        let path = self.pack_path(pack);
        let pack_hex = hex::encode(pack.0);
        blocking(move || {
            let file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Err(BackendError::NotFound(pack_hex));
                }
                Err(e) => return Err(io_err(&path, e)),
            };
            let want = usize::try_from(len)
                .map_err(|_| BackendError::Other(format!("range of {len} bytes")))?;
            let mut buf = vec![0u8; want];
            match file.read_exact_at(&mut buf, offset) {
                Ok(()) => Ok(Bytes::from(buf)),
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    let plen = file.metadata().map(|m| m.len()).unwrap_or(0);
                    Err(BackendError::ShortRead {
                        pack: pack_hex,
                        offset,
                        wanted: len,
                        len: plen,
                    })
                }
                Err(e) => Err(io_err(&path, e)),
            }
        })
        .await
    }

    async fn pack_len(&self, pack: &PackId) -> BackendResult<u64> {
        let path = self.pack_path(pack);
        match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Err(BackendError::NotFound(hex::encode(pack.0)))
            }
            Err(e) => Err(io_err(&path, e)),
        }
    }

    async fn list_packs(&self) -> BackendResult<Vec<PackId>> {
        let root = self.root.clone();
        blocking(move || {
            let mut out = Vec::new();
            let dirs = std::fs::read_dir(root.as_path()).map_err(|e| io_err(&root, e))?;
            for dir in dirs {
                let dir = dir.map_err(|e| io_err(&root, e))?;
                let name = dir.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.len() != 2 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
                    continue;
                }
                let sub = dir.path();
                for file in std::fs::read_dir(&sub).map_err(|e| io_err(&sub, e))? {
                    let file = file.map_err(|e| io_err(&sub, e))?;
                    let fname = file.file_name();
                    let Some(fname) = fname.to_str() else {
                        continue;
                    };
                    let mut id = [0u8; 32];
                    if hex::decode_to_slice(fname, &mut id).is_ok() {
                        out.push(PackId(id));
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
    }

    async fn delete_pack(&self, pack: &PackId) -> BackendResult<()> {
        let path = self.pack_path(pack);
        blocking(move || {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(io_err(&path, e)),
            }
            if let Some(dir) = path.parent() {
                sync_dir(dir)?;
            }
            Ok(())
        })
        .await
    }
}

/// A pack streamed to a temporary file. Writes run on the blocking pool with
/// the `Bytes` moved in, so sealed chunks reach the file without a copy.
#[derive(Debug)]
struct LocalPackWriter {
    backend: LocalBackend,
    /// The temporary file; empty once finished or aborted.
    path: PathBuf,
    file: Option<std::fs::File>,
    written: u64,
}

#[async_trait]
impl PackWriter for LocalPackWriter {
    async fn write(&mut self, data: Bytes) -> BackendResult<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| BackendError::Other("pack writer closed".into()))?;
        let path = self.path.clone();
        let len = data.len() as u64;
        // If this future is dropped meanwhile, the file handle is dropped in
        // the task and `Drop` still removes the temporary by its path.
        let file = blocking(move || {
            file.write_all(&data).map_err(|e| io_err(&path, e))?;
            Ok(file)
        })
        .await?;
        self.file = Some(file);
        self.written += len;
        Ok(())
    }

    fn written(&self) -> u64 {
        self.written
    }

    async fn finish(mut self: Box<Self>, id: &PackId) -> BackendResult<()> {
        let Some(file) = self.file.take() else {
            return Err(BackendError::Other("pack writer closed".into()));
        };
        let tmp = std::mem::take(&mut self.path);
        let dest = self.backend.pack_path(id);
        blocking(move || {
            let result = (|| {
                file.sync_all().map_err(|e| io_err(&tmp, e))?;
                drop(file);
                let dir = dest
                    .parent()
                    .ok_or_else(|| BackendError::Other("pack path has no parent".into()))?;
                let created = match std::fs::create_dir(dir) {
                    Ok(()) => true,
                    Err(e) if e.kind() == ErrorKind::AlreadyExists => false,
                    Err(e) => return Err(io_err(dir, e)),
                };
                if created {
                    // The new fan-out directory must itself be durable in the root.
                    if let Some(root) = dir.parent() {
                        sync_dir(root)?;
                    }
                }
                std::fs::rename(&tmp, &dest).map_err(|e| io_err(&dest, e))?;
                sync_dir(dir)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        })
        .await
    }

    async fn abort(mut self: Box<Self>) {
        self.file.take();
        let path = std::mem::take(&mut self.path);
        let _ = tokio::fs::remove_file(&path).await;
    }
}

impl Drop for LocalPackWriter {
    fn drop(&mut self) {
        // Neither finished nor aborted (e.g. the PUT future was dropped when the
        // client went away): remove the temporary now rather than at next open.
        if !self.path.as_os_str().is_empty() {
            self.file.take();
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
