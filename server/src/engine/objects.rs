//! Object versions: storing a new version (PUT, copy, completed upload),
//! looking one up, and deleting, with S3's versioning semantics:
//!
//! - unversioned and suspended buckets write the `null` version, replacing
//!   the previous null version wherever it sits in the key's history;
//! - enabled buckets add a new version with a fresh id;
//! - a DELETE without a version id adds a delete marker (a null one when
//!   suspended; none at all when unversioned, where it removes the null version);
//! - a DELETE with a version id removes exactly that version or marker.

use std::sync::Arc;

use crate::engine::Inner;
use crate::engine::clock::Clock;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::ingest::{self, NewPack};
use crate::engine::meta::chunks::ChunkBook;
use crate::engine::meta::codec::{micros, time_from_micros};
use crate::engine::meta::committer::JobResult;
use crate::engine::meta::versions::{self, VersionRecord};
use crate::engine::meta::{ReadTxn, Txn, buckets};
use crate::engine::object_lock;
use crate::engine::types::{
    BodyStream, DeleteOutcome, ObjectInfo, ObjectMeta, PutOptions, Verifier, VersionId,
    VersioningState, WritePrecondition,
};
use coffer_repo::Manifest;

/// S3's limit on key length, in bytes.
pub(crate) const MAX_KEY_LEN: usize = 1024;

pub(crate) fn check_key(key: &str) -> EngineResult<()> {
    if key.is_empty() {
        return Err(EngineError::InvalidArgument("empty object key".into()));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(EngineError::KeyTooLong);
    }
    Ok(())
}

pub(crate) fn manifest_meta(m: &Manifest) -> ObjectMeta {
    ObjectMeta::from_stored(
        m.content_type.clone(),
        &m.system_metadata,
        m.user_metadata.clone(),
    )
}

pub(crate) fn set_manifest_meta(m: &mut Manifest, meta: ObjectMeta) {
    m.system_metadata = meta.stored_system();
    m.content_type = meta.content_type;
    m.user_metadata = meta.user;
}

/// The S3 view of a stored version. `show_version`: whether to report a
/// version id (S3 reports none for buckets that were never versioned).
pub(crate) fn object_info(
    bucket: &str,
    key: &str,
    rec: &VersionRecord,
    is_latest: bool,
    show_version: bool,
) -> ObjectInfo {
    let (size, etag, meta, checksums, full, part_sizes) = match &rec.manifest {
        Some(m) => (
            m.size,
            m.etag.clone(),
            manifest_meta(m),
            m.checksums.clone(),
            m.checksum_type_full_object,
            m.part_sizes.clone(),
        ),
        None => (
            0,
            String::new(),
            ObjectMeta::default(),
            Vec::new(),
            true,
            Vec::new(),
        ),
    };
    ObjectInfo {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: if show_version {
            Some(rec.version_id())
        } else {
            None
        },
        is_latest,
        is_delete_marker: rec.delete_marker,
        last_modified: time_from_micros(rec.mtime_us),
        size,
        etag,
        meta,
        checksums,
        checksum_full_object: full,
        parts_count: if part_sizes.is_empty() {
            None
        } else {
            u32::try_from(part_sizes.len()).ok()
        },
        part_sizes: part_sizes.into(),
    }
}

pub(crate) fn bucket_versioning_ro(txn: &ReadTxn, bucket: &str) -> EngineResult<VersioningState> {
    Ok(buckets::get(txn, bucket)?.versioning)
}

pub(crate) fn bucket_versioning_rw(txn: &Txn<'_>, bucket: &str) -> EngineResult<VersioningState> {
    Ok(buckets::get_rw(txn, bucket)?.versioning)
}

/// Head of a version; delete markers are reported as errors, as S3 does.
pub(crate) fn head(
    inner: &Inner,
    bucket: &str,
    key: &str,
    version: Option<&VersionId>,
) -> EngineResult<ObjectInfo> {
    check_key(key)?;
    let txn = inner.meta.read()?;
    let (rec, is_latest, versioning) = versions::lookup(&txn, bucket, key, version)?;
    let show = versioning != VersioningState::Unversioned;
    if rec.delete_marker {
        return Err(EngineError::DeleteMarker {
            version_id: show.then(|| rec.version_id()),
            by_version_id: version.is_some(),
        });
    }
    Ok(object_info(bucket, key, &rec, is_latest, show))
}

