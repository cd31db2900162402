//! Engine tests: repository creation, buckets, PUT/GET/HEAD/DELETE, dedup,
//! ranges, failures that must store nothing, reopening.

mod engine_support;

use std::os::unix::fs::PermissionsExt;

use coffer_repo::{ChunkerParams, StreamChunker};
use coffer_server::engine::{
    ByteRange, ChecksumAlgorithm, Digests, Engine, EngineError, ObjectMeta, PutOptions,
    VersioningState,
};
use engine_support::*;

#[tokio::test]
async fn first_start_creates_repository_and_root_key() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, report) = Engine::open(options(dir.path(), small_chunker()))
        .await
        .unwrap();
    let report = report.expect("first start reports the new repository");
    let key_file = dir.path().join("master.key");
    assert_eq!(report.master_key_file, key_file);
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // The repository config lives in the (local) store, not beside it.
    assert!(dir.path().join("config").join("repo").is_file());
    assert!(!dir.path().join("repo.config").exists());
    assert!(dir.path().join("meta.redb").is_file());
    assert_eq!(
        engine
            .secret_key(&report.root_access_key)
            .unwrap()
            .as_deref(),
        Some(report.root_secret_key.as_str())
    );
    assert_eq!(engine.secret_key("nobody").unwrap(), None);
    drop(engine);

    // The secret never sits in plaintext in any file of the data dir.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let needle = report.root_secret_key.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "secret found in {}",
                path.display()
            );
        }
    }

    let (engine, again) = Engine::open(options(dir.path(), small_chunker()))
        .await
        .unwrap();
    assert!(again.is_none(), "later starts report nothing");
    assert_eq!(
        engine
            .secret_key(&report.root_access_key)
            .unwrap()
            .as_deref(),
        Some(report.root_secret_key.as_str())
    );
}

#[tokio::test]
async fn configured_root_key_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), small_chunker());
    opts.root_access_key = Some("AKIATESTROOT".into());
    opts.root_secret_key = Some("s3cr3t/with+chars".into());
    let (engine, report) = Engine::open(opts).await.unwrap();
    let report = report.unwrap();
    assert_eq!(report.root_access_key, "AKIATESTROOT");
    assert_eq!(report.root_secret_key, "s3cr3t/with+chars");
    assert_eq!(
        engine.secret_key("AKIATESTROOT").unwrap().as_deref(),
        Some("s3cr3t/with+chars")
    );
}

#[tokio::test]
async fn group_readable_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(
        Engine::open(options(dir.path(), small_chunker()))
            .await
            .unwrap(),
    );
    let key_file = dir.path().join("master.key");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(
        Engine::open(options(dir.path(), small_chunker()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn lost_metadata_with_packs_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    {
        let e = open(dir.path()).await;
        e.create_bucket("bkt").unwrap();
        put(&e, "bkt", "k", b"data").await;
    }
    std::fs::remove_file(dir.path().join("meta.redb")).unwrap();
    let r = Engine::open(options(dir.path(), small_chunker())).await;
    assert!(r.is_err(), "must not start empty over existing packs");
}

#[tokio::test]
async fn buckets() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("alpha").unwrap();
    e.create_bucket("beta.1").unwrap();
    assert!(matches!(
        e.create_bucket("alpha"),
        Err(EngineError::BucketAlreadyOwnedByYou(_))
    ));
    for bad in ["ab", "Upper", "a_b", "192.168.0.1", "xn--x", "a..b", "-ab"] {
        assert!(
            matches!(e.create_bucket(bad), Err(EngineError::InvalidBucketName(_))),
            "{bad}"
        );
    }
    let names: Vec<String> = e
        .list_buckets()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["alpha", "beta.1"]);
    assert_eq!(
        e.bucket("alpha").unwrap().versioning,
        VersioningState::Unversioned
    );
    assert!(matches!(
        e.bucket("gamma"),
        Err(EngineError::NoSuchBucket(_))
    ));

    put(&e, "alpha", "k", b"x").await;
    assert!(matches!(
        e.delete_bucket("alpha"),
        Err(EngineError::BucketNotEmpty(_))
    ));
    e.delete_object("alpha", "k", None).await.unwrap();
    e.delete_bucket("alpha").unwrap();
    assert!(matches!(
        e.delete_bucket("alpha"),
        Err(EngineError::NoSuchBucket(_))
    ));
    assert!(matches!(
        e.bucket("alpha"),
        Err(EngineError::NoSuchBucket(_))
    ));

    // In-progress multipart uploads do not keep a bucket alive (as in AWS):
    // they are aborted with it.
    let up = e
        .create_multipart("beta.1", "m", ObjectMeta::default(), None)
        .unwrap();
    e.delete_bucket("beta.1").unwrap();
    assert!(matches!(
        e.abort_multipart("beta.1", "m", &up.upload_id),
        Err(EngineError::NoSuchBucket(_))
    ));
}

