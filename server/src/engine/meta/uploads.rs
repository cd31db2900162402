//! The multipart tables: `uploads` (one record per open upload) and `parts`
//! (each uploaded part as a manifest).
//!
//! Upload records: v1 = `version u8, initiated i64, checksum algorithm u8,
//! content type, system and user metadata` in clear (earlier releases; read
//! forever); v2 = `version u8 = 2, initiated i64`, then the rest sealed to
//! the table, index key and header ([`super::seal`]). Part records: v1 =
//! `version u8, mtime i64` then the manifest in clear; v2 = the same header
//! (version 2), then the manifest sealed.

use coffer_repo::Manifest;
use redb::{ReadableTable, TableDefinition};

use super::codec::{Reader, Writer};
use super::error::corrupt;
use super::keys::{part_key, upload_key};
use super::seal::{Place, RecordSealer};
use super::txn::{ReadTxn, Txn};
use super::{Bin, MetaContext};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::types::{ChecksumAlgorithm, ObjectMeta};
use crate::engine::version_id;

pub(crate) const UPLOADS_TABLE: &str = "uploads";
pub(crate) const PARTS_TABLE: &str = "parts";
pub(crate) const UPLOADS: Bin = TableDefinition::new(UPLOADS_TABLE);
pub(crate) const PARTS: Bin = TableDefinition::new(PARTS_TABLE);

/// v1: everything in clear (read forever, written by releases before
/// 2026-12); v2: a clear time, then the rest sealed.
const V1_PLAIN: u8 = 1;
const V2_SEALED: u8 = 2;
/// Bytes of the clear header of both records: version, time.
pub(crate) const HEADER_LEN: usize = 1 + 8;
const UPLOAD: &str = "upload";
const PART: &str = "part";

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

/// Tags and the lock are stored among the system pairs, as in a manifest
/// (`engine::tags`, `engine::object_lock`).
pub(crate) fn encode_meta(w: &mut Writer, meta: &ObjectMeta) {
    w.opt_str(meta.content_type.as_deref())
        .pairs(&meta.stored_system())
        .pairs(&meta.user);
}

pub(crate) fn decode_meta(r: &mut Reader<'_>) -> EngineResult<ObjectMeta> {
    let content_type = r.opt_str()?;
    let stored = r.pairs()?;
    Ok(ObjectMeta::from_stored(content_type, &stored, r.pairs()?))
}

#[derive(Debug, Clone)]
pub(crate) struct UploadRecord {
    pub initiated_us: i64,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
    pub meta: ObjectMeta,
}

impl UploadRecord {
    /// What v2 seals (and v1 stored in clear after the time): the checksum
    /// algorithm and the upload's metadata.
    fn body(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(self.checksum_algorithm.map_or(0, algorithm_code));
        encode_meta(&mut w, &self.meta);
        w.finish()
    }

    /// The v2 value stored under `index_key` (`upload_key`): the clear
    /// header, then the body sealed to the table, key and header.
    pub fn encode(&self, sealer: &RecordSealer, index_key: &[u8]) -> EngineResult<Vec<u8>> {
        let mut out = Writer::with_version(V2_SEALED)
            .i64(self.initiated_us)
            .finish();
        let sealed = sealer.seal(upload_place(index_key, &out), &self.body())?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The v1 value, as releases before sealing wrote it.
    #[cfg(test)]
    pub fn encode_v1(&self) -> Vec<u8> {
        let mut out = Writer::with_version(V1_PLAIN)
            .i64(self.initiated_us)
            .finish();
        out.extend_from_slice(&self.body());
        out
    }

    pub fn decode(b: &[u8], sealer: &RecordSealer, index_key: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, UPLOAD);
        let format = r.version(V2_SEALED)?;
        let initiated_us = r.i64()?;
        let opened;
        let body = match format {
            V1_PLAIN => r.rest(),
            _ => {
                opened =
                    sealer.open(UPLOAD, upload_place(index_key, &b[..HEADER_LEN]), r.rest())?;
                &opened[..]
            }
        };
        let mut r = Reader::new(body, UPLOAD);
        let code = r.u8()?;
        let checksum_algorithm = if code == 0 {
            None
        } else {
            Some(algorithm_from_code(code).ok_or_else(|| corrupt(UPLOAD))?)
        };
        let meta = decode_meta(&mut r)?;
        Ok(UploadRecord {
            initiated_us,
            checksum_algorithm,
            meta,
        })
    }
}

