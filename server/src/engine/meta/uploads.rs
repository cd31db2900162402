//! The multipart tables: `uploads` (one record per open upload) and `parts`
//! (each uploaded part as a manifest).

use coffer_repo::Manifest;
use redb::{ReadableTable, TableDefinition};

use super::codec::{Reader, Writer};
use super::keys::{part_key, upload_key};
use super::txn::{ReadTxn, Txn};
use super::{Bin, MetaContext};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::types::{ChecksumAlgorithm, ObjectMeta};
use crate::engine::version_id;

pub(crate) const UPLOADS: Bin = TableDefinition::new("uploads");
pub(crate) const PARTS: Bin = TableDefinition::new("parts");

pub(crate) fn algorithm_code(a: ChecksumAlgorithm) -> u8 {
    match a {
        ChecksumAlgorithm::Crc32 => 1,
        ChecksumAlgorithm::Crc32c => 2,
        ChecksumAlgorithm::Sha1 => 3,
        ChecksumAlgorithm::Sha256 => 4,
        ChecksumAlgorithm::Crc64Nvme => 5,
    }
}

pub(crate) fn algorithm_from_code(c: u8) -> Option<ChecksumAlgorithm> {
    Some(match c {
        1 => ChecksumAlgorithm::Crc32,
        2 => ChecksumAlgorithm::Crc32c,
        3 => ChecksumAlgorithm::Sha1,
        4 => ChecksumAlgorithm::Sha256,
        5 => ChecksumAlgorithm::Crc64Nvme,
        _ => return None,
    })
}

pub(crate) fn encode_meta(w: &mut Writer, meta: &ObjectMeta) {
    w.opt_str(meta.content_type.as_deref())
        .pairs(&meta.system)
        .pairs(&meta.user);
}

pub(crate) fn decode_meta(r: &mut Reader<'_>) -> EngineResult<ObjectMeta> {
    Ok(ObjectMeta {
        content_type: r.opt_str()?,
        system: r.pairs()?,
        user: r.pairs()?,
    })
}

#[derive(Debug, Clone)]
pub(crate) struct UploadRecord {
    pub initiated_us: i64,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub meta: ObjectMeta,
}

impl UploadRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_version(1);
        w.i64(self.initiated_us)
            .u8(self.checksum_algorithm.map_or(0, algorithm_code));
        encode_meta(&mut w, &self.meta);
        w.finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "upload");
        r.version(1)?;
        let initiated_us = r.i64()?;
        let code = r.u8()?;
        let checksum_algorithm = if code == 0 {
            None
        } else {
            Some(algorithm_from_code(code).ok_or_else(|| super::error::corrupt("upload"))?)
        };
        let meta = decode_meta(&mut r)?;
        Ok(UploadRecord {
            initiated_us,
            checksum_algorithm,
            meta,
        })
    }
}

/// An uploaded part: its data as a manifest (size, ETag, checksums, chunks).
#[derive(Debug, Clone)]
pub(crate) struct PartRecord {
    pub mtime_us: i64,
    pub manifest: Manifest,
}

impl PartRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_version(1);
        w.i64(self.mtime_us).rest(&self.manifest.encode_plain());
        w.finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "part");
        r.version(1)?;
        let mtime_us = r.i64()?;
        Ok(PartRecord {
            mtime_us,
            manifest: Manifest::decode_plain(r.rest())?,
        })
    }
}