#[tokio::test]
async fn large_streamed_round_trip_with_metadata_and_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let data = data(7 << 20, 1);
    let meta = ObjectMeta {
        content_type: Some("application/x-test".into()),
        system: vec![("cache-control".into(), "no-cache".into())],
        user: vec![("owner".into(), "me".into())],
        tags: vec![("tier".into(), "cold".into())],
        lock: Default::default(),
    };
    let opts = PutOptions {
        meta: meta.clone(),
        checksums: vec![
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Sha256,
            ChecksumAlgorithm::Crc64Nvme,
        ],
        expected_size: Some(data.len() as u64),
        ..PutOptions::default()
    };
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<Digests>));
    let seen2 = seen.clone();
    let verify = Box::new(move |d: &Digests| {
        *seen2.lock().unwrap() = Some(d.clone());
        Ok(())
    });
    let info = e
        .put_object("bkt", "dir/../weird//key", body(&data, 9), opts, verify)
        .await
        .unwrap();
    assert_eq!(info.etag, md5_hex(&data));
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(
        info.version_id, None,
        "unversioned buckets report no version id"
    );
    let d = seen.lock().unwrap().clone().unwrap();
    assert_eq!(hex::encode(d.md5), md5_hex(&data));
    assert_eq!(d.size, data.len() as u64);
    assert_eq!(d.checksums.len(), 3);
    {
        use sha2::Digest;
        assert_eq!(
            d.checksums[1],
            (
                ChecksumAlgorithm::Sha256,
                sha2::Sha256::digest(&data).to_vec()
            )
        );
    }

    let head = e.head_object("bkt", "dir/../weird//key", None).unwrap();
    assert_eq!(head.meta, meta);
    assert_eq!(head.checksums, d.checksums);
    assert!(head.checksum_full_object);
    assert!(head.is_latest);
    let got = collect(e.read_object(&head, None).unwrap()).await.unwrap();
    assert!(got == data, "round trip differs");
}

/// Cut points of `data` under `params`, as the engine's chunker makes them.
fn cut_points(params: ChunkerParams, data: &[u8]) -> Vec<u64> {
    let mut c = StreamChunker::new(params);
    let mut cuts = Vec::new();
    let mut at = 0u64;
    for chunk in c.push(bytes::Bytes::copy_from_slice(data)) {
        at += chunk.len() as u64;
        cuts.push(at);
    }
    cuts
}

#[tokio::test]
async fn ranges_at_chunk_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let data = data(3 << 20, 2);
    put(&e, "bkt", "k", &data).await;
    let info = e.head_object("bkt", "k", None).unwrap();
    let cuts = cut_points(small_chunker(), &data);
    assert!(cuts.len() > 10, "want many chunks, got {}", cuts.len());
    let n = data.len() as u64;
    let mut ranges = vec![(0, 0), (0, n - 1), (n - 1, n - 1), (1, n - 2)];
    for &c in cuts.iter().take(6) {
        ranges.extend([
            (c - 1, c - 1),
            (c, c),
            (c - 1, c),
            (c, c + 100_000),
            (c - 5, c + 300_000),
        ]);
    }
    for (s, end) in ranges {
        let end = end.min(n - 1);
        let r = ByteRange {
            start: s,
            end_inclusive: end,
        };
        let got = collect(e.read_object(&info, Some(r)).unwrap())
            .await
            .unwrap();
        assert!(got == data[s as usize..=end as usize], "range {s}-{end}");
    }
    assert!(matches!(
        e.read_object(
            &info,
            Some(ByteRange {
                start: 0,
                end_inclusive: n
            })
        ),
        Err(EngineError::InvalidRange)
    ));
}

