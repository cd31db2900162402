//! Small bodies that arrive together share pack files (group commit of pack
//! bytes): fewer files than objects, every object readable before and after
//! a restart, and a writer whose commit fails leaves the others' data alone.

mod engine_support;

use bytes::Bytes;
use coffer_server::engine::{EngineError, EngineTuning, PutOptions};
use engine_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_small_puts_share_pack_files() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    const N: usize = 64;
    let bodies: Vec<Vec<u8>> = (0..N).map(|i| data(4096 + i, i as u64 + 100)).collect();
    put_all_concurrently(&e, "bkt", &bodies).await;
    let files = pack_files(dir.path());
    assert!(
        files.len() < N,
        "{N} concurrent small PUTs wrote {} pack files",
        files.len()
    );
    assert_eq!(e.stats().unwrap().packs, files.len() as u64);
    for (i, b) in bodies.iter().enumerate() {
        assert!(
            get(&e, "bkt", &format!("k{i}")).await.unwrap() == *b,
            "k{i}"
        );
    }
    drop(e);
    let e = open(dir.path()).await;
    for (i, b) in bodies.iter().enumerate() {
        assert!(
            get(&e, "bkt", &format!("k{i}")).await.unwrap() == *b,
            "k{i} after reopen"
        );
    }
    // Overwriting every object frees their chunks; the packs' live bytes
    // follow each writer's share, not the whole pack.
    for (i, b) in bodies.iter().enumerate() {
        put(&e, "bkt", &format!("k{i}"), &b[..100]).await;
    }
    let s = e.stats().unwrap();
    assert_eq!(s.chunks_referenced, N as u64);
    assert_eq!(s.gc_queue, N as u64);
}

#[tokio::test]
async fn small_body_failing_verification_writes_no_pack() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let before = pack_files(dir.path());
    let r = e
        .put_object(
            "bkt",
            "k",
            body(b"hello", 1),
            PutOptions::default(),
            Box::new(|_: &_| Err(EngineError::BadDigest)),
        )
        .await;
    assert!(matches!(r, Err(EngineError::BadDigest)), "{r:?}");
    assert_eq!(pack_files(dir.path()), before);
    assert_eq!(e.stats().unwrap().packs, 0);
}

#[tokio::test]
async fn small_body_whose_commit_fails_leaves_only_dead_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    e.create_bucket("other").unwrap();
    let kept = data(5000, 7);
    put(&e, "other", "kept", &kept).await;
    let files_before = pack_files(dir.path()).len();
    // A small body that waits for a signal, so its bucket can vanish mid-PUT.
    let (stream, tx) = gated_body(
        Bytes::from_static(b"first half, "),
        Bytes::from_static(b"second half"),
    );
    let e2 = e.clone();
    let task = tokio::spawn(async move {
        e2.put_object("bkt", "k", stream, PutOptions::default(), ok_verify())
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    e.delete_bucket("bkt").unwrap();
    let stats = e.stats().unwrap();
    tx.send(()).unwrap();
    let r = task.await.unwrap();
    assert!(matches!(r, Err(EngineError::NoSuchBucket(_))), "{r:?}");
    // The shared pack stays (other writers may have used it); its record and
    // index are untouched by the failed writer.
    assert_eq!(e.stats().unwrap(), stats);
    assert_eq!(
        pack_files(dir.path()).len(),
        files_before + 1,
        "the failed writer did not delete the shared pack"
    );
    assert!(get(&e, "other", "kept").await.unwrap() == kept);
}

/// Regression: `add_pack` used to overwrite a pack's record for every writer
/// of a shared pack, resetting the live bytes the earlier writers had added.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_pack_live_bytes_count_every_writer() {
    const N: usize = 48;
    let bodies: Vec<Vec<u8>> = (0..N).map(|i| data(3000 + i, i as u64 + 500)).collect();

    // One at a time: every body gets a pack of its own.
    let seq_dir = tempfile::tempdir().unwrap();
    let seq = open(seq_dir.path()).await;
    seq.create_bucket("bkt").unwrap();
    for (i, b) in bodies.iter().enumerate() {
        put(&seq, "bkt", &format!("k{i}"), b).await;
    }
    let expected = seq.stats().unwrap().live_bytes;
    assert!(expected > 0);

    // All at once: bodies share packs; sealed sizes do not depend on that.
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    put_all_concurrently(&e, "bkt", &bodies).await;
    let s = e.stats().unwrap();
    assert!(s.packs < N as u64, "the bodies shared packs");
    assert_eq!(s.live_bytes, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_bodies_past_the_memory_budget_get_their_own_packs() {
    let dir = tempfile::tempdir().unwrap();
    let tuning = EngineTuning {
        small_body_budget: 0,
        ..EngineTuning::default()
    };
    let e = open_with(dir.path(), None, tuning).await;
    e.create_bucket("bkt").unwrap();
    const N: usize = 16;
    let bodies: Vec<Vec<u8>> = (0..N).map(|i| data(4096, i as u64 + 900)).collect();
    put_all_concurrently(&e, "bkt", &bodies).await;
    assert_eq!(pack_files(dir.path()).len(), N, "one pack per body");
    for (i, b) in bodies.iter().enumerate() {
        assert!(
            get(&e, "bkt", &format!("k{i}")).await.unwrap() == *b,
            "k{i}"
        );
    }
}
