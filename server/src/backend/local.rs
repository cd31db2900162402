//! The local store: repository objects as files under a root directory (the data
//! directory by default).
//!
//! Layout: packs at `<root>/packs/<first 2 hex>/<pack id hex>` (the layout of data
//! directories written before Store v2, so they keep working); every other kind in its
//! own folder, `<root>/<kind folder>/<id>` (`index/`, `journal/`, `config/`, `keys/`).
//! An object is streamed to a temporary file (`packs/tmp/` for packs, `<folder>/.tmp/`
//! for the others: ids never start with a dot, so a temporary never looks like an
//! object), fsynced, renamed to its name and the directory fsynced, so a named object is
//! always complete and durable. Temporaries left by a crash are removed when the store
//! opens; one left by a dropped writer is removed at once.

use std::io::{ErrorKind, Read, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::error::{StoreError, StoreResult};
use super::kind::{ObjectId, ObjectKind};
use super::store::{ObjectInfo, ObjectWriter, Store};

/// Temporaries of packs (the folder older builds used).
const PACK_TMP_DIR: &str = "tmp";
/// Temporaries of every other kind.
const TMP_DIR: &str = ".tmp";

/// Repository objects in a local directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    name: String,
    root: PathBuf,
}

fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// fsync of a directory, so a rename, create or unlink inside it is durable.
fn sync_dir(dir: &Path) -> StoreResult<()> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err(dir, e))
}

/// Creates `dir` (and its parent chain); when it did not exist, fsyncs the parent so the
/// new directory entry is itself durable.
fn ensure_dir(dir: &Path) -> StoreResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    crate::file_modes::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    if let Some(parent) = dir.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

fn remove_all_files(dir: &Path) -> StoreResult<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| io_err(dir, e))?.path();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path, e)),
        }
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    crate::blocking_pool::spawn(f)
        .await
        .map_err(|e| StoreError::permanent(format!("blocking task failed: {e}")))?
}

impl LocalStore {
    /// Opens (creating if needed) the store under `root` and removes stale temporaries.
    /// `name` is the store's name in the configuration (`"local"` for the default one).
    pub fn open(name: impl Into<String>, root: impl Into<PathBuf>) -> StoreResult<Self> {
        let root: PathBuf = root.into();
        ensure_dir(&root)?;
        let store = LocalStore {
            shared: Arc::new(Shared {
                name: name.into(),
                root,
            }),
        };
        for kind in ObjectKind::ALL {
            let tmp = store.tmp_dir(kind);
            ensure_dir(&tmp)?;
            remove_all_files(&tmp)?;
        }
        Ok(store)
    }

    /// The directory the store lives in.
    pub fn root(&self) -> &Path {
        &self.shared.root
    }

    fn kind_dir(&self, kind: ObjectKind) -> PathBuf {
        self.shared.root.join(kind.folder())
    }

    fn tmp_dir(&self, kind: ObjectKind) -> PathBuf {
        let name = if kind == ObjectKind::Pack {
            PACK_TMP_DIR
        } else {
            TMP_DIR
        };
        self.kind_dir(kind).join(name)
    }

    fn object_path(&self, kind: ObjectKind, id: &ObjectId) -> PathBuf {
        let dir = self.kind_dir(kind);
        if kind == ObjectKind::Pack {
            // Fan-out keeps directories small; ids are at least two characters.
            dir.join(&id.as_str()[..2]).join(id.as_str())
        } else {
            dir.join(id.as_str())
        }
    }

    /// Every `(id, len)` of one directory of objects, unsorted.
    fn read_objects(dir: &Path, out: &mut Vec<ObjectInfo>) -> StoreResult<()> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_err(dir, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(id) = ObjectId::new(name) else {
                continue;
            };
            let meta = match entry.metadata() {
                Ok(m) => m,
                // Deleted between the listing and the stat.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&entry.path(), e)),
            };
            if meta.is_file() {
                out.push(ObjectInfo {
                    id,
                    len: meta.len(),
                });
            }
        }
        Ok(())
    }

    fn list_blocking(
        &self,
        kind: ObjectKind,
        after: Option<ObjectId>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>> {
        let dir = self.kind_dir(kind);
        let mut out = Vec::new();
        let keep = |o: &ObjectInfo| after.as_ref().is_none_or(|a| o.id > *a);
        if kind != ObjectKind::Pack {
            Self::read_objects(&dir, &mut out)?;
            out.retain(keep);
            out.sort_by(|a, b| a.id.cmp(&b.id));
            out.truncate(limit);
            return Ok(out);
        }
        // Packs: walk the fan-out directories in order, from the one `after` is in.
        let mut fans: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .filter(|n| n.len() == 2 && ObjectId::new(n.as_str()).is_ok())
                .collect(),
            Err(e) if e.kind() == ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&dir, e)),
        };
        fans.sort();
        let first = after.as_ref().map(|a| &a.as_str()[..2]);
        for fan in fans
            .iter()
            .filter(|f| first.is_none_or(|s| f.as_str() >= s))
        {
            let mut page = Vec::new();
            Self::read_objects(&dir.join(fan), &mut page)?;
            page.retain(|o| keep(o) && o.id.as_str().starts_with(fan.as_str()));
            page.sort_by(|a, b| a.id.cmp(&b.id));
            out.extend(page);
            if out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        Ok(out)
    }
}