#[tokio::test]
async fn zero_byte_object() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let before = pack_bytes(dir.path());
    let info = put(&e, "bkt", "empty", b"").await;
    assert_eq!(info.etag, "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(info.size, 0);
    assert_eq!(get(&e, "bkt", "empty").await.unwrap(), b"");
    assert_eq!(
        pack_bytes(dir.path()),
        before,
        "no pack for an empty object"
    );
}

#[tokio::test]
async fn same_data_under_two_keys_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    // Production chunk sizes.
    let e = Engine::open(options(dir.path(), ChunkerParams::default()))
        .await
        .unwrap()
        .0;
    e.create_bucket("bkt").unwrap();
    let mut data = data(20 << 20, 3);
    // Incompressible, so the comparison is about dedup, not zstd.
    rand::Rng::fill(
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(4),
        &mut data[..],
    );
    put(&e, "bkt", "one", &data).await;
    let after_one = pack_bytes(dir.path());
    assert!(
        after_one >= data.len() as u64,
        "sealed random data cannot be smaller"
    );
    put(&e, "bkt", "two", &data).await;
    let after_two = pack_bytes(dir.path());
    let growth = after_two - after_one;
    assert!(
        growth * 20 < data.len() as u64,
        "second copy grew packs by {growth} bytes"
    );
    assert_eq!(get(&e, "bkt", "two").await.unwrap(), data);
    let s = e.stats().unwrap();
    assert_eq!(s.gc_queue, 0);
    assert_eq!(s.chunks_indexed, s.chunks_referenced);
}

#[tokio::test]
async fn failing_body_stores_nothing_and_keeps_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let old = data(1 << 20, 5);
    put(&e, "bkt", "k", &old).await;
    let files = pack_files(dir.path());
    let stats = e.stats().unwrap();

    let new = data(3 << 20, 6);
    let r = e
        .put_object(
            "bkt",
            "k",
            failing_body(&new),
            PutOptions::default(),
            ok_verify(),
        )
        .await;
    assert!(matches!(r, Err(EngineError::Body(_))), "{r:?}");
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), old);
    assert_eq!(
        pack_files(dir.path()),
        files,
        "no pack (or temp file) left behind"
    );
    assert_eq!(e.stats().unwrap(), stats);
}

#[tokio::test]
async fn failing_verify_or_wrong_length_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let old = data(100_000, 7);
    put(&e, "bkt", "k", &old).await;
    let files = pack_files(dir.path());
    let stats = e.stats().unwrap();
    let new = data(2 << 20, 8);

    let bad_md5 = Box::new(|_: &Digests| Err(EngineError::BadDigest));
    let r = e
        .put_object("bkt", "k", body(&new, 1), PutOptions::default(), bad_md5)
        .await;
    assert!(matches!(r, Err(EngineError::BadDigest)), "{r:?}");

    for declared in [new.len() as u64 - 1, new.len() as u64 + 1] {
        let opts = PutOptions {
            expected_size: Some(declared),
            ..PutOptions::default()
        };
        let r = e
            .put_object("bkt", "k", body(&new, 2), opts, ok_verify())
            .await;
        assert!(
            matches!(r, Err(EngineError::IncompleteBody)),
            "{declared}: {r:?}"
        );
    }
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), old);
    assert_eq!(pack_files(dir.path()), files);
    assert_eq!(e.stats().unwrap(), stats);
}

