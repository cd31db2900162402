//! The object version tables: `versions` (every version and delete marker,
//! newest first per key), `live` (the current version of keys whose latest is
//! not a delete marker) and `nulls` (each key's null version).

use coffer_repo::Manifest;
use redb::TableDefinition;

use super::Bin;
use super::codec::{Reader, Writer};
use crate::engine::error::EngineResult;
use crate::engine::types::VersionId;
use crate::engine::version_id;

pub(crate) const VERSIONS: Bin = TableDefinition::new("versions");
pub(crate) const LIVE: Bin = TableDefinition::new("live");
pub(crate) const NULLS: Bin = TableDefinition::new("nulls");

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
