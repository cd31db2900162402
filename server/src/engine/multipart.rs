//! Multipart uploads. Each uploaded part is stored like a small object (its
//! own manifest holding chunk references); completing an upload stitches the
//! chosen parts' chunk lists into one version and transfers their references
//! to it, so no data moves.

use std::sync::Arc;

use crate::engine::clock::Clock;
use crate::engine::digests::{checksum_of, combine_crcs};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::ingest::{self, NewPack};
use crate::engine::meta::chunks::ChunkBook;
use crate::engine::meta::codec::{micros, time_from_micros};
use crate::engine::meta::committer::JobResult;
use crate::engine::meta::engine_meta::next_seq;
use crate::engine::meta::uploads::{self, PartRecord, UploadRecord};
use crate::engine::meta::{Txn, buckets, versions};
use crate::engine::objects::{
    bucket_versioning_ro, bucket_versioning_rw, check_key, check_precondition, manifest_of,
    object_info, soft_if_missing,
};
use crate::engine::types::{
    BodyStream, ByteRange, ChecksumAlgorithm, CompletedPart, ObjectInfo, ObjectMeta, PartInfo,
    PartsPage, PutOptions, UploadInfo, Verifier, VersioningState, WritePrecondition,
};
use crate::engine::{Inner, read, version_id};
use coffer_repo::{ChunkRef, Manifest};
use md5::Digest as _;

/// S3's part numbers.
const MAX_PART_NUMBER: u32 = 10_000;

fn check_part_number(n: u32) -> EngineResult<()> {
    if n == 0 || n > MAX_PART_NUMBER {
        return Err(EngineError::InvalidArgument(format!(
            "part number must be 1..={MAX_PART_NUMBER}, got {n}"
        )));
    }
    Ok(())
}

fn upload_info(bucket: &str, key: &str, upload_id: &str, rec: UploadRecord) -> UploadInfo {
    UploadInfo {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        upload_id: upload_id.to_owned(),
        initiated: time_from_micros(rec.initiated_us),
        meta: rec.meta,
        checksum_algorithm: rec.checksum_algorithm,
    }
}

fn part_info(part_number: u32, rec: &PartRecord) -> PartInfo {
    PartInfo {
        part_number,
        etag: rec.manifest.etag.clone(),
        size: rec.manifest.size,
        last_modified: time_from_micros(rec.mtime_us),
        checksums: rec.manifest.checksums.clone(),
    }
}

pub(crate) fn create(
    inner: &Inner,
    bucket: &str,
    key: &str,
    meta: ObjectMeta,
    checksum_algorithm: Option<ChecksumAlgorithm>,
) -> EngineResult<UploadInfo> {
    check_key(key)?;
    let now_us = micros(inner.clock.now());
    inner.meta.write("create upload", |txn| {
        bucket_versioning_rw(txn, bucket)?;
        let seq = next_seq(txn, now_us)?;
        let upload_id = version_id::format_upload(seq, version_id::random_part());
        let rec = UploadRecord {
            initiated_us: now_us,
            checksum_algorithm,
            meta,
        };
        uploads::insert(txn, bucket, key, &upload_id, &rec)?;
        Ok(upload_info(bucket, key, &upload_id, rec))
    })
}

