//! The MetaStore's guarantees, seen through the engine: conditional writes
//! decided inside the commit (racing writers get exactly one winner), and
//! commit hooks that see every kind of change and never a failed batch.

mod engine_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use coffer_server::engine::access::{Grant, Permissions};
use coffer_server::engine::{
    Change, CommitHook, CompletedPart, ETagMatch, EngineError, EngineResult, HookTxn, PutOptions,
    VersioningState, WritePrecondition,
};
use engine_support::*;

fn if_none_match_any() -> PutOptions {
    PutOptions {
        precondition: WritePrecondition {
            if_none_match: Some(ETagMatch::Any),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_if_none_match_puts_have_exactly_one_winner() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    const WRITERS: usize = 16;
    // Every body stops halfway until released, so all writers pass the early
    // check (nothing exists yet) before any of them commits: only the check
    // inside the commit can tell them apart.
    let mut gates = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..WRITERS {
        let payload = data(64 << 10, i as u64);
        let (stream, gate) = gated_body(
            Bytes::copy_from_slice(&payload[..32 << 10]),
            Bytes::copy_from_slice(&payload[32 << 10..]),
        );
        gates.push(gate);
        let e2 = e.clone();
        tasks.push(tokio::spawn(async move {
            e2.put_object("bkt", "k", stream, if_none_match_any(), ok_verify())
                .await
                .map(|info| (info.etag, md5_hex(&payload)))
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for g in gates {
        g.send(()).unwrap();
    }
    let mut winners = Vec::new();
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(w) => winners.push(w),
            Err(EngineError::PreconditionFailed) => refused += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer wins");
    assert_eq!(refused, WRITERS - 1, "every other writer gets a 412");
    let (etag, expected) = &winners[0];
    assert_eq!(etag, expected);
    let head = e.head_object("bkt", "k", None).unwrap();
    assert_eq!(&head.etag, etag, "the stored object is the winner's");
    assert_eq!(e.stats().unwrap().versions, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_fails_when_the_etag_changes_before_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let v1 = put(&e, "bkt", "k", b"first version").await;
    let payload = data(64 << 10, 9);
    let (stream, gate) = gated_body(
        Bytes::copy_from_slice(&payload[..1000]),
        Bytes::copy_from_slice(&payload[1000..]),
    );
    let opts = PutOptions {
        precondition: WritePrecondition {
            if_match: Some(ETagMatch::ETag(v1.etag.clone())),
            ..Default::default()
        },
        ..Default::default()
    };
    let e2 = e.clone();
    let task =
        tokio::spawn(async move { e2.put_object("bkt", "k", stream, opts, ok_verify()).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Passed the early check (v1 was current); now another writer replaces it.
    let v2 = put(&e, "bkt", "k", b"second version").await;
    gate.send(()).unwrap();
    let r = task.await.unwrap();
    assert!(matches!(r, Err(EngineError::PreconditionFailed)), "{r:?}");
    assert_eq!(e.head_object("bkt", "k", None).unwrap().etag, v2.etag);
    let s = e.stats().unwrap();
    assert_eq!(s.versions, 1, "nothing of the refused PUT was stored");
}

#[tokio::test]
async fn write_preconditions_follow_s3() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let cond = |m: Option<ETagMatch>, n: Option<ETagMatch>| PutOptions {
        precondition: WritePrecondition {
            if_match: m,
            if_none_match: n,
        },
        ..Default::default()
    };
    let try_put = |opts: PutOptions| {
        let e = e.clone();
        async move {
            e.put_object("bkt", "k", body(b"x", 1), opts, ok_verify())
                .await
        }
    };
    // If-Match without a current object: 404 NoSuchKey, as S3 answers.
    let r = try_put(cond(Some(ETagMatch::Any), None)).await;
    assert!(matches!(r, Err(EngineError::NoSuchKey)), "{r:?}");
    let first = try_put(cond(None, Some(ETagMatch::Any))).await.unwrap();
    let r = try_put(cond(None, Some(ETagMatch::Any))).await;
    assert!(matches!(r, Err(EngineError::PreconditionFailed)), "{r:?}");
    let r = try_put(cond(Some(ETagMatch::ETag("0".repeat(32))), None)).await;
    assert!(matches!(r, Err(EngineError::PreconditionFailed)), "{r:?}");
    try_put(cond(Some(ETagMatch::ETag(first.etag.clone())), None))
        .await
        .unwrap();
    try_put(cond(None, Some(ETagMatch::ETag("0".repeat(32)))))
        .await
        .unwrap();
    // A delete marker as the latest version counts as no object.
    e.set_versioning("bkt", VersioningState::Enabled).unwrap();
    e.delete_object("bkt", "k", None).await.unwrap();
    try_put(cond(None, Some(ETagMatch::Any))).await.unwrap();
}

#[tokio::test]
async fn complete_multipart_checks_its_precondition_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    e.create_bucket("bkt").unwrap();
    let up = e
        .create_multipart("bkt", "k", Default::default(), None)
        .unwrap();
    let part = e
        .upload_part(
            "bkt",
            "k",
            &up.upload_id,
            1,
            body(b"only part", 1),
            PutOptions::default(),
            ok_verify(),
        )
        .await
        .unwrap();
    let parts = vec![CompletedPart {
        part_number: 1,
        etag: part.etag.clone(),
    }];
    put(&e, "bkt", "k", b"already here").await;
    let none_match = WritePrecondition {
        if_none_match: Some(ETagMatch::Any),
        ..Default::default()
    };
    let r = e
        .complete_multipart_if("bkt", "k", &up.upload_id, &parts, &none_match)
        .await;
    assert!(matches!(r, Err(EngineError::PreconditionFailed)), "{r:?}");
    // The refused completion left the upload as it was.
    let listed = e.list_parts("bkt", "k", &up.upload_id, None, 10).unwrap();
    assert_eq!(listed.parts.len(), 1);
    e.delete_object("bkt", "k", None).await.unwrap();
    let done = e
        .complete_multipart_if("bkt", "k", &up.upload_id, &parts, &none_match)
        .await
        .unwrap();
    assert_eq!(get(&e, "bkt", "k").await.unwrap(), b"only part");
    assert!(done.etag.ends_with("-1"), "{}", done.etag);
}

/// Records what it is told; fails the transaction while `fail` is set.
#[derive(Default)]
struct Recorder {
    seen_in_txn: Mutex<Vec<Change>>,
    durable: Mutex<Vec<Change>>,
    fail: std::sync::atomic::AtomicBool,
}

impl CommitHook for Recorder {
    fn in_transaction(&self, _txn: &HookTxn<'_>, changes: &[Change]) -> EngineResult<()> {
        self.seen_in_txn.lock().unwrap().extend_from_slice(changes);
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(EngineError::Internal("test hook refuses the batch".into()));
        }
        Ok(())
    }
    fn durable(&self, changes: &[Change]) {
        self.durable.lock().unwrap().extend_from_slice(changes);
    }
}

impl Recorder {
    fn durable(&self) -> Vec<Change> {
        self.durable.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn commit_hook_sees_every_kind_of_change() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    let hook = Arc::new(Recorder::default());
    e.add_commit_hook(hook.clone());

    e.create_bucket("bkt").unwrap();
    e.set_versioning("bkt", VersioningState::Enabled).unwrap();
    let v = put(&e, "bkt", "k", &data(300 << 10, 1)).await;
    let marker = e.delete_object("bkt", "k", None).await.unwrap();
    e.delete_object("bkt", "k", v.version_id.as_ref())
        .await
        .unwrap();
    e.delete_object("bkt", "k", marker.version_id.as_ref())
        .await
        .unwrap();
    let key = e.create_access_key("ci", None, false).unwrap();
    let id = key.info.access_key_id.clone();
    let grant = Grant {
        bucket: "bkt".into(),
        prefix: "logs/".into(),
        permissions: Permissions {
            read: true,
            ..Default::default()
        },
    };
    e.put_grant(&id, &grant).unwrap();
    e.remove_grant(&id, "bkt", "logs/").unwrap();
    e.set_access_key_enabled(&id, false).unwrap();
    e.delete_access_key(&id).unwrap();
    e.delete_bucket("bkt").unwrap();

    let seen = hook.durable();
    let has = |f: &dyn Fn(&Change) -> bool| seen.iter().any(f);
    let b = |s: &str| s == "bkt";
    assert!(has(
        &|c| matches!(c, Change::BucketCreated { bucket } if b(bucket))
    ));
    assert!(has(
        &|c| matches!(c, Change::BucketSettingChanged { bucket, setting }
        if b(bucket) && setting == "versioning")
    ));
    assert!(has(
        &|c| matches!(c, Change::PackAdded { store, .. } if store == "local")
    ));
    let vid = v.version_id.clone().unwrap();
    assert!(has(
        &|c| matches!(c, Change::VersionPut { key, version_id, delete_marker: false, .. }
        if key == "k" && *version_id == vid)
    ));
    let mid = marker.version_id.clone().unwrap();
    assert!(has(
        &|c| matches!(c, Change::VersionPut { version_id, delete_marker: true, .. }
        if *version_id == mid)
    ));
    assert!(has(
        &|c| matches!(c, Change::VersionDeleted { version_id, .. } if *version_id == vid)
    ));
    assert!(has(
        &|c| matches!(c, Change::VersionDeleted { version_id, .. } if *version_id == mid)
    ));
    assert!(has(
        &|c| matches!(c, Change::AccessKeyChanged { access_key_id } if *access_key_id == id)
    ));
    assert!(has(
        &|c| matches!(c, Change::GrantChanged { access_key_id, bucket, prefix }
        if *access_key_id == id && b(bucket) && prefix == "logs/")
    ));
    assert!(has(
        &|c| matches!(c, Change::BucketDeleted { bucket } if b(bucket))
    ));
    // Everything durable was first seen inside its transaction, in order.
    assert_eq!(*hook.seen_in_txn.lock().unwrap(), seen);
}

#[tokio::test]
async fn a_failed_batch_reports_nothing_as_durable() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path()).await;
    let hook = Arc::new(Recorder::default());
    e.add_commit_hook(hook.clone());
    e.create_bucket("bkt").unwrap();
    let before = hook.durable();

    hook.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let r = e
        .put_object(
            "bkt",
            "k",
            body(b"doomed", 1),
            PutOptions::default(),
            ok_verify(),
        )
        .await;
    assert!(matches!(r, Err(EngineError::Meta { .. })), "{r:?}");
    let r = e.create_bucket("other");
    assert!(r.is_err(), "a direct write fails with its hook too");
    let seen = hook.seen_in_txn.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|c| matches!(c, Change::VersionPut { key, .. } if key == "k")),
        "the hook was asked inside the transaction: {seen:?}"
    );
    assert_eq!(
        hook.durable(),
        before,
        "nothing of the failed batches is durable"
    );
    assert!(matches!(
        e.head_object("bkt", "k", None),
        Err(EngineError::NoSuchKey)
    ));
    assert!(matches!(
        e.bucket("other"),
        Err(EngineError::NoSuchBucket(_))
    ));
    assert_eq!(e.stats().unwrap().packs, 0, "no pack was recorded");

    hook.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    put(&e, "bkt", "k", b"fine now").await;
    assert!(
        hook.durable()
            .iter()
            .any(|c| matches!(c, Change::VersionPut { key, .. } if key == "k"))
    );
}