fn upload_place<'a>(index_key: &'a [u8], header: &'a [u8]) -> Place<'a> {
    Place {
        table: UPLOADS_TABLE,
        key: index_key,
        header,
    }
}

/// An uploaded part: its data as a manifest (size, ETag, checksums, chunks).
#[derive(Debug, Clone)]
pub(crate) struct PartRecord {
    pub mtime_us: i64,
    pub manifest: Manifest,
}

impl PartRecord {
    /// The v2 value stored under `index_key` (`part_key`): the clear time,
    /// then the manifest sealed to the table, key and header. The part's
    /// ETag is the MD5 of its bytes and its chunk list says which chunks it
    /// shares with other objects, so neither stays in clear.
    pub fn encode(&self, sealer: &RecordSealer, index_key: &[u8]) -> EngineResult<Vec<u8>> {
        let mut out = Writer::with_version(V2_SEALED).i64(self.mtime_us).finish();
        let sealed = sealer.seal(part_place(index_key, &out), &self.manifest.encode_plain())?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The v1 value, as releases before sealing wrote it.
    #[cfg(test)]
    pub fn encode_v1(&self) -> Vec<u8> {
        let mut out = Writer::with_version(V1_PLAIN).i64(self.mtime_us).finish();
        out.extend_from_slice(&self.manifest.encode_plain());
        out
    }

    pub fn decode(b: &[u8], sealer: &RecordSealer, index_key: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, PART);
        let format = r.version(V2_SEALED)?;
        let mtime_us = r.i64()?;
        let manifest = match format {
            V1_PLAIN => Manifest::decode_plain(r.rest())?,
            _ => {
                let plain = sealer.open(PART, part_place(index_key, &b[..HEADER_LEN]), r.rest())?;
                Manifest::decode_plain(&plain)?
            }
        };
        Ok(PartRecord { mtime_us, manifest })
    }
}

fn part_place<'a>(index_key: &'a [u8], header: &'a [u8]) -> Place<'a> {
    Place {
        table: PARTS_TABLE,
        key: index_key,
        header,
    }
}