pub(crate) fn get(
    inner: &Inner,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> EngineResult<UploadInfo> {
    let txn = inner.meta.read()?;
    bucket_versioning_ro(&txn, bucket)?;
    Ok(upload_info(
        bucket,
        key,
        upload_id,
        uploads::get(&txn, bucket, key, upload_id)?,
    ))
}

/// Drops every part of an upload (their chunk references included) and,
/// except those in `keep`, their references.
fn remove_parts(
    txn: &Txn<'_>,
    book: &mut ChunkBook<'_>,
    upload_id: &str,
    keep: &[u32],
) -> EngineResult<()> {
    for (n, rec) in uploads::take_parts(txn, upload_id)? {
        if keep.contains(&n) {
            continue;
        }
        for c in &rec.manifest.chunks {
            book.decref(&c.id)?;
        }
    }
    Ok(())
}

/// Within a group transaction: the part's packs, references and record.
#[allow(clippy::too_many_arguments)]
fn apply_part(
    txn: &Txn<'_>,
    clock: &Clock,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
    manifest: Manifest,
    packs: &[NewPack],
) -> JobResult<PartInfo> {
    let found = soft_if_missing(uploads::get_rw(txn, bucket, key, upload_id))?;
    if let Err(soft) = found {
        return Ok(Err(soft));
    }
    let now_us = micros(clock.now());
    let mut book = ChunkBook::open(txn, now_us)?;
    for p in packs {
        book.add_pack(p.id, p.size, &p.store, &p.entries)?;
    }
    for c in &manifest.chunks {
        book.incref(&c.id)?;
    }
    let rec = PartRecord {
        mtime_us: now_us,
        manifest,
    };
    if let Some(old) = uploads::put_part(txn, upload_id, part_number, &rec)? {
        for c in &old.manifest.chunks {
            book.decref(&c.id)?;
        }
    }
    book.flush()?;
    Ok(Ok(part_info(part_number, &rec)))
}

/// Commits a part through the group committer.
#[allow(clippy::too_many_arguments)]
async fn commit_part(
    inner: &Inner,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
    manifest: Manifest,
    packs: Vec<NewPack>,
) -> EngineResult<PartInfo> {
    let (clock, b, k, u) = (
        inner.clock.clone(),
        bucket.to_owned(),
        key.to_owned(),
        upload_id.to_owned(),
    );
    inner
        .meta
        .submit(move |txn| apply_part(txn, &clock, &b, &k, &u, part_number, manifest, &packs))
        .await
}

/// Algorithms to compute for a part: what the client asked for plus the upload's own.
fn part_algorithms(
    upload: &UploadRecord,
    requested: &[ChecksumAlgorithm],
) -> Vec<ChecksumAlgorithm> {
    let mut v = requested.to_vec();
    if let Some(a) = upload.checksum_algorithm
        && !v.contains(&a)
    {
        v.push(a);
    }
    v
}

#[allow(clippy::too_many_arguments)]
async fn put_part(
    inner: &Arc<Inner>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
    body: BodyStream,
    algorithms: Vec<ChecksumAlgorithm>,
    expected_size: Option<u64>,
    verify: Option<Verifier>,
) -> EngineResult<PartInfo> {
    let ing = ingest::ingest(inner, body, &algorithms, expected_size, verify).await?;
    let manifest = Manifest {
        size: ing.digests.size,
        etag: hex::encode(ing.digests.md5),
        checksums: ing.digests.checksums.clone(),
        checksum_type_full_object: true,
        chunks: ing.chunks.clone(),
        ..Manifest::default()
    };
    let packs = ing.packs.clone();
    match commit_part(inner, bucket, key, upload_id, part_number, manifest, packs).await {
        Ok(p) => Ok(p),
        Err(e) => {
            ing.discard(inner).await;
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn upload_part(
    inner: &Arc<Inner>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
    body: BodyStream,
    opts: PutOptions,
    verify: Verifier,
) -> EngineResult<PartInfo> {
    check_part_number(part_number)?;
    let upload = get(inner, bucket, key, upload_id)?;
    let rec = UploadRecord {
        initiated_us: 0,
        checksum_algorithm: upload.checksum_algorithm,
        meta: ObjectMeta::default(),
    };
    let algorithms = part_algorithms(&rec, &opts.checksums);
    put_part(
        inner,
        bucket,
        key,
        upload_id,
        part_number,
        body,
        algorithms,
        opts.expected_size,
        Some(verify),
    )
    .await
}

pub(crate) async fn upload_part_copy(
    inner: &Arc<Inner>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    part_number: u32,
    src: &ObjectInfo,
    range: Option<ByteRange>,
) -> EngineResult<PartInfo> {
    check_part_number(part_number)?;
    let upload = get(inner, bucket, key, upload_id)?;
    let src_manifest = manifest_of(inner, src)?;
    let whole = match range {
        None => true,
        Some(r) => r.start == 0 && r.end_inclusive.checked_add(1) == Some(src_manifest.size),
    };
    let algorithm_known = upload.checksum_algorithm.is_none_or(|a| {
        src_manifest.checksum_type_full_object
            && src_manifest.checksums.iter().any(|(b, _)| *b == a)
    });
    if whole && src_manifest.part_sizes.is_empty() && algorithm_known {
        // The whole of a single-PUT object: its ETag is the part's MD5 and its
        // chunks can be referenced as they are.
        let manifest = Manifest {
            size: src_manifest.size,
            etag: src_manifest.etag.clone(),
            checksums: src_manifest
                .checksums
                .iter()
                .filter(|(a, _)| Some(*a) == upload.checksum_algorithm)
                .cloned()
                .collect(),
            checksum_type_full_object: true,
            chunks: src_manifest.chunks.clone(),
            ..Manifest::default()
        };
        return commit_part(
            inner,
            bucket,
            key,
            upload_id,
            part_number,
            manifest,
            Vec::new(),
        )
        .await;
    }
    // A range or a multipart source: the part's MD5 must be computed, so the
    // bytes are read back and re-ingested; chunks already stored dedup.
    let pieces = read::plan(&src_manifest.chunks, src_manifest.size, range)?;
    let expected: u64 = pieces.iter().map(|(_, a, b)| (b - a) as u64).sum();
    let body = read::stream(inner.clone(), pieces);
    let algorithms = part_algorithms(
        &UploadRecord {
            initiated_us: 0,
            checksum_algorithm: upload.checksum_algorithm,
            meta: ObjectMeta::default(),
        },
        &[],
    );
    put_part(
        inner,
        bucket,
        key,
        upload_id,
        part_number,
        body,
        algorithms,
        Some(expected),
        None,
    )
    .await
}

fn strip_etag(e: &str) -> &str {
    e.trim().trim_matches('"')
}

/// Everything completing an upload decides before writing.
struct Assembled {
    manifest: Manifest,
    keep: Vec<u32>,
}

fn assemble(
    txn: &Txn<'_>,
    upload_id: &str,
    upload: &UploadRecord,
    parts: &[CompletedPart],
    min_part_size: u64,
) -> EngineResult<Assembled> {
    if parts.is_empty() {
        return Err(EngineError::MalformedXml(
            "CompleteMultipartUpload names no parts".into(),
        ));
    }
    for w in parts.windows(2) {
        if w[1].part_number <= w[0].part_number {
            return Err(EngineError::InvalidPartOrder);
        }
    }
    let mut records = Vec::with_capacity(parts.len());
    for p in parts {
        let rec = uploads::part_rw(txn, upload_id, p.part_number)?.ok_or_else(|| {
            EngineError::InvalidPart(format!("part {} was not uploaded", p.part_number))
        })?;
        if !strip_etag(&p.etag).eq_ignore_ascii_case(&rec.manifest.etag) {
            return Err(EngineError::InvalidPart(format!(
                "part {} has a different ETag",
                p.part_number
            )));
        }
        records.push((p.part_number, rec));
    }
    let last = records.len() - 1;
    for (i, (n, rec)) in records.iter().enumerate() {
        if i < last && rec.manifest.size < min_part_size {
            return Err(EngineError::EntityTooSmall { part_number: *n });
        }
    }
    let mut md5 = md5::Md5::new();
    for (n, rec) in &records {
        let raw = hex::decode(&rec.manifest.etag).map_err(|_| {
            crate::engine::meta::MetaError::Inconsistent(format!(
                "part {n} has a malformed stored ETag"
            ))
            .at("complete upload")
        })?;
        md5.update(&raw);
    }
    let etag = format!("{}-{}", hex::encode(md5.finalize()), records.len());

    let mut checksums = Vec::new();
    let mut full_object = true;
    if let Some(a) = upload.checksum_algorithm {
        let mut per_part = Vec::with_capacity(records.len());
        for (n, rec) in &records {
            let sum = rec
                .manifest
                .checksums
                .iter()
                .find(|(b, _)| *b == a)
                .map(|(_, s)| s.clone());
            let sum = sum.ok_or_else(|| {
                EngineError::InvalidPart(format!("part {n} has no {} checksum", a.as_str()))
            })?;
            per_part.push((sum, rec.manifest.size));
        }
        if a == ChecksumAlgorithm::Crc64Nvme {
            // S3 supports only full-object checksums for CRC64NVME.
            if let Some(v) = combine_crcs(a, &per_part)? {
                checksums.push((a, v));
            }
        } else {
            let concat: Vec<u8> = per_part
                .iter()
                .flat_map(|(s, _)| s.iter().copied())
                .collect();
            checksums.push((a, checksum_of(a, &concat)));
            full_object = false;
        }
    }

    let mut chunks: Vec<ChunkRef> = Vec::new();
    let mut part_sizes = Vec::with_capacity(records.len());
    let mut offset = 0u64;
    for (_, rec) in &records {
        for c in &rec.manifest.chunks {
            chunks.push(ChunkRef {
                id: c.id,
                offset: offset + c.offset,
                len: c.len,
            });
        }
        offset += rec.manifest.size;
        part_sizes.push(rec.manifest.size);
    }
    let manifest = Manifest {
        size: offset,
        etag,
        checksums,
        checksum_type_full_object: full_object,
        content_type: upload.meta.content_type.clone(),
        system_metadata: upload.meta.stored_system(),
        user_metadata: upload.meta.user.clone(),
        part_sizes,
        chunks,
    };
    Ok(Assembled {
        manifest,
        keep: records.iter().map(|(n, _)| *n).collect(),
    })
}

/// Within a group transaction: validates the upload and the chosen parts
/// and checks the precondition (soft errors, nothing written), then writes
/// the version and drops the upload.
fn apply_complete(
    txn: &Txn<'_>,
    clock: &Clock,
    min_part_size: u64,
    target: (&str, &str, &str),
    parts: &[CompletedPart],
    precondition: &WritePrecondition,
) -> JobResult<ObjectInfo> {
    let (bucket, key, upload_id) = target;
    let checked = (|| -> JobResult<_> {
        let versioning = match soft_if_missing(bucket_versioning_rw(txn, bucket))? {
            Ok(v) => v,
            Err(soft) => return Ok(Err(soft)),
        };
        let upload = match soft_if_missing(uploads::get_rw(txn, bucket, key, upload_id))? {
            Ok(u) => u,
            Err(soft) => return Ok(Err(soft)),
        };
        // Invalid part lists are the client's error: soft.
        let assembled = match assemble(txn, upload_id, &upload, parts, min_part_size) {
            Ok(a) => a,
            Err(e) => return Ok(Err(e)),
        };
        if let Err(soft) = check_precondition(txn, bucket, key, precondition)? {
            return Ok(Err(soft));
        }
        Ok(Ok((versioning, assembled)))
    })()?;
    let (versioning, assembled) = match checked {
        Ok(v) => v,
        Err(soft) => return Ok(Err(soft)),
    };
    let now_us = micros(clock.now());
    let mut book = ChunkBook::open(txn, now_us)?;
    // The chosen parts' references move to the version as they are.
    let rec = versions::store(
        txn,
        &mut book,
        bucket,
        key,
        versioning,
        now_us,
        Some(assembled.manifest),
        false,
    )?;
    remove_parts(txn, &mut book, upload_id, &assembled.keep)?;
    uploads::remove(txn, bucket, key, upload_id)?;
    book.flush()?;
    Ok(Ok(object_info(
        bucket,
        key,
        &rec,
        true,
        versioning != VersioningState::Unversioned,
    )))
}

pub(crate) async fn complete(
    inner: &Arc<Inner>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[CompletedPart],
    precondition: &WritePrecondition,
) -> EngineResult<ObjectInfo> {
    let (clock, min_part_size) = (inner.clock.clone(), inner.tuning.min_part_size);
    let (b, k, u, p, pre) = (
        bucket.to_owned(),
        key.to_owned(),
        upload_id.to_owned(),
        parts.to_vec(),
        precondition.clone(),
    );
    inner
        .meta
        .submit(move |txn| apply_complete(txn, &clock, min_part_size, (&b, &k, &u), &p, &pre))
        .await
}

pub(crate) fn abort(inner: &Inner, bucket: &str, key: &str, upload_id: &str) -> EngineResult<()> {
    let now_us = micros(inner.clock.now());
    inner.meta.write("abort upload", |txn| {
        bucket_versioning_rw(txn, bucket)?;
        uploads::get_rw(txn, bucket, key, upload_id)?;
        uploads::remove(txn, bucket, key, upload_id)?;
        let mut book = ChunkBook::open(txn, now_us)?;
        remove_parts(txn, &mut book, upload_id, &[])?;
        book.flush()
    })
}

/// Inside a transaction: aborts every upload of a bucket (DeleteBucket of
/// a bucket that holds only uploads, as AWS does), freeing their parts.
pub(crate) fn abort_all(txn: &Txn<'_>, bucket: &str, now_us: i64) -> EngineResult<()> {
    let plen = crate::engine::meta::keys::bucket_prefix(bucket).len();
    let mut uploads_of_bucket = Vec::new();
    for k in buckets::bucket_rows(txn, uploads::UPLOADS, bucket)? {
        let bad = || crate::engine::meta::error::corrupt("upload key");
        let (key, id) = crate::engine::meta::keys::split_key(&k, plen).ok_or_else(bad)?;
        let id = String::from_utf8(id.to_vec()).map_err(|_| bad())?;
        uploads_of_bucket.push((key, id));
    }
    let mut book = ChunkBook::open(txn, now_us)?;
    for (key, id) in &uploads_of_bucket {
        uploads::remove(txn, bucket, key, id)?;
        remove_parts(txn, &mut book, id, &[])?;
    }
    book.flush()
}

pub(crate) fn list_parts(
    inner: &Inner,
    bucket: &str,
    key: &str,
    upload_id: &str,
    marker: Option<u32>,
    max_parts: usize,
) -> EngineResult<PartsPage> {
    let txn = inner.meta.read()?;
    bucket_versioning_ro(&txn, bucket)?;
    uploads::get(&txn, bucket, key, upload_id)?;
    let first = marker.map_or(0, |m| m.saturating_add(1));
    let mut page = PartsPage::default();
    if max_parts == 0 || marker == Some(u32::MAX) {
        return Ok(page);
    }
    let (parts, more) = uploads::parts_from(&txn, upload_id, first, max_parts)?;
    page.is_truncated = more;
    for (n, rec) in parts {
        page.parts.push(part_info(n, &rec));
        page.next_part_number_marker = Some(n);
    }
    Ok(page)
}
