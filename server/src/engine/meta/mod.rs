//! The metadata store: one redb database, its tables, and the bookkeeping
//! shared by every write (chunk reference counts, pack liveness, gc queue).
//!
//! Tables (all values start with a version byte, see `records`):
//! - `buckets`:      name → BucketRecord
//! - `access_keys`:  access key id → AccessKeyRecord (secret sealed)
//! - `versions`:     `bucket 00 esc(key) 00 00 !seq` → VersionRecord (manifest inside)
//! - `live`:         `bucket 00 esc(key)` → seq of the current version, only when
//!   it is not a delete marker (ListObjects scans this alone)
//! - `nulls`:        `bucket 00 esc(key)` → seq of the key's null version
//! - `uploads`:      `bucket 00 esc(key) 00 00 upload id` → UploadRecord
//! - `parts`:        `upload id, part number` → PartRecord
//! - `chunk_index`:  chunk id → `IndexEntry::encode_value`
//! - `chunk_refs`:   chunk id → reference count (absent = 0)
//! - `packs`:        pack id → PackRecord (size, live bytes)
//! - `gc_queue`:     chunk id → when its refcount reached zero
//! - `engine_meta`:  small named values (`last_seq`, `root_access_key`, …)

pub(crate) mod codec;
pub(crate) mod keys;
pub(crate) mod records;

use std::collections::HashMap;

use coffer_repo::{ChunkId, IndexEntry, PackId};
use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};

use crate::engine::error::{EngineError, EngineResult};
use records::PackRecord;

pub(crate) type Bin = TableDefinition<'static, &'static [u8], &'static [u8]>;
pub(crate) type Named = TableDefinition<'static, &'static str, &'static [u8]>;

pub(crate) const BUCKETS: Named = TableDefinition::new("buckets");
pub(crate) const ACCESS_KEYS: Named = TableDefinition::new("access_keys");
pub(crate) const VERSIONS: Bin = TableDefinition::new("versions");
pub(crate) const LIVE: Bin = TableDefinition::new("live");
pub(crate) const NULLS: Bin = TableDefinition::new("nulls");
pub(crate) const UPLOADS: Bin = TableDefinition::new("uploads");
pub(crate) const PARTS: Bin = TableDefinition::new("parts");
pub(crate) const CHUNK_INDEX: Bin = TableDefinition::new("chunk_index");
pub(crate) const CHUNK_REFS: Bin = TableDefinition::new("chunk_refs");
pub(crate) const PACKS: Bin = TableDefinition::new("packs");
pub(crate) const GC_QUEUE: Bin = TableDefinition::new("gc_queue");
pub(crate) const ENGINE_META: Named = TableDefinition::new("engine_meta");

pub(crate) const META_LAST_SEQ: &str = "last_seq";
pub(crate) const META_ROOT_KEY: &str = "root_access_key";

/// Adds context to redb errors, mapping them to [`EngineError::Meta`].
pub(crate) trait MetaContext<T> {
    fn ctx(self, what: &str) -> EngineResult<T>;
}

impl<T, E: Into<redb::Error>> MetaContext<T> for Result<T, E> {
    fn ctx(self, what: &str) -> EngineResult<T> {
        self.map_err(|e| EngineError::Meta(format!("{what}: {}", e.into())))
    }
}

/// Creates every table so read transactions can open them unconditionally.
pub(crate) fn create_tables(db: &redb::Database) -> EngineResult<()> {
    let txn = db.begin_write().ctx("begin create tables")?;
    for t in [BUCKETS, ACCESS_KEYS, ENGINE_META] {
        txn.open_table(t).ctx("create table")?;
    }
    for t in [
        VERSIONS,
        LIVE,
        NULLS,
        UPLOADS,
        PARTS,
        CHUNK_INDEX,
        CHUNK_REFS,
        PACKS,
        GC_QUEUE,
    ] {
        txn.open_table(t).ctx("create table")?;
    }
    txn.commit().ctx("commit create tables")
}

/// Next version sequence number: strictly increasing across the database's
/// life (write transactions are serialised, and the last value is stored), and
/// close to the engine clock in microseconds so ids carry their age.
pub(crate) fn next_seq(txn: &WriteTransaction, now_us: i64) -> EngineResult<u64> {
    let mut t = txn.open_table(ENGINE_META).ctx("open engine_meta")?;
    let last = match t.get(META_LAST_SEQ).ctx("read last_seq")? {
        Some(v) => records::decode_seq(v.value())?,
        None => 0,
    };
    let seq = (u64::try_from(now_us).unwrap_or(0)).max(last + 1);
    t.insert(META_LAST_SEQ, records::encode_seq(seq).as_slice())
        .ctx("write last_seq")?;
    Ok(seq)
}

