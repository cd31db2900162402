//! The multipart tables: `uploads` (one record per open upload) and `parts`
//! (each uploaded part as a manifest).

use coffer_repo::Manifest;
use redb::TableDefinition;

use super::Bin;
use super::codec::{Reader, Writer};
use crate::engine::error::EngineResult;
use crate::engine::types::{ChecksumAlgorithm, ObjectMeta};

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