#[tokio::test]
async fn overwrite_and_delete_return_refcounts_to_zero() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let a = data(2 << 20, 10);
    put(&e, "bkt", "k", &a).await;
    let s1 = e.stats().unwrap();
    assert!(s1.chunks_referenced > 5);
    assert_eq!(s1.gc_queue, 0);
    // Overwriting the null version drops the old one's references.
    let b = data(2 << 20, 11);
    put(&e, "bkt", "k", &b).await;
    let s2 = e.stats().unwrap();
    assert_eq!(s2.versions, 1);
    assert!(s2.gc_queue > 0, "the replaced version's chunks are queued");
    e.delete_object("bkt", "k", None).await.unwrap();
    let s3 = e.stats().unwrap();
    assert_eq!(s3.chunks_referenced, 0);
    assert_eq!(s3.gc_queue, s3.chunks_indexed);
    assert_eq!(s3.live_bytes, 0);
    assert_eq!(s3.versions, 0);
    assert!(matches!(
        e.head_object("bkt", "k", None),
        Err(EngineError::NoSuchKey)
    ));
    // Deleting again is fine (S3 answers 204).
    e.delete_object("bkt", "k", None).await.unwrap();
    // Putting the first data again revives its queued chunks instead of storing them anew.
    let before = pack_bytes(dir.path());
    put(&e, "bkt", "k", &a).await;
    assert_eq!(pack_bytes(dir.path()), before);
    let s4 = e.stats().unwrap();
    assert_eq!(s4.chunks_referenced, s1.chunks_referenced);
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), a);
}

#[tokio::test]
async fn reopen_sees_everything_committed() {
    let dir = tempfile::tempdir().unwrap();
    let a = data(1 << 20, 12);
    {
        let e = open(dir.path()).await;
        e.create_bucket("bkt").unwrap();
        e.set_versioning("bkt", VersioningState::Enabled).unwrap();
        put(&e, "bkt", "k", &a).await;
        put(&e, "bkt", "k2", b"small").await;
    }
    let e = open(dir.path()).await;
    assert_eq!(
        e.bucket("bkt").unwrap().versioning,
        VersioningState::Enabled
    );
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), a);
    assert_eq!(get(&e, "bkt", "k2").await.unwrap(), b"small");
    // Sequence numbers keep increasing across restarts: the new version is the latest.
    put(&e, "bkt", "k", b"newer").await;
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), b"newer");
}

#[tokio::test]
async fn keys_are_opaque() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let long = "k".repeat(1024);
    for key in [
        "/leading",
        "a//b",
        "../up",
        "sp ace",
        "ünïcødé/ключ",
        "nul\0inside",
        long.as_str(),
    ] {
        put(&e, "bkt", key, key.as_bytes()).await;
        assert_eq!(
            get(&e, "bkt", key).await.unwrap(),
            key.as_bytes(),
            "{key:?}"
        );
    }
    let too_long = "k".repeat(1025);
    let r = e
        .put_object(
            "bkt",
            &too_long,
            body(b"x", 1),
            PutOptions::default(),
            ok_verify(),
        )
        .await;
    assert!(matches!(r, Err(EngineError::KeyTooLong)));
    let r = e
        .put_object(
            "nope",
            "k",
            body(b"x", 1),
            PutOptions::default(),
            ok_verify(),
        )
        .await;
    assert!(matches!(r, Err(EngineError::NoSuchBucket(_))));
}

#[tokio::test]
async fn copy_is_by_reference() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    e.create_bucket("cbk").unwrap();
    let a = data(2 << 20, 13);
    put(&e, "bkt", "src", &a).await;
    let before = pack_bytes(dir.path());
    let src = e.head_object("bkt", "src", None).unwrap();
    let meta = ObjectMeta {
        content_type: Some("text/plain".into()),
        ..ObjectMeta::default()
    };
    let copied = e
        .copy_object(&src, "cbk", "dst", Some(meta.clone()))
        .await
        .unwrap();
    assert_eq!(copied.etag, src.etag);
    assert_eq!(pack_bytes(dir.path()), before, "copy writes no data");
    assert_eq!(e.head_object("cbk", "dst", None).unwrap().meta, meta);
    e.delete_object("bkt", "src", None).await.unwrap();
    assert_eq!(get(&e, "cbk", "dst").await.unwrap(), a);
}