fn read_upload<T: ReadableTable<&'static [u8], &'static [u8]>>(
    uploads: &T,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> EngineResult<UploadRecord> {
    if version_id::parse(upload_id).is_none() {
        return Err(EngineError::NoSuchUpload);
    }
    let v = uploads
        .get(upload_key(bucket, key, upload_id).as_slice())
        .ctx("read upload")?
        .ok_or(EngineError::NoSuchUpload)?;
    UploadRecord::decode(v.value())
}

/// An open upload (`NoSuchUpload` when there is none by that id for the key).
pub(crate) fn get(
    txn: &ReadTxn,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> EngineResult<UploadRecord> {
    read_upload(
        &txn.open_table(UPLOADS).ctx("open uploads")?,
        bucket,
        key,
        upload_id,
    )
}

pub(crate) fn get_rw(
    txn: &Txn<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> EngineResult<UploadRecord> {
    read_upload(
        &txn.open_table(UPLOADS).ctx("open uploads")?,
        bucket,
        key,
        upload_id,
    )
}

pub(crate) fn insert(
    txn: &Txn<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    rec: &UploadRecord,
) -> EngineResult<()> {
    let mut t = txn.open_table(UPLOADS).ctx("open uploads")?;
    t.insert(
        upload_key(bucket, key, upload_id).as_slice(),
        rec.encode().as_slice(),
    )
    .ctx("insert upload")?;
    Ok(())
}

pub(crate) fn remove(txn: &Txn<'_>, bucket: &str, key: &str, upload_id: &str) -> EngineResult<()> {
    let mut t = txn.open_table(UPLOADS).ctx("open uploads")?;
    t.remove(upload_key(bucket, key, upload_id).as_slice())
        .ctx("remove upload")?;
    Ok(())
}

fn part_number_of(raw: &[u8], upload_id: &str) -> EngineResult<u32> {
    raw.get(upload_id.len()..)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| super::error::corrupt("part key"))
}

/// One part of an upload.
pub(crate) fn part_rw(txn: &Txn<'_>, upload_id: &str, n: u32) -> EngineResult<Option<PartRecord>> {
    let t = txn.open_table(PARTS).ctx("open parts")?;
    match t.get(part_key(upload_id, n).as_slice()).ctx("read part")? {
        Some(v) => Ok(Some(PartRecord::decode(v.value())?)),
        None => Ok(None),
    }
}

/// Stores a part, returning the one it replaced.
pub(crate) fn put_part(
    txn: &Txn<'_>,
    upload_id: &str,
    n: u32,
    rec: &PartRecord,
) -> EngineResult<Option<PartRecord>> {
    let mut t = txn.open_table(PARTS).ctx("open parts")?;
    let old = t
        .insert(part_key(upload_id, n).as_slice(), rec.encode().as_slice())
        .ctx("insert part")?;
    match old {
        Some(v) => Ok(Some(PartRecord::decode(v.value())?)),
        None => Ok(None),
    }
}

/// Removes every part of an upload, returning them.
pub(crate) fn take_parts(txn: &Txn<'_>, upload_id: &str) -> EngineResult<Vec<(u32, PartRecord)>> {
    let mut t = txn.open_table(PARTS).ctx("open parts")?;
    let start = part_key(upload_id, 0);
    let end = part_key(upload_id, u32::MAX);
    let mut out = Vec::new();
    for item in t
        .range::<&[u8]>(start.as_slice()..=end.as_slice())
        .ctx("scan parts")?
    {
        let (k, v) = item.ctx("scan parts")?;
        out.push((
            part_number_of(k.value(), upload_id)?,
            PartRecord::decode(v.value())?,
        ));
    }
    for (n, _) in &out {
        t.remove(part_key(upload_id, *n).as_slice())
            .ctx("remove part")?;
    }
    Ok(out)
}

/// Parts numbered `first` and up, at most `max`; `true` when more follow.
pub(crate) fn parts_from(
    txn: &ReadTxn,
    upload_id: &str,
    first: u32,
    max: usize,
) -> EngineResult<(Vec<(u32, PartRecord)>, bool)> {
    let t = txn.open_table(PARTS).ctx("open parts")?;
    let start = part_key(upload_id, first);
    let end = part_key(upload_id, u32::MAX);
    let mut out = Vec::new();
    for item in t
        .range::<&[u8]>(start.as_slice()..=end.as_slice())
        .ctx("scan parts")?
    {
        let (k, v) = item.ctx("scan parts")?;
        let n = part_number_of(k.value(), upload_id)?;
        if out.len() == max {
            return Ok((out, true));
        }
        out.push((n, PartRecord::decode(v.value())?));
    }
    Ok((out, false))
}
