//! The object version tables: `versions` (every version and delete marker,
//! newest first per key), `live` (the current version of keys whose latest is
//! not a delete marker) and `nulls` (each key's null version).

use coffer_repo::Manifest;
use redb::{ReadableTable, TableDefinition};

use super::chunks::ChunkBook;
use super::codec::{Reader, Writer};
use super::engine_meta::{decode_seq, encode_seq, next_seq};
use super::hook::Change;
use super::keys::{object_key, version_key, versions_prefix};
use super::txn::{ReadTxn, Txn};
use super::{Bin, MetaContext};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::types::{VersionId, VersioningState};
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

/// The newest version (or marker) of a key.
fn latest<T: ReadableTable<&'static [u8], &'static [u8]>>(
    versions: &T,
    bucket: &str,
    key: &str,
) -> EngineResult<Option<VersionRecord>> {
    let prefix = versions_prefix(bucket, key);
    let mut it = versions
        .range::<&[u8]>(prefix.as_slice()..)
        .ctx("scan versions")?;
    match it.next() {
        Some(item) => {
            let (k, v) = item.ctx("scan versions")?;
            if k.value().starts_with(&prefix) {
                Ok(Some(VersionRecord::decode(v.value())?))
            } else {
                Ok(None)
            }
        }
        None => Ok(None),
    }
}

/// A version id as a sequence number, if it names an existing version of the key.
fn resolve_seq<V, N>(
    versions: &V,
    nulls: &N,
    bucket: &str,
    key: &str,
    version: &VersionId,
) -> EngineResult<Option<u64>>
where
    V: ReadableTable<&'static [u8], &'static [u8]>,
    N: ReadableTable<&'static [u8], &'static [u8]>,
{
    match version {
        VersionId::Null => match nulls
            .get(object_key(bucket, key).as_slice())
            .ctx("read null version")?
        {
            Some(v) => Ok(Some(decode_seq(v.value())?)),
            None => Ok(None),
        },
        VersionId::Id(s) => {
            let (seq, rand) = version_id::parse(s).ok_or_else(|| {
                EngineError::InvalidArgument("invalid version id specified".into())
            })?;
            match versions
                .get(version_key(bucket, key, seq).as_slice())
                .ctx("read version")?
            {
                Some(v) => {
                    let rec = VersionRecord::decode(v.value())?;
                    Ok((!rec.null && rec.rand == rand).then_some(seq))
                }
                None => Ok(None),
            }
        }
    }
}

/// Looks a version up: `(record, is_latest, bucket versioning)`.
pub(crate) fn lookup(
    txn: &ReadTxn,
    bucket: &str,
    key: &str,
    version: Option<&VersionId>,
) -> EngineResult<(VersionRecord, bool, VersioningState)> {
    let versioning = super::buckets::get(txn, bucket)?.versioning;
    let versions = txn.open_table(VERSIONS).ctx("open versions")?;
    let newest = latest(&versions, bucket, key)?;
    let Some(version) = version else {
        let rec = newest.ok_or(EngineError::NoSuchKey)?;
        return Ok((rec, true, versioning));
    };
    let nulls = txn.open_table(NULLS).ctx("open nulls")?;
    let seq =
        resolve_seq(&versions, &nulls, bucket, key, version)?.ok_or(EngineError::NoSuchVersion)?;
    let v = versions
        .get(version_key(bucket, key, seq).as_slice())
        .ctx("read version")?
        .ok_or(EngineError::NoSuchVersion)?;
    let rec = VersionRecord::decode(v.value())?;
    let is_latest = newest.is_some_and(|n| n.seq == rec.seq);
    Ok((rec, is_latest, versioning))
}

/// The ETag of the key's current object (`None` when there is none or the
/// latest version is a delete marker), as conditional writes see it.
fn etag_of_latest<T: ReadableTable<&'static [u8], &'static [u8]>>(
    versions: &T,
    bucket: &str,
    key: &str,
) -> EngineResult<Option<String>> {
    Ok(latest(versions, bucket, key)?.and_then(|r| r.manifest.map(|m| m.etag)))
}

/// The current object's ETag, read from a snapshot (the early check of a PUT).
pub(crate) fn current_etag(txn: &ReadTxn, bucket: &str, key: &str) -> EngineResult<Option<String>> {
    etag_of_latest(&txn.open_table(VERSIONS).ctx("open versions")?, bucket, key)
}

/// The same inside a write transaction (the check that decides).
pub(crate) fn current_etag_rw(
    txn: &Txn<'_>,
    bucket: &str,
    key: &str,
) -> EngineResult<Option<String>> {
    etag_of_latest(&txn.open_table(VERSIONS).ctx("open versions")?, bucket, key)
}