#[tokio::test]
async fn clock_speedup() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), small_chunker());
    opts.clock_speedup = 86_400.0;
    let e = Engine::open(opts).await.unwrap().0;
    let t0 = e.now();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(e.now() - t0 >= time::Duration::hours(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_puts_of_the_same_new_data() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let payload = std::sync::Arc::new(data(2 << 20, 20));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (e, payload) = (e.clone(), payload.clone());
        tasks.push(tokio::spawn(async move {
            put(&e, "bkt", &format!("k{i}"), &payload).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().etag, md5_hex(&payload));
    }
    for i in 0..8 {
        assert!(get(&e, "bkt", &format!("k{i}")).await.unwrap() == *payload);
    }
    let s = e.stats().unwrap();
    assert_eq!(
        s.chunks_indexed, s.chunks_referenced,
        "one index entry per distinct chunk"
    );
    assert_eq!(
        s.chunks_indexed as usize,
        cut_points(small_chunker(), &payload).len() + 1
    );
    for i in 0..8 {
        e.delete_object("bkt", &format!("k{i}"), None)
            .await
            .unwrap();
    }
    let s = e.stats().unwrap();
    assert_eq!((s.chunks_referenced, s.live_bytes), (0, 0));
}

#[tokio::test]
async fn delete_objects_in_one_transaction() {
    use coffer_server::engine::VersionId;
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let mut items = Vec::new();
    for i in 0..40 {
        put(&e, "bkt", &format!("k{i}"), format!("value {i}").as_bytes()).await;
        items.push((format!("k{i}"), None));
    }
    items.push(("never-existed".to_string(), None));
    items.push(("k1".to_string(), Some(VersionId::Id("not-an-id".into()))));
    let results = e.delete_objects("bkt", &items, false).await.unwrap();
    assert_eq!(results.len(), items.len());
    assert!(results[..41].iter().all(|r| r.is_ok()));
    assert!(matches!(results[41], Err(EngineError::InvalidArgument(_))));
    let s = e.stats().unwrap();
    assert_eq!((s.versions, s.chunks_referenced), (0, 0));
    assert!(matches!(
        e.delete_objects("nobucket", &items, false).await,
        Err(EngineError::NoSuchBucket(_))
    ));
    e.delete_bucket("bkt").unwrap();
}

/// Under a GET data budget smaller than any chunk, every chunk takes all of
/// it: a GET whose first chunk is held unread (a client that does not read)
/// makes the next GET wait, and once it is dropped the next one is served
/// whole and correct, and the budget is all given back.
#[tokio::test]
async fn gets_wait_for_the_read_budget_and_give_it_back() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let budget = 20_000; // under the smallest chunk's sealed + plain bytes
    let e = open_with(
        dir.path(),
        None,
        coffer_server::engine::EngineTuning {
            read_buffer_bytes: budget,
            ..Default::default()
        },
    )
    .await;
    e.create_bucket("bkt").unwrap();
    let data = data(1 << 20, 7);
    put(&e, "bkt", "k", &data).await;
    let info = e.head_object("bkt", "k", None).unwrap();
    assert_eq!(e.read_buffer_usage(), (0, budget));

    let mut stalled = e.read_object(&info, None).unwrap();
    let first = stalled.next().await.unwrap().unwrap();
    assert_eq!(first[..], data[..first.len()]);
    assert_eq!(
        e.read_buffer_usage(),
        (budget, budget),
        "an unsent chunk holds its lease"
    );

    let second = tokio::spawn(collect(e.read_object(&info, None).unwrap()));
    drop(first);
    drop(stalled);
    assert!(
        second.await.unwrap().unwrap() == data,
        "the waiting GET differs"
    );
    let r = ByteRange {
        start: 100_000,
        end_inclusive: 700_000,
    };
    let got = collect(e.read_object(&info, Some(r)).unwrap())
        .await
        .unwrap();
    assert!(
        got == data[100_000..=700_000],
        "range under the budget differs"
    );
    assert_eq!(e.read_buffer_usage(), (0, budget), "every lease went back");
}
