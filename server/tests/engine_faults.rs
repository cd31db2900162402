//! Fault injection: a backend wrapper that fails on the Nth write or the Nth
//! pack finish proves a failed PUT commits nothing, leaves no pack behind and
//! keeps the previous version; a commit that fails after the packs were
//! written deletes them.

mod engine_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use coffer_repo::PackId;
use coffer_server::backend::{Backend, BackendError, BackendResult, LocalBackend, PackWriter};
use coffer_server::engine::{EngineError, EngineTuning, PutOptions};
use engine_support::*;
use futures::StreamExt;

#[derive(Debug, Default)]
struct Faults {
    enabled: AtomicBool,
    writes: AtomicUsize,
    finishes: AtomicUsize,
    /// Fail the write with this (1-based) number.
    fail_write: AtomicUsize,
    /// Fail the pack finish with this (1-based) number.
    fail_finish: AtomicUsize,
}

impl Faults {
    fn arm(&self, write: usize, finish: usize) {
        self.writes.store(0, Ordering::SeqCst);
        self.finishes.store(0, Ordering::SeqCst);
        self.fail_write.store(write, Ordering::SeqCst);
        self.fail_finish.store(finish, Ordering::SeqCst);
        self.enabled.store(true, Ordering::SeqCst);
    }
    fn disarm(&self) {
        self.enabled.store(false, Ordering::SeqCst);
    }
}

#[derive(Debug)]
struct FaultyBackend {
    inner: LocalBackend,
    faults: Arc<Faults>,
}

#[derive(Debug)]
struct FaultyWriter {
    inner: Box<dyn PackWriter>,
    faults: Arc<Faults>,
}

#[async_trait]
impl Backend for FaultyBackend {
    async fn create_pack(&self) -> BackendResult<Box<dyn PackWriter>> {
        Ok(Box::new(FaultyWriter {
            inner: self.inner.create_pack().await?,
            faults: self.faults.clone(),
        }))
    }
    async fn read_range(&self, pack: &PackId, offset: u64, len: u64) -> BackendResult<Bytes> {
        self.inner.read_range(pack, offset, len).await
    }
    async fn pack_len(&self, pack: &PackId) -> BackendResult<u64> {
        self.inner.pack_len(pack).await
    }
    async fn list_packs(&self) -> BackendResult<Vec<PackId>> {
        self.inner.list_packs().await
    }
    async fn delete_pack(&self, pack: &PackId) -> BackendResult<()> {
        self.inner.delete_pack(pack).await
    }
}

#[async_trait]
impl PackWriter for FaultyWriter {
    async fn write(&mut self, data: Bytes) -> BackendResult<()> {
        let n = self.faults.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if self.faults.enabled.load(Ordering::SeqCst)
            && n == self.faults.fail_write.load(Ordering::SeqCst)
        {
            return Err(BackendError::Other(format!(
                "injected failure on write {n}"
            )));
        }
        self.inner.write(data).await
    }
    fn written(&self) -> u64 {
        self.inner.written()
    }
    async fn finish(self: Box<Self>, id: &PackId) -> BackendResult<()> {
        let n = self.faults.finishes.fetch_add(1, Ordering::SeqCst) + 1;
        if self.faults.enabled.load(Ordering::SeqCst)
            && n == self.faults.fail_finish.load(Ordering::SeqCst)
        {
            self.inner.abort().await;
            return Err(BackendError::Other(format!(
                "injected failure on finish {n}"
            )));
        }
        self.inner.finish(id).await
    }
    async fn abort(self: Box<Self>) {
        self.inner.abort().await
    }
}

async fn faulty_engine(dir: &std::path::Path) -> (coffer_server::engine::Engine, Arc<Faults>) {
    let faults = Arc::new(Faults::default());
    let local = LocalBackend::open(dir.join("packs")).unwrap();
    let backend: Arc<dyn Backend> = Arc::new(FaultyBackend {
        inner: local,
        faults: faults.clone(),
    });
    // Small packs, so one PUT finishes several before failing.
    let tuning = EngineTuning {
        pack_target: 300 << 10,
        ..EngineTuning::default()
    };
    (open_with(dir, Some(backend), tuning).await, faults)
}