/// A version id of a key as its sequence number, inside a write transaction.
pub(crate) fn resolve_rw(
    txn: &Txn<'_>,
    bucket: &str,
    key: &str,
    version: &VersionId,
) -> EngineResult<Option<u64>> {
    let versions = txn.open_table(VERSIONS).ctx("open versions")?;
    let nulls = txn.open_table(NULLS).ctx("open nulls")?;
    resolve_seq(&versions, &nulls, bucket, key, version)
}

/// The sequence number of the key's null version, if it has one.
pub(crate) fn null_seq_rw(txn: &Txn<'_>, bucket: &str, key: &str) -> EngineResult<Option<u64>> {
    let nulls = txn.open_table(NULLS).ctx("open nulls")?;
    let v = nulls
        .get(object_key(bucket, key).as_slice())
        .ctx("read null version")?;
    match v {
        Some(v) => Ok(Some(decode_seq(v.value())?)),
        None => Ok(None),
    }
}

/// Points `live` at the key's newest version, or removes it when that is a
/// delete marker or nothing is left.
pub(crate) fn refresh_live(txn: &Txn<'_>, bucket: &str, key: &str) -> EngineResult<()> {
    let versions = txn.open_table(VERSIONS).ctx("open versions")?;
    let mut live = txn.open_table(LIVE).ctx("open live")?;
    let ok = object_key(bucket, key);
    match latest(&versions, bucket, key)? {
        Some(rec) if !rec.delete_marker => {
            live.insert(ok.as_slice(), encode_seq(rec.seq).as_slice())
                .ctx("write live")?;
        }
        _ => {
            live.remove(ok.as_slice()).ctx("remove live")?;
        }
    }
    Ok(())
}

/// Removes one version by sequence number, dropping its chunk references.
pub(crate) fn remove(
    txn: &Txn<'_>,
    book: &mut ChunkBook<'_>,
    bucket: &str,
    key: &str,
    seq: u64,
) -> EngineResult<Option<VersionRecord>> {
    let rec = {
        let mut versions = txn.open_table(VERSIONS).ctx("open versions")?;
        let removed = versions
            .remove(version_key(bucket, key, seq).as_slice())
            .ctx("remove version")?;
        match removed {
            Some(v) => VersionRecord::decode(v.value())?,
            None => return Ok(None),
        }
    };
    if rec.null {
        let mut nulls = txn.open_table(NULLS).ctx("open nulls")?;
        nulls
            .remove(object_key(bucket, key).as_slice())
            .ctx("remove null")?;
    }
    if let Some(m) = &rec.manifest {
        for c in &m.chunks {
            book.decref(&c.id)?;
        }
    }
    txn.record(Change::VersionDeleted {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: rec.version_id(),
    });
    Ok(Some(rec))
}

/// Adds a version (or delete marker when `manifest` is `None`) as the bucket's
/// versioning state dictates, inside `txn`. With `incref`, the manifest's
/// chunks gain a reference each (callers that transfer references from parts pass `false`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn store(
    txn: &Txn<'_>,
    book: &mut ChunkBook<'_>,
    bucket: &str,
    key: &str,
    versioning: VersioningState,
    now_us: i64,
    manifest: Option<Manifest>,
    incref: bool,
) -> EngineResult<VersionRecord> {
    let seq = next_seq(txn, now_us)?;
    let null = versioning != VersioningState::Enabled;
    let rand = if null { 0 } else { version_id::random_part() };
    let rec = VersionRecord {
        seq,
        rand,
        null,
        delete_marker: manifest.is_none(),
        mtime_us: now_us,
        manifest,
    };
    if incref && let Some(m) = &rec.manifest {
        for c in &m.chunks {
            book.incref(&c.id)?;
        }
    }
    let ok = object_key(bucket, key);
    if null {
        let old = {
            let nulls = txn.open_table(NULLS).ctx("open nulls")?;
            let v = nulls.get(ok.as_slice()).ctx("read null version")?;
            match v {
                Some(v) => Some(decode_seq(v.value())?),
                None => None,
            }
        };
        if let Some(old) = old {
            remove(txn, book, bucket, key, old)?;
        }
    }
    {
        let mut versions = txn.open_table(VERSIONS).ctx("open versions")?;
        versions
            .insert(
                version_key(bucket, key, seq).as_slice(),
                rec.encode().as_slice(),
            )
            .ctx("insert version")?;
    }
    if null {
        let mut nulls = txn.open_table(NULLS).ctx("open nulls")?;
        nulls
            .insert(ok.as_slice(), encode_seq(seq).as_slice())
            .ctx("write null version")?;
    }
    {
        let mut live = txn.open_table(LIVE).ctx("open live")?;
        if rec.delete_marker {
            live.remove(ok.as_slice()).ctx("remove live")?;
        } else {
            live.insert(ok.as_slice(), encode_seq(seq).as_slice())
                .ctx("write live")?;
        }
    }
    txn.record(Change::VersionPut {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: rec.version_id(),
        delete_marker: rec.delete_marker,
    });
    Ok(rec)
}