/// Chunk bookkeeping inside one write transaction.
pub(crate) struct ChunkBook<'t> {
    index: Table<'t, &'static [u8], &'static [u8]>,
    refs: Table<'t, &'static [u8], &'static [u8]>,
    packs: Table<'t, &'static [u8], &'static [u8]>,
    gc: Table<'t, &'static [u8], &'static [u8]>,
    now_us: i64,
    /// Net live-byte change per pack, applied once at `flush`.
    pack_delta: HashMap<PackId, i128>,
}

impl<'t> ChunkBook<'t> {
    pub fn open(txn: &'t WriteTransaction, now_us: i64) -> EngineResult<Self> {
        Ok(ChunkBook {
            index: txn.open_table(CHUNK_INDEX).ctx("open chunk_index")?,
            refs: txn.open_table(CHUNK_REFS).ctx("open chunk_refs")?,
            packs: txn.open_table(PACKS).ctx("open packs")?,
            gc: txn.open_table(GC_QUEUE).ctx("open gc_queue")?,
            now_us,
            pack_delta: HashMap::new(),
        })
    }

    /// Records a freshly written pack and its chunks. A chunk some other writer
    /// indexed first keeps its existing entry (ours becomes dead bytes in our pack).
    /// A shared pack is added once per writer: the first one creates its record.
    pub fn add_pack(&mut self, id: PackId, size: u64, entries: &[IndexEntry]) -> EngineResult<()> {
        let known = self.packs.get(id.0.as_slice()).ctx("read pack")?.is_some();
        if !known {
            self.packs
                .insert(
                    id.0.as_slice(),
                    PackRecord {
                        size,
                        live_bytes: 0,
                        created_us: self.now_us,
                    }
                    .encode()
                    .as_slice(),
                )
                .ctx("insert pack")?;
        }
        for e in entries {
            if self
                .index
                .get(e.id.0.as_slice())
                .ctx("read chunk index")?
                .is_some()
            {
                continue;
            }
            self.index
                .insert(e.id.0.as_slice(), e.encode_value().as_slice())
                .ctx("insert chunk index")?;
        }
        Ok(())
    }

    fn entry(&self, id: &ChunkId) -> EngineResult<IndexEntry> {
        let v = self
            .index
            .get(id.0.as_slice())
            .ctx("read chunk index")?
            .ok_or_else(|| {
                EngineError::Internal(format!(
                    "chunk {} is referenced but not indexed",
                    hex::encode(id.0)
                ))
            })?;
        Ok(IndexEntry::decode_value(*id, v.value())?)
    }

    /// One more reference to an indexed chunk.
    pub fn incref(&mut self, id: &ChunkId) -> EngineResult<()> {
        let k = id.0.as_slice();
        let count = match self.refs.get(k).ctx("read refcount")? {
            Some(v) => records::decode_count(v.value())?,
            None => 0,
        };
        if count == 0 {
            // From zero: the chunk is live again (revived before gc took it).
            let entry = self.entry(id)?;
            self.gc.remove(k).ctx("dequeue gc")?;
            *self.pack_delta.entry(entry.pack).or_default() += i128::from(entry.sealed_len);
        }
        self.refs
            .insert(k, records::encode_count(count + 1).as_slice())
            .ctx("write refcount")?;
        Ok(())
    }

    /// One reference fewer; at zero the chunk is queued for gc.
    pub fn decref(&mut self, id: &ChunkId) -> EngineResult<()> {
        let k = id.0.as_slice();
        let count = match self.refs.get(k).ctx("read refcount")? {
            Some(v) => records::decode_count(v.value())?,
            None => 0,
        };
        if count == 0 {
            return Err(EngineError::Internal(format!(
                "refcount underflow on chunk {}",
                hex::encode(id.0)
            )));
        }
        if count == 1 {
            self.refs.remove(k).ctx("remove refcount")?;
            self.gc
                .insert(k, records::encode_gc_entry(self.now_us).as_slice())
                .ctx("queue gc")?;
            let entry = self.entry(id)?;
            *self.pack_delta.entry(entry.pack).or_default() -= i128::from(entry.sealed_len);
        } else {
            self.refs
                .insert(k, records::encode_count(count - 1).as_slice())
                .ctx("write refcount")?;
        }
        Ok(())
    }

    /// Writes the accumulated pack liveness changes.
    pub fn flush(mut self) -> EngineResult<()> {
        for (pack, delta) in std::mem::take(&mut self.pack_delta) {
            if delta == 0 {
                continue;
            }
            let rec = match self.packs.get(pack.0.as_slice()).ctx("read pack")? {
                Some(v) => PackRecord::decode(v.value())?,
                None => {
                    return Err(EngineError::Internal(format!(
                        "chunk in unknown pack {}",
                        hex::encode(pack.0)
                    )));
                }
            };
            let live = (i128::from(rec.live_bytes) + delta).clamp(0, i128::from(u64::MAX)) as u64;
            let rec = PackRecord {
                live_bytes: live,
                ..rec
            };
            self.packs
                .insert(pack.0.as_slice(), rec.encode().as_slice())
                .ctx("write pack")?;
        }
        Ok(())
    }
}
