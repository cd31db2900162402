//! Fault injection for tests: a wrapper around any store that fails chosen calls, so
//! tests can prove a failed write commits nothing and leaves nothing behind, and that the
//! retry wrapper retries exactly what it should.

use std::ops::Range;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;

use super::error::{ErrorClass, StoreError, StoreResult};
use super::kind::{ObjectId, ObjectKind};
use super::store::{ObjectInfo, ObjectWriter, Store};

/// The store calls a fault can be planned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultOp {
    PutStream,
    Put,
    Get,
    Head,
    List,
    Delete,
}

/// What to fail; shared between a test and its [`FaultyStore`].
#[derive(Debug, Default)]
pub struct Faults {
    enabled: AtomicBool,
    writes: AtomicUsize,
    finishes: AtomicUsize,
    /// Fail the streamed write with this (1-based) number; 0 = none.
    fail_write: AtomicUsize,
    /// Fail the writer finish with this (1-based) number; 0 = none.
    fail_finish: AtomicUsize,
    /// Upcoming calls to fail: (call, how many more, with which class).
    planned: Mutex<Vec<(FaultOp, usize, ErrorClass)>>,
    calls: Mutex<Vec<FaultOp>>,
}

impl Faults {
    /// Resets the counters and fails streamed write number `write` and finish number
    /// `finish` from now on (1-based; 0 = never).
    pub fn arm(&self, write: usize, finish: usize) {
        self.writes.store(0, Ordering::SeqCst);
        self.finishes.store(0, Ordering::SeqCst);
        self.fail_write.store(write, Ordering::SeqCst);
        self.fail_finish.store(finish, Ordering::SeqCst);
        self.enabled.store(true, Ordering::SeqCst);
    }

    /// Stops failing writes and finishes (planned call failures stay planned).
    pub fn disarm(&self) {
        self.enabled.store(false, Ordering::SeqCst);
    }

    /// Streamed writes seen since the last [`Faults::arm`].
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// Writer finishes seen since the last [`Faults::arm`].
    pub fn finishes(&self) -> usize {
        self.finishes.load(Ordering::SeqCst)
    }

    /// Fails the next `times` calls of `op` with an error of `class`.
    pub fn fail_next(&self, op: FaultOp, times: usize, class: ErrorClass) {
        self.planned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((op, times, class));
    }

    /// How many times `op` was called.
    pub fn calls(&self, op: FaultOp) -> usize {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|o| **o == op)
            .count()
    }

    fn check(&self, op: FaultOp) -> StoreResult<()> {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(op);
        let mut planned = self.planned.lock().unwrap_or_else(|p| p.into_inner());
        let Some(slot) = planned.iter_mut().find(|(o, n, _)| *o == op && *n > 0) else {
            return Ok(());
        };
        slot.1 -= 1;
        Err(injected(slot.2, format!("injected failure of {op:?}")))
    }

    fn hit(&self, counter: &AtomicUsize, target: &AtomicUsize) -> Option<usize> {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        (self.enabled.load(Ordering::SeqCst) && n == target.load(Ordering::SeqCst)).then_some(n)
    }
}

fn injected(class: ErrorClass, message: String) -> StoreError {
    StoreError::Failed { class, message }
}

/// A store that fails what its [`Faults`] say, and otherwise passes calls through.
#[derive(Debug, Clone)]
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Arc<Faults>,
}

impl FaultyStore {
    /// Wraps `inner`; returns the store and the handle that steers it.
    pub fn new(inner: Arc<dyn Store>) -> (Self, Arc<Faults>) {
        let faults = Arc::new(Faults::default());
        (
            FaultyStore {
                inner,
                faults: faults.clone(),
            },
            faults,
        )
    }
}

#[async_trait]
impl Store for FaultyStore {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn put_stream(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> StoreResult<Box<dyn ObjectWriter>> {
        self.faults.check(FaultOp::PutStream)?;
        Ok(Box::new(FaultyWriter {
            inner: self.inner.put_stream(kind, id).await?,
            faults: self.faults.clone(),
        }))
    }

    async fn put(&self, kind: ObjectKind, id: &ObjectId, body: Bytes) -> StoreResult<()> {
        self.faults.check(FaultOp::Put)?;
        self.inner.put(kind, id, body).await
    }

    async fn get(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
        range: Option<Range<u64>>,
    ) -> StoreResult<Bytes> {
        self.faults.check(FaultOp::Get)?;
        self.inner.get(kind, id, range).await
    }

    async fn head(&self, kind: ObjectKind, id: &ObjectId) -> StoreResult<u64> {
        self.faults.check(FaultOp::Head)?;
        self.inner.head(kind, id).await
    }

    async fn list_page(
        &self,
        kind: ObjectKind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> StoreResult<Vec<ObjectInfo>> {
        self.faults.check(FaultOp::List)?;
        self.inner.list_page(kind, after, limit).await
    }

    async fn delete(&self, kind: ObjectKind, ids: &[ObjectId]) -> StoreResult<()> {
        self.faults.check(FaultOp::Delete)?;
        self.inner.delete(kind, ids).await
    }
}

#[derive(Debug)]
struct FaultyWriter {
    inner: Box<dyn ObjectWriter>,
    faults: Arc<Faults>,
}

#[async_trait]
impl ObjectWriter for FaultyWriter {
    async fn write(&mut self, data: Bytes) -> StoreResult<()> {
        if let Some(n) = self
            .faults
            .hit(&self.faults.writes, &self.faults.fail_write)
        {
            return Err(StoreError::transient(format!(
                "injected failure on write {n}"
            )));
        }
        self.inner.write(data).await
    }

    fn written(&self) -> u64 {
        self.inner.written()
    }

    async fn finish(self: Box<Self>) -> StoreResult<()> {
        if let Some(n) = self
            .faults
            .hit(&self.faults.finishes, &self.faults.fail_finish)
        {
            self.inner.abort().await;
            return Err(StoreError::transient(format!(
                "injected failure on finish {n}"
            )));
        }
        self.inner.finish().await
    }

    async fn abort(self: Box<Self>) {
        self.inner.abort().await
    }
}
