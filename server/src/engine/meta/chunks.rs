//! The chunk tables: `chunk_index` (chunk id → where its sealed bytes are,
//! `IndexEntry::encode_value`) and `chunk_refs` (chunk id → reference count,
//! absent = 0), with the bookkeeping every write shares: reference counts,
//! pack liveness and the gc queue ([`ChunkBook`]).

use std::collections::HashMap;

use coffer_repo::{ChunkId, ChunkRef, IndexEntry, PackId};
use redb::{ReadableTable, Table, TableDefinition};

use super::codec::{Reader, Writer};
use super::gc_queue::{GC_QUEUE, encode_gc_entry};
use super::hook::Change;
use super::packs::{PACKS, PackRecord};
use super::txn::{ReadTxn, Txn};
use super::{Bin, MetaContext};
use crate::engine::error::{EngineError, EngineResult};

pub(crate) const CHUNK_INDEX: Bin = TableDefinition::new("chunk_index");
pub(crate) const CHUNK_REFS: Bin = TableDefinition::new("chunk_refs");

pub(crate) fn encode_count(n: u64) -> Vec<u8> {
    Writer::with_version(1).u64(n).finish()
}

pub(crate) fn decode_count(b: &[u8]) -> EngineResult<u64> {
    let mut r = Reader::new(b, "refcount");
    r.version(1)?;
    r.u64()
}

/// Where a chunk's sealed bytes are, if it is indexed.
pub(crate) fn index_entry(txn: &ReadTxn, id: &ChunkId) -> EngineResult<Option<IndexEntry>> {
    let t = txn.open_table(CHUNK_INDEX).ctx("open chunk_index")?;
    match t.get(id.0.as_slice()).ctx("read chunk index")? {
        Some(v) => Ok(Some(IndexEntry::decode_value(*id, v.value())?)),
        None => Ok(None),
    }
}

/// Chunk bookkeeping inside one write transaction.
pub(crate) struct ChunkBook<'t> {
    txn: &'t Txn<'t>,
    index: Table<'t, &'static [u8], &'static [u8]>,
    refs: Table<'t, &'static [u8], &'static [u8]>,
    packs: Table<'t, &'static [u8], &'static [u8]>,
    gc: Table<'t, &'static [u8], &'static [u8]>,
    now_us: i64,
    /// Net live-byte change per pack, applied once at `flush`.
    pack_delta: HashMap<PackId, i128>,
}

impl<'t> ChunkBook<'t> {
    pub fn open(txn: &'t Txn<'t>, now_us: i64) -> EngineResult<Self> {
        Ok(ChunkBook {
            txn,
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
    /// `store` is the configured name of the store the pack was written to.
    pub fn add_pack(
        &mut self,
        id: PackId,
        size: u64,
        store: &str,
        entries: &[IndexEntry],
    ) -> EngineResult<()> {
        let known = self.packs.get(id.0.as_slice()).ctx("read pack")?.is_some();
        if !known {
            self.packs
                .insert(
                    id.0.as_slice(),
                    PackRecord {
                        size,
                        live_bytes: 0,
                        created_us: self.now_us,
                        store: store.to_owned(),
                    }
                    .encode()
                    .as_slice(),
                )
                .ctx("insert pack")?;
            self.txn.record(Change::PackAdded {
                pack: id,
                store: store.to_owned(),
            });
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

    /// The chunks of `chunks` the index does not hold and `new_packs` do not
    /// bring: a PUT that deduplicated against an entry gc dropped since.
    pub fn missing(
        &self,
        chunks: &[ChunkRef],
        new_packs: &[&[IndexEntry]],
    ) -> EngineResult<Vec<ChunkId>> {
        let mut out = Vec::new();
        for c in chunks {
            if new_packs.iter().any(|p| p.iter().any(|e| e.id == c.id)) {
                continue;
            }
            if self
                .index
                .get(c.id.0.as_slice())
                .ctx("read chunk index")?
                .is_none()
                && !out.contains(&c.id)
            {
                out.push(c.id);
            }
        }
        Ok(out)
    }

    /// Test-only: drops an index entry, as a gc would, to stage the race
    /// between a PUT's dedup decision and its commit.
    #[cfg(test)]
    pub fn drop_entry(&mut self, id: &ChunkId) -> EngineResult<()> {
        self.index
            .remove(id.0.as_slice())
            .ctx("remove chunk index")?;
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
            Some(v) => decode_count(v.value())?,
            None => 0,
        };
        if count == 0 {
            // From zero: the chunk is live again (revived before gc took it).
            let entry = self.entry(id)?;
            self.gc.remove(k).ctx("dequeue gc")?;
            *self.pack_delta.entry(entry.pack).or_default() += i128::from(entry.sealed_len);
        }
        self.refs
            .insert(k, encode_count(count + 1).as_slice())
            .ctx("write refcount")?;
        Ok(())
    }

    /// One reference fewer; at zero the chunk is queued for gc.
    pub fn decref(&mut self, id: &ChunkId) -> EngineResult<()> {
        let k = id.0.as_slice();
        let count = match self.refs.get(k).ctx("read refcount")? {
            Some(v) => decode_count(v.value())?,
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
                .insert(k, encode_gc_entry(self.now_us).as_slice())
                .ctx("queue gc")?;
            let entry = self.entry(id)?;
            *self.pack_delta.entry(entry.pack).or_default() -= i128::from(entry.sealed_len);
        } else {
            self.refs
                .insert(k, encode_count(count - 1).as_slice())
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