#[async_trait]
impl Store for LocalStore {
    fn name(&self) -> &str {
        &self.shared.name
    }

    async fn put_stream(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> StoreResult<Box<dyn ObjectWriter>> {
        let tmp = self
            .tmp_dir(kind)
            .join(format!("{}.tmp", uuid::Uuid::new_v4().simple()));
        let dest = self.object_path(kind, id);
        let t2 = tmp.clone();
        let file = blocking(move || {
            crate::file_modes::new_file_options()
                .write(true)
                .create_new(true)
                .open(&t2)
                .map_err(|e| io_err(&t2, e))
        })
        .await?;
        Ok(Box::new(LocalWriter {
            tmp,
            dest,
            file: Some(file),
            written: 0,
        }))
    }

    async fn get(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
        range: Option<Range<u64>>,
    ) -> StoreResult<Bytes> {
        let path = self.object_path(kind, id);
        let id = id.clone();
        blocking(move || {
            let mut file = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Err(StoreError::NotFound { kind, id });
                }
                Err(e) => return Err(io_err(&path, e)),
            };
            let Some(range) = range else {
                let mut buf = Vec::new();
                file.read_to_end(&mut buf).map_err(|e| io_err(&path, e))?;
                return Ok(Bytes::from(buf));
            };
            let out_of_range = |len: u64| StoreError::OutOfRange {
                kind,
                id: id.clone(),
                start: range.start,
                end: range.end,
                len,
            };
            if range.end < range.start {
                return Err(out_of_range(0));
            }
            let want = usize::try_from(range.end - range.start).map_err(|_| out_of_range(0))?;
            let mut buf = vec![0u8; want];
            match file.read_exact_at(&mut buf, range.start) {
                Ok(()) => Ok(Bytes::from(buf)),
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    Err(out_of_range(file.metadata().map(|m| m.len()).unwrap_or(0)))
                }
                Err(e) => Err(io_err(&path, e)),
            }
        })
        .await
    }

    async fn head(&self, kind: ObjectKind, id: &ObjectId) -> StoreResult<u64> {
        let path = self.object_path(kind, id);
        match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(StoreError::NotFound {
                kind,
                id: id.clone(),
            }),
            Err(e) => Err(io_err(&path, e)),
        }
    }

    async fn list_page(
        &self,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>> {
        let this = self.clone();
        let after = after.cloned();
        blocking(move || this.list_blocking(kind, after, limit)).await
    }

    async fn delete(&self, kind: ObjectKind, ids: &[ObjectId]) -> StoreResult<()> {
        let paths: Vec<PathBuf> = ids.iter().map(|id| self.object_path(kind, id)).collect();
        blocking(move || {
            let mut dirs = std::collections::BTreeSet::new();
            for path in &paths {
                match std::fs::remove_file(path) {
                    Ok(()) => {
                        if let Some(dir) = path.parent() {
                            dirs.insert(dir.to_path_buf());
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(path, e)),
                }
            }
            // One fsync per directory touched, not per object.
            for dir in dirs {
                sync_dir(&dir)?;
            }
            Ok(())
        })
        .await
    }
}

/// An object streamed to a temporary file. Writes run on the blocking pool with the
/// `Bytes` moved in, so sealed chunks reach the file without a copy.
#[derive(Debug)]
struct LocalWriter {
    /// The temporary file's path; empty once finished or aborted.
    tmp: PathBuf,
    dest: PathBuf,
    file: Option<std::fs::File>,
    written: u64,
}

#[async_trait]
impl ObjectWriter for LocalWriter {
    async fn write(&mut self, data: Bytes) -> StoreResult<()> {
        let mut file = self.file.take().ok_or(StoreError::WriterClosed)?;
        let path = self.tmp.clone();
        let len = data.len() as u64;
        // If this future is dropped meanwhile, the file handle is dropped in the task and
        // `Drop` still removes the temporary by its path.
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

    async fn finish(mut self: Box<Self>) -> StoreResult<()> {
        let file = self.file.take().ok_or(StoreError::WriterClosed)?;
        let tmp = std::mem::take(&mut self.tmp);
        let dest = std::mem::take(&mut self.dest);
        blocking(move || {
            let result = (|| {
                file.sync_all().map_err(|e| io_err(&tmp, e))?;
                drop(file);
                let dir = dest
                    .parent()
                    .ok_or_else(|| StoreError::permanent("object path has no parent"))?;
                ensure_dir(dir)?;
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
        let path = std::mem::take(&mut self.tmp);
        let _ = tokio::fs::remove_file(&path).await;
    }
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        // Neither finished nor aborted (e.g. the PUT future was dropped when the client
        // went away): remove the temporary now rather than at the next open.
        if !self.tmp.as_os_str().is_empty() {
            self.file.take();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