/// The manifest of the version `info` describes, checking it is still that
/// version (a null version may have been replaced since the HEAD).
pub(crate) fn manifest_of(inner: &Inner, info: &ObjectInfo) -> EngineResult<Manifest> {
    let txn = inner.meta.read()?;
    let v = info.version_id.clone().unwrap_or(VersionId::Null);
    let (rec, _, _) =
        versions::lookup(&txn, &info.bucket, &info.key, Some(&v)).map_err(|e| match e {
            EngineError::NoSuchVersion if info.version_id.is_none() => EngineError::NoSuchKey,
            e => e,
        })?;
    let Some(m) = rec.manifest else {
        return Err(EngineError::DeleteMarker {
            version_id: info.version_id.clone(),
            by_version_id: true,
        });
    };
    if m.etag != info.etag || m.size != info.size || rec.mtime_us != micros(info.last_modified) {
        return Err(if info.version_id.is_none() {
            EngineError::NoSuchKey
        } else {
            EngineError::NoSuchVersion
        });
    }
    Ok(m)
}

/// Splits a lookup error into soft (the bucket is gone: nothing written,
/// the batch goes on) and hard.
pub(crate) fn soft_if_missing<T>(r: EngineResult<T>) -> JobResult<T> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(
            e @ (EngineError::NoSuchBucket(_)
            | EngineError::NoSuchUpload
            | EngineError::NoSuchKey
            | EngineError::NoSuchVersion),
        ) => Ok(Err(e)),
        Err(e) => Err(e),
    }
}

/// Evaluates a conditional write inside `txn`: a failed condition is a soft
/// error (nothing written, the batch goes on).
pub(crate) fn check_precondition(
    txn: &Txn<'_>,
    bucket: &str,
    key: &str,
    precondition: &WritePrecondition,
) -> JobResult<()> {
    if precondition.is_empty() {
        return Ok(Ok(()));
    }
    let etag = versions::current_etag_rw(txn, bucket, key)?;
    Ok(precondition.check(etag.as_deref()))
}

/// Within a group transaction: the new packs' index entries, the version, refcounts.
/// Soft errors, before anything is written: the bucket is gone, the
/// precondition does not hold, or a chunk the PUT deduplicated against was
/// dropped from the index since (`DedupChunkGone`: the caller must store it).
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_version(
    txn: &Txn<'_>,
    clock: &Clock,
    bucket: &str,
    key: &str,
    manifest: Manifest,
    packs: &[NewPack],
    precondition: &WritePrecondition,
) -> JobResult<ObjectInfo> {
    let versioning = match soft_if_missing(bucket_versioning_rw(txn, bucket))? {
        Ok(v) => v,
        Err(soft) => return Ok(Err(soft)),
    };
    if let Err(soft) = check_precondition(txn, bucket, key, precondition)? {
        return Ok(Err(soft));
    }
    let now_us = micros(clock.now());
    let mut book = ChunkBook::open(txn, now_us)?;
    let new_entries: Vec<&[coffer_repo::IndexEntry]> =
        packs.iter().map(|p| p.entries.as_slice()).collect();
    let missing = book.missing(&manifest.chunks, &new_entries)?;
    if !missing.is_empty() {
        return Ok(Err(EngineError::DedupChunkGone(missing)));
    }
    for p in packs {
        book.add_pack(p.id, p.size, &p.store, &p.entries)?;
    }
    let rec = versions::store(
        txn,
        &mut book,
        bucket,
        key,
        versioning,
        now_us,
        Some(manifest),
        true,
    )?;
    book.flush()?;
    Ok(Ok(object_info(
        bucket,
        key,
        &rec,
        true,
        versioning != VersioningState::Unversioned,
    )))
}

pub(crate) async fn put(
    inner: &Arc<Inner>,
    bucket: &str,
    key: &str,
    body: BodyStream,
    opts: PutOptions,
    verify: Verifier,
) -> EngineResult<ObjectInfo> {
    check_key(key)?;
    {
        // Fail fast, before reading a byte, when the bucket does not exist or
        // the precondition already fails; the commit checks both again.
        let txn = inner.meta.read()?;
        bucket_versioning_ro(&txn, bucket)?;
        if !opts.precondition.is_empty() {
            opts.precondition
                .check(versions::current_etag(&txn, bucket, key)?.as_deref())?;
        }
    }
    let ing = ingest::ingest(
        inner,
        body,
        &opts.checksums,
        opts.expected_size,
        Some(verify),
    )
    .await?;
    let mut manifest = Manifest {
        size: ing.digests.size,
        etag: hex::encode(ing.digests.md5),
        checksums: ing.digests.checksums.clone(),
        checksum_type_full_object: true,
        chunks: ing.chunks.clone(),
        ..Manifest::default()
    };
    set_manifest_meta(&mut manifest, opts.meta);
    let packs = ing.packs.clone();
    let (clock, b2, k2) = (inner.clock.clone(), bucket.to_owned(), key.to_owned());
    let precondition = opts.precondition;
    let committed = inner
        .meta
        .submit(move |txn| apply_version(txn, &clock, &b2, &k2, manifest, &packs, &precondition))
        .await;
    match committed {
        Ok(info) => Ok(info),
        Err(e) => {
            ing.discard(inner).await;
            Err(e)
        }
    }
}

