//! Values stored in the metadata tables. Each starts with a version byte so a
//! later release can read what an earlier one wrote.

use coffer_repo::Manifest;

use super::codec::{Reader, Writer};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::types::{BucketInfo, ChecksumAlgorithm, ObjectMeta, VersionId, VersioningState};
use crate::engine::version_id;

pub(crate) fn time_from_micros(us: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

pub(crate) fn micros(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

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

// ---- buckets

#[derive(Debug, Clone)]
pub(crate) struct BucketRecord {
    pub created_us: i64,
    pub versioning: VersioningState,
}

impl BucketRecord {
    pub fn encode(&self) -> Vec<u8> {
        let v = match self.versioning {
            VersioningState::Unversioned => 0,
            VersioningState::Enabled => 1,
            VersioningState::Suspended => 2,
        };
        Writer::with_version(1).i64(self.created_us).u8(v).finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "bucket");
        r.version(1)?;
        let created_us = r.i64()?;
        let versioning = match r.u8()? {
            0 => VersioningState::Unversioned,
            1 => VersioningState::Enabled,
            2 => VersioningState::Suspended,
            _ => return Err(EngineError::Meta("corrupt bucket record".into())),
        };
        Ok(BucketRecord {
            created_us,
            versioning,
        })
    }
    pub fn info(&self, name: &str) -> BucketInfo {
        BucketInfo {
            name: name.to_owned(),
            created: time_from_micros(self.created_us),
            versioning: self.versioning,
        }
    }
}

// ---- access keys

#[derive(Debug, Clone)]
pub(crate) struct AccessKeyRecord {
    pub enabled: bool,
    pub created_us: i64,
    /// The secret, sealed under the metadata key (never stored in plaintext).
    pub sealed_secret: Vec<u8>,
}

impl AccessKeyRecord {
    pub fn encode(&self) -> Vec<u8> {
        Writer::with_version(1)
            .u8(u8::from(self.enabled))
            .i64(self.created_us)
            .bytes(&self.sealed_secret)
            .finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "access key");
        r.version(1)?;
        Ok(AccessKeyRecord {
            enabled: r.u8()? != 0,
            created_us: r.i64()?,
            sealed_secret: r.bytes()?.to_vec(),
        })
    }
}

// ---- object versions

const FLAG_DELETE_MARKER: u8 = 1;
const FLAG_NULL: u8 = 2;

/// One object version or delete marker.
#[derive(Debug, Clone)]
pub(crate) struct VersionRecord {
    pub seq: u64,
    /// Random part of the version id (0 for the null version).
    pub rand: u64,
    pub null: bool,
    pub delete_marker: bool,
    pub mtime_us: i64,
    /// `None` for delete markers.
    pub manifest: Option<Manifest>,
}

impl VersionRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut flags = 0;
        if self.delete_marker {
            flags |= FLAG_DELETE_MARKER;
        }
        if self.null {
            flags |= FLAG_NULL;
        }
        let mut w = Writer::with_version(1);
        w.u8(flags).u64(self.seq).u64(self.rand).i64(self.mtime_us);
        if let Some(m) = &self.manifest {
            w.rest(&m.encode_plain());
        }
        w.finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "object version");
        r.version(1)?;
        let flags = r.u8()?;
        let seq = r.u64()?;
        let rand = r.u64()?;
        let mtime_us = r.i64()?;
        let delete_marker = flags & FLAG_DELETE_MARKER != 0;
        let manifest = if delete_marker {
            None
        } else {
            Some(Manifest::decode_plain(r.rest())?)
        };
        Ok(VersionRecord {
            seq,
            rand,
            null: flags & FLAG_NULL != 0,
            delete_marker,
            mtime_us,
            manifest,
        })
    }
    pub fn version_id(&self) -> VersionId {
        if self.null {
            VersionId::Null
        } else {
            VersionId::Id(version_id::format(self.seq, self.rand))
        }
    }
}

/// A small value holding one version sequence number (live and null tables).
pub(crate) fn encode_seq(seq: u64) -> Vec<u8> {
    Writer::with_version(1).u64(seq).finish()
}

pub(crate) fn decode_seq(b: &[u8]) -> EngineResult<u64> {
    let mut r = Reader::new(b, "sequence");
    r.version(1)?;
    r.u64()
}

// ---- multipart

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
            Some(
                algorithm_from_code(code)
                    .ok_or_else(|| EngineError::Meta("corrupt upload record".into()))?,
            )
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

// ---- chunks and packs

pub(crate) fn encode_count(n: u64) -> Vec<u8> {
    Writer::with_version(1).u64(n).finish()
}

pub(crate) fn decode_count(b: &[u8]) -> EngineResult<u64> {
    let mut r = Reader::new(b, "refcount");
    r.version(1)?;
    r.u64()
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct PackRecord {
    pub size: u64,
    /// Sealed bytes of chunks that are still referenced.
    pub live_bytes: u64,
    pub created_us: i64,
}

impl PackRecord {
    pub fn encode(&self) -> Vec<u8> {
        Writer::with_version(1)
            .u64(self.size)
            .u64(self.live_bytes)
            .i64(self.created_us)
            .finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "pack");
        r.version(1)?;
        Ok(PackRecord {
            size: r.u64()?,
            live_bytes: r.u64()?,
            created_us: r.i64()?,
        })
    }
}

pub(crate) fn encode_gc_entry(queued_us: i64) -> Vec<u8> {
    Writer::with_version(1).i64(queued_us).finish()
}
