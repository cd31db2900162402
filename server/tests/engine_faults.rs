//! Fault injection: a store wrapper that fails on the Nth write or the Nth pack finish
//! proves a failed PUT commits nothing, leaves no pack behind and keeps the previous
//! version; a commit that fails after the packs were written deletes them.

mod engine_support;

use std::sync::Arc;

use bytes::Bytes;
use coffer_server::backend::{FaultOp, Faults, FaultyStore, LocalStore, Store};
use coffer_server::engine::{EngineError, EngineTuning, PutOptions};
use engine_support::*;
use futures::StreamExt;

/// An engine on the local store of `dir`, behind a fault-injecting wrapper.
async fn faulty_engine(
    dir: &std::path::Path,
    tuning: EngineTuning,
) -> (coffer_server::engine::Engine, Arc<Faults>) {
    let local: Arc<dyn Store> = Arc::new(LocalStore::open("local", dir).unwrap());
    let (store, faults) = FaultyStore::new(local);
    (open_with(dir, Some(Arc::new(store)), tuning).await, faults)
}

#[tokio::test]
async fn failed_pack_writes_commit_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Small packs, so one PUT finishes several before failing.
    let tuning = EngineTuning {
        pack_target: 300 << 10,
        ..EngineTuning::default()
    };
    let (e, faults) = faulty_engine(dir.path(), tuning).await;
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
        assert!(faults.writes() >= w, "the fault was reached");
        assert!(faults.finishes() >= f, "the fault was reached");
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
    // The wrapper injects nothing here; it counts the pack finishes and deletes.
    let (e, faults) = faulty_engine(dir.path(), EngineTuning::default()).await;
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
    // The PUT got as far as a durable, named pack of its own before the commit failed
    // (a 2 MiB body is past the small-body limit, so it is not in a shared pack) …
    assert!(
        faults.finishes() >= 1,
        "a pack was written before the commit failed"
    );
    assert!(faults.calls(FaultOp::Delete) >= 1, "and it was deleted");
    // … and that pack is gone again.
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