pub(crate) async fn copy(
    inner: &Arc<Inner>,
    src: &ObjectInfo,
    dst_bucket: &str,
    dst_key: &str,
    meta: Option<ObjectMeta>,
) -> EngineResult<ObjectInfo> {
    check_key(dst_key)?;
    let mut manifest = manifest_of(inner, src)?;
    // A copy is a new version: it gets the lock its request asks for (in
    // `meta`), never the source's.
    let meta = meta.unwrap_or_else(|| ObjectMeta {
        lock: Default::default(),
        ..manifest_meta(&manifest)
    });
    set_manifest_meta(&mut manifest, meta);
    let (clock, b2, k2) = (
        inner.clock.clone(),
        dst_bucket.to_owned(),
        dst_key.to_owned(),
    );
    inner
        .meta
        .submit(move |txn| {
            apply_version(
                txn,
                &clock,
                &b2,
                &k2,
                manifest,
                &[],
                &WritePrecondition::default(),
            )
        })
        .await
}

/// Whether the version `seq` of a key may be removed now: its object lock
/// (legal hold, retention) allows it (`engine::object_lock`). `bypass`:
/// the request asked to bypass governance retention and its key may.
pub(crate) fn removal_allowed(
    txn: &Txn<'_>,
    clock: &Clock,
    bucket: &str,
    key: &str,
    seq: u64,
    bypass: bool,
) -> EngineResult<Result<(), EngineError>> {
    // Only buckets with object lock hold locked versions; the others (most
    // deletes) skip opening the version's sealed record.
    if crate::engine::locking::bucket_lock_rw(txn, bucket)?.is_none() {
        return Ok(Ok(()));
    }
    let Some(rec) = versions::record_rw(txn, bucket, key, seq)? else {
        return Ok(Ok(()));
    };
    let Some(m) = &rec.manifest else {
        return Ok(Ok(()));
    };
    let lock = object_lock::lock_of(&m.system_metadata);
    Ok(object_lock::check_removal(&lock, clock.now(), bypass).map_err(EngineError::Lock))
}

/// Within a group transaction: one DeleteObject. `bypass`: governance
/// retention may be bypassed (the request asked and its key may).
pub(crate) fn apply_delete(
    txn: &Txn<'_>,
    clock: &Clock,
    bucket: &str,
    key: &str,
    version: Option<&VersionId>,
    bypass: bool,
) -> JobResult<DeleteOutcome> {
    if let Err(e) = check_key(key) {
        return Ok(Err(e));
    }
    let versioning = match soft_if_missing(bucket_versioning_rw(txn, bucket))? {
        Ok(v) => v,
        Err(soft) => return Ok(Err(soft)),
    };
    // Resolve the version before writing anything, so a bad id is a soft error.
    let target = match version {
        Some(v) => match versions::resolve_rw(txn, bucket, key, v) {
            Ok(seq) => seq,
            Err(e @ EngineError::InvalidArgument(_)) => return Ok(Err(e)),
            Err(e) => return Err(e),
        },
        None => None,
    };
    if let Some(seq) = target
        && let Err(locked) = removal_allowed(txn, clock, bucket, key, seq, bypass)?
    {
        return Ok(Err(locked));
    }
    let now_us = micros(clock.now());
    let mut book = ChunkBook::open(txn, now_us)?;
    let outcome = match version {
        None if versioning == VersioningState::Unversioned => {
            if let Some(seq) = versions::null_seq_rw(txn, bucket, key)? {
                versions::remove(txn, &mut book, bucket, key, seq)?;
                versions::refresh_live(txn, bucket, key)?;
            }
            DeleteOutcome {
                version_id: None,
                delete_marker: false,
            }
        }
        None => {
            let rec =
                versions::store(txn, &mut book, bucket, key, versioning, now_us, None, false)?;
            DeleteOutcome {
                version_id: Some(rec.version_id()),
                delete_marker: true,
            }
        }
        // Deleting a version that does not exist succeeds (S3 answers 204).
        Some(v) => match target {
            None => DeleteOutcome {
                version_id: Some(v.clone()),
                delete_marker: false,
            },
            Some(seq) => {
                let rec = versions::remove(txn, &mut book, bucket, key, seq)?;
                versions::refresh_live(txn, bucket, key)?;
                DeleteOutcome {
                    version_id: Some(v.clone()),
                    delete_marker: rec.is_some_and(|r| r.delete_marker),
                }
            }
        },
    };
    book.flush()?;
    Ok(Ok(outcome))
}