#[tokio::test]
async fn failed_pack_writes_commit_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (e, faults) = faulty_engine(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let old = data(1 << 20, 1);
    put(&e, "bkt", "k", &old).await;
    let files = pack_files(dir.path());
    let stats = e.stats().unwrap();
    let new = data(4 << 20, 2);

    // (write number, finish number) to fail: mid-first-pack, after several
    // finished packs, on the first finish, on a later finish.
    for (w, f) in [(1, 0), (2, 0), (25, 0), (0, 1), (0, 3)] {
        faults.arm(w, f);
        let opts = PutOptions {
            expected_size: Some(new.len() as u64),
            ..PutOptions::default()
        };
        let r = e
            .put_object("bkt", "k", body(&new, 3), opts, ok_verify())
            .await;
        assert!(
            matches!(r, Err(EngineError::Backend(_))),
            "write {w} finish {f}: {r:?}"
        );
        assert!(
            faults.writes.load(Ordering::SeqCst) >= w,
            "the fault was reached"
        );
        assert_eq!(
            get(&e, "bkt", "k").await.unwrap(),
            old,
            "previous version intact"
        );
        assert_eq!(
            pack_files(dir.path()),
            files,
            "write {w} finish {f}: nothing left in packs/"
        );
        assert_eq!(
            e.stats().unwrap(),
            stats,
            "write {w} finish {f}: metadata unchanged"
        );
    }
    // A small object's single pack failing to finish.
    faults.arm(0, 1);
    let opts = PutOptions::default();
    let r = e
        .put_object("bkt", "small", body(b"tiny object", 1), opts, ok_verify())
        .await;
    assert!(matches!(r, Err(EngineError::Backend(_))), "{r:?}");
    assert!(matches!(
        e.head_object("bkt", "small", None),
        Err(EngineError::NoSuchKey)
    ));
    assert_eq!(pack_files(dir.path()), files);

    // Once the backend recovers, the same PUT goes through.
    faults.disarm();
    put(&e, "bkt", "k", &new).await;
    assert!(get(&e, "bkt", "k").await.unwrap() == new);
    drop(e);
    // And it survives a restart.
    let e = open(dir.path()).await;
    assert!(get(&e, "bkt", "k").await.unwrap() == new);
}

#[tokio::test]
async fn failed_commit_deletes_the_written_packs() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let files = pack_files(dir.path());
    let payload = data(2 << 20, 4);
    // A body that waits for a signal halfway, so the bucket can vanish mid-PUT.
    let (stream, tx) = gated_body(
        Bytes::copy_from_slice(&payload[..1 << 20]),
        Bytes::copy_from_slice(&payload[1 << 20..]),
    );
    let e2 = e.clone();
    let task = tokio::spawn(async move {
        e2.put_object("bkt", "k", stream, PutOptions::default(), ok_verify())
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    e.delete_bucket("bkt").unwrap();
    tx.send(()).unwrap();
    let r = task.await.unwrap();
    assert!(matches!(r, Err(EngineError::NoSuchBucket(_))), "{r:?}");
    assert_eq!(
        pack_files(dir.path()),
        files,
        "the uncommitted packs were deleted"
    );
    let s = e.stats().unwrap();
    assert_eq!((s.packs, s.chunks_indexed, s.versions), (0, 0, 0));
}

#[tokio::test]
async fn stale_temporaries_are_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()).await);
    let tmp = dir.path().join("packs").join("tmp");
    std::fs::write(tmp.join("crashed-upload.tmp"), b"half a pack").unwrap();
    let e = open(dir.path()).await;
    assert!(std::fs::read_dir(&tmp).unwrap().next().is_none());
    assert_eq!(e.stats().unwrap().packs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_put_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    // Past the small-body limit (so the body has a pack file of its own),
    // then a body that never ends (a client that stalls).
    let first = Bytes::from(data(3 << 20, 9));
    let stream = futures::stream::iter(vec![Ok::<_, std::io::Error>(first)])
        .chain(futures::stream::pending());
    let e2 = e.clone();
    let task = tokio::spawn(async move {
        e2.put_object(
            "bkt",
            "k",
            Box::pin(stream),
            PutOptions::default(),
            ok_verify(),
        )
        .await
    });
    let tmp = dir.path().join("packs").join("tmp");
    // Wait until the PUT has started a pack.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_dir(&tmp).unwrap().next().is_none() {
        assert!(std::time::Instant::now() < deadline, "no pack was started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    task.abort();
    let _ = task.await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_dir(&tmp).unwrap().next().is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "temporary left behind"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(matches!(
        e.head_object("bkt", "k", None),
        Err(EngineError::NoSuchKey)
    ));
    assert_eq!(e.stats().unwrap().packs, 0);
}
