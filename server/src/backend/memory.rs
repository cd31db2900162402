//! The memory store: objects in a map, for tests. An object appears in the map only when
//! its writer finishes, like a real store's atomic put.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};

use super::error::{StoreError, StoreResult};
use super::kind::{ObjectId, ObjectKind};
use super::store::{ObjectInfo, ObjectWriter, Store};

type Objects = BTreeMap<(ObjectKind, ObjectId), Bytes>;

/// Repository objects in memory; clones share the same objects.
#[derive(Debug, Clone)]
pub struct MemoryStore {
    name: Arc<str>,
    objects: Arc<Mutex<Objects>>,
}

impl MemoryStore {
    /// An empty store called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        MemoryStore {
            name: Arc::from(name.into()),
            objects: Arc::default(),
        }
    }

    /// Number of stored objects of `kind`.
    pub fn count(&self, kind: ObjectKind) -> usize {
        self.lock().keys().filter(|(k, _)| *k == kind).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Objects> {
        // A panic while holding the lock cannot leave the map half-updated (every
        // update is one insert or remove), so a poisoned lock is still usable.
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn name(&self) -> &str {
        &self.name
    }

    async fn put_stream(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> StoreResult<Box<dyn ObjectWriter>> {
        Ok(Box::new(MemoryWriter {
            store: self.clone(),
            key: Some((kind, id.clone())),
            buf: BytesMut::new(),
        }))
    }

    async fn put(&self, kind: ObjectKind, id: &ObjectId, body: Bytes) -> StoreResult<()> {
        self.lock().insert((kind, id.clone()), body);
        Ok(())
    }

    async fn get(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
        range: Option<Range<u64>>,
    ) -> StoreResult<Bytes> {
        let body = self
            .lock()
            .get(&(kind, id.clone()))
            .cloned()
            .ok_or_else(|| StoreError::NotFound {
                kind,
                id: id.clone(),
            })?;
        let Some(r) = range else { return Ok(body) };
        let len = body.len() as u64;
        if r.start > r.end || r.end > len {
            return Err(StoreError::OutOfRange {
                kind,
                id: id.clone(),
                start: r.start,
                end: r.end,
                len,
            });
        }
        Ok(body.slice(r.start as usize..r.end as usize))
    }

    async fn head(&self, kind: ObjectKind, id: &ObjectId) -> StoreResult<u64> {
        self.lock()
            .get(&(kind, id.clone()))
            .map(|b| b.len() as u64)
            .ok_or_else(|| StoreError::NotFound {
                kind,
                id: id.clone(),
            })
    }

    async fn list_page(
        &self,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>> {
        let objects = self.lock();
        Ok(objects
            .iter()
            .filter(|((k, id), _)| *k == kind && after.is_none_or(|a| id > a))
            .take(limit)
            .map(|((_, id), b)| ObjectInfo {
                id: id.clone(),
                len: b.len() as u64,
            })
            .collect())
    }

    async fn delete(&self, kind: ObjectKind, ids: &[ObjectId]) -> StoreResult<()> {
        let mut objects = self.lock();
        for id in ids {
            objects.remove(&(kind, id.clone()));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct MemoryWriter {
    store: MemoryStore,
    /// Where the object goes; `None` once finished or aborted.
    key: Option<(ObjectKind, ObjectId)>,
    buf: BytesMut,
}

#[async_trait]
impl ObjectWriter for MemoryWriter {
    async fn write(&mut self, data: Bytes) -> StoreResult<()> {
        if self.key.is_none() {
            return Err(StoreError::WriterClosed);
        }
        self.buf.extend_from_slice(&data);
        Ok(())
    }

    fn written(&self) -> u64 {
        self.buf.len() as u64
    }

    async fn finish(mut self: Box<Self>) -> StoreResult<()> {
        let key = self.key.take().ok_or(StoreError::WriterClosed)?;
        let body = std::mem::take(&mut self.buf).freeze();
        self.store.lock().insert(key, body);
        Ok(())
    }

    async fn abort(mut self: Box<Self>) {
        self.key = None;
    }
}