pub(crate) async fn delete(
    inner: &Inner,
    bucket: &str,
    key: &str,
    version: Option<&VersionId>,
    bypass: bool,
) -> EngineResult<DeleteOutcome> {
    let (clock, b, k, v) = (
        inner.clock.clone(),
        bucket.to_owned(),
        key.to_owned(),
        version.cloned(),
    );
    inner
        .meta
        .submit(move |txn| apply_delete(txn, &clock, &b, &k, v.as_ref(), bypass))
        .await
}

/// DeleteObjects: every deletion in one transaction; one result per entry, in order.
pub(crate) async fn delete_many(
    inner: &Inner,
    bucket: &str,
    items: &[(String, Option<VersionId>)],
    bypass: bool,
) -> EngineResult<Vec<EngineResult<DeleteOutcome>>> {
    let (clock, b, items) = (inner.clock.clone(), bucket.to_owned(), items.to_vec());
    inner
        .meta
        .submit(move |txn| {
            // A missing bucket fails the whole request, as S3 does.
            if let Err(soft) = soft_if_missing(bucket_versioning_rw(txn, &b))? {
                return Ok(Err(soft));
            }
            let mut out = Vec::with_capacity(items.len());
            for (key, version) in &items {
                out.push(apply_delete(
                    txn,
                    &clock,
                    &b,
                    key,
                    version.as_ref(),
                    bypass,
                )?);
            }
            Ok(Ok(out))
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;
    use crate::engine::meta::chunks::ChunkBook;

    fn verify() -> Verifier {
        Box::new(|_| Ok(()))
    }

    async fn put_bytes(e: &Engine, key: &str, data: &[u8]) -> ObjectInfo {
        let body: BodyStream = Box::pin(futures::stream::iter(vec![Ok(
            bytes::Bytes::copy_from_slice(data),
        )]));
        e.put_object("bkt", key, body, PutOptions::default(), verify())
            .await
            .unwrap()
    }

    fn submit_version(
        inner: &Arc<Inner>,
        key: &str,
        manifest: Manifest,
    ) -> impl std::future::Future<Output = EngineResult<ObjectInfo>> {
        let (clock, k) = (inner.clock.clone(), key.to_owned());
        let inner = inner.clone();
        async move {
            inner
                .meta
                .submit(move |txn| {
                    apply_version(
                        txn,
                        &clock,
                        "bkt",
                        &k,
                        manifest,
                        &[],
                        &WritePrecondition::default(),
                    )
                })
                .await
        }
    }

    /// A PUT that deduplicated against an index entry gc dropped before its
    /// commit fails softly with its own error; the batch's other jobs commit.
    #[tokio::test]
    async fn dedup_against_a_dropped_entry_is_a_soft_distinct_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = Engine::open_for_test(dir.path()).await;
        e.create_bucket("bkt").unwrap();
        let gone = put_bytes(&e, "gone", b"bytes only the deleted object had").await;
        let kept = put_bytes(&e, "kept", b"bytes that stay referenced").await;
        let inner = e.inner.clone();
        let gone_manifest = manifest_of(&inner, &gone).unwrap();
        let kept_manifest = manifest_of(&inner, &kept).unwrap();
        e.delete_object("bkt", "gone", None).await.unwrap();
        // What a gc would do to the now unreferenced chunks, after a new PUT
        // of the same bytes decided to store them by reference.
        let ids: Vec<_> = gone_manifest.chunks.iter().map(|c| c.id).collect();
        inner
            .meta
            .submit(move |txn| {
                let mut book = ChunkBook::open(txn, 0)?;
                for id in &ids {
                    book.drop_entry(id)?;
                }
                Ok(Ok(()))
            })
            .await
            .unwrap();
        let (doomed, fine) = tokio::join!(
            submit_version(&inner, "again", gone_manifest.clone()),
            submit_version(&inner, "copy", kept_manifest),
        );
        match doomed {
            Err(EngineError::DedupChunkGone(missing)) => {
                assert_eq!(missing, vec![gone_manifest.chunks[0].id]);
            }
            other => panic!("expected DedupChunkGone, got {other:?}"),
        }
        fine.unwrap();
        assert!(matches!(
            e.head_object("bkt", "again", None),
            Err(EngineError::NoSuchKey)
        ));
        assert_eq!(get_all(&e, "copy").await, b"bytes that stay referenced");
    }

    async fn get_all(e: &Engine, key: &str) -> Vec<u8> {
        use futures::StreamExt;
        let info = e.head_object("bkt", key, None).unwrap();
        let mut s = e.read_object(&info, None).unwrap();
        let mut out = Vec::new();
        while let Some(b) = s.next().await {
            out.extend_from_slice(&b.unwrap());
        }
        out
    }
}