fn read_upload<T: ReadableTable<&'static [u8], &'static [u8]>>(
    uploads: &T,
    sealer: &RecordSealer,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> EngineResult<UploadRecord> {
    if version_id::parse(upload_id).is_none() {
        return Err(EngineError::NoSuchUpload);
    }
    let uk = upload_key(bucket, key, upload_id);
    let v = uploads
        .get(uk.as_slice())
        .ctx("read upload")?
        .ok_or(EngineError::NoSuchUpload)?;
    UploadRecord::decode(v.value(), sealer, &uk)
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
        txn.sealer(),
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
        txn.sealer(),
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
    let uk = upload_key(bucket, key, upload_id);
    t.insert(uk.as_slice(), rec.encode(txn.sealer(), &uk)?.as_slice())
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
    let pk = part_key(upload_id, n);
    match t.get(pk.as_slice()).ctx("read part")? {
        Some(v) => Ok(Some(PartRecord::decode(v.value(), txn.sealer(), &pk)?)),
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
    let pk = part_key(upload_id, n);
    let old = t
        .insert(pk.as_slice(), rec.encode(txn.sealer(), &pk)?.as_slice())
        .ctx("insert part")?;
    match old {
        Some(v) => Ok(Some(PartRecord::decode(v.value(), txn.sealer(), &pk)?)),
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
            PartRecord::decode(v.value(), txn.sealer(), k.value())?,
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
        out.push((n, PartRecord::decode(v.value(), txn.sealer(), k.value())?));
    }
    Ok((out, false))
}

#[cfg(test)]
mod tests {
    use coffer_repo::{ChunkId, ChunkRef};

    use super::*;
    use crate::engine::meta::seal::{is_unsealable, test_sealer};

    fn upload() -> UploadRecord {
        UploadRecord {
            initiated_us: 77,
            checksum_algorithm: Some(ChecksumAlgorithm::Crc32c),
            meta: ObjectMeta {
                content_type: Some("application/secret-type".into()),
                system: vec![("cache-control".into(), "no-store".into())],
                user: vec![("owner".into(), "secret-owner".into())],
                tags: vec![("retention".into(), "secret-tag".into())],
                lock: Default::default(),
            },
        }
    }

    fn part() -> PartRecord {
        PartRecord {
            mtime_us: 88,
            manifest: Manifest {
                size: 5,
                etag: "0315d17989c55129bd0147bb2eecb669".into(),
                chunks: vec![ChunkRef {
                    id: ChunkId([4; 32]),
                    offset: 0,
                    len: 5,
                }],
                ..Manifest::default()
            },
        }
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn v1_records_decode() {
        let s = test_sealer();
        let uk = upload_key("bkt", "k", "00066193");
        // Byte for byte what the v1 encoder wrote.
        let mut w = Writer::with_version(1);
        w.i64(77).u8(algorithm_code(ChecksumAlgorithm::Crc32c));
        encode_meta(&mut w, &upload().meta);
        let v1 = w.finish();
        assert_eq!(v1, upload().encode_v1());
        let back = UploadRecord::decode(&v1, &s, &uk).unwrap();
        assert_eq!(back.meta, upload().meta);
        assert_eq!(back.checksum_algorithm, Some(ChecksumAlgorithm::Crc32c));
        let pk = part_key("00066193", 1);
        let back = PartRecord::decode(&part().encode_v1(), &s, &pk).unwrap();
        assert_eq!(back.manifest, part().manifest);
        assert_eq!(back.mtime_us, 88);
    }

    #[test]
    fn v2_records_round_trip_sealed_and_only_where_they_were_stored() {
        let s = test_sealer();
        let uk = upload_key("bkt", "k", "00066193");
        let v2 = upload().encode(&s, &uk).unwrap();
        assert_eq!(v2[0], 2);
        for clear in [
            "secret-owner",
            "application/secret-type",
            "no-store",
            "secret-tag",
        ] {
            assert!(!contains(&v2, clear.as_bytes()), "{clear} is in clear");
        }
        let back = UploadRecord::decode(&v2, &s, &uk).unwrap();
        assert_eq!((back.meta, back.initiated_us), (upload().meta, 77));
        let moved = UploadRecord::decode(&v2, &s, &upload_key("bkt", "k", "00066194"));
        assert!(is_unsealable(&moved.unwrap_err()));

        let pk = part_key("00066193", 1);
        let p2 = part().encode(&s, &pk).unwrap();
        assert!(
            !contains(&p2, b"0315d17989c55129"),
            "the part's ETag is in clear"
        );
        assert_eq!(
            PartRecord::decode(&p2, &s, &pk).unwrap().manifest,
            part().manifest
        );
        for other in [part_key("00066193", 2), part_key("00066194", 1)] {
            let e = PartRecord::decode(&p2, &s, &other).unwrap_err();
            assert!(is_unsealable(&e), "{e}");
        }
        // An upload's sealed body is no part's, even under the same key bytes.
        assert!(PartRecord::decode(&v2, &s, &uk).is_err());
        for i in 0..p2.len() {
            let mut bad = p2.clone();
            bad[i] ^= 0x80;
            assert!(PartRecord::decode(&bad, &s, &pk).is_err(), "byte {i}");
        }
        for i in 0..v2.len() {
            let mut bad = v2.clone();
            bad[i] ^= 0x80;
            assert!(UploadRecord::decode(&bad, &s, &uk).is_err(), "byte {i}");
        }
    }
}
