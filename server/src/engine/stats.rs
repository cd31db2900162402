//! Counters over the metadata store: what the chunk index, reference counts,
//! packs and gc queue hold. For tests, the admin API and metrics.

use redb::ReadableTableMetadata;

use crate::engine::Inner;
use crate::engine::error::EngineResult;
use crate::engine::meta::records::PackRecord;
use crate::engine::meta::{CHUNK_INDEX, CHUNK_REFS, GC_QUEUE, MetaContext, PACKS, VERSIONS};

/// A snapshot of the store's bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Chunks in the index (referenced or waiting for gc).
    pub chunks_indexed: u64,
    /// Chunks with a reference count above zero.
    pub chunks_referenced: u64,
    /// Chunks whose reference count reached zero, waiting for gc.
    pub gc_queue: u64,
    /// Packs recorded in the store.
    pub packs: u64,
    /// Total bytes of those packs.
    pub pack_bytes: u64,
    /// Sealed bytes of still-referenced chunks in those packs.
    pub live_bytes: u64,
    /// Object versions and delete markers across all buckets.
    pub versions: u64,
}

pub(crate) fn stats(inner: &Inner) -> EngineResult<EngineStats> {
    use redb::ReadableTable;
    let txn = inner.db.begin_read().ctx("begin read")?;
    let mut s = EngineStats {
        chunks_indexed: txn
            .open_table(CHUNK_INDEX)
            .ctx("open chunk_index")?
            .len()
            .ctx("count")?,
        chunks_referenced: txn
            .open_table(CHUNK_REFS)
            .ctx("open chunk_refs")?
            .len()
            .ctx("count")?,
        gc_queue: txn
            .open_table(GC_QUEUE)
            .ctx("open gc_queue")?
            .len()
            .ctx("count")?,
        versions: txn
            .open_table(VERSIONS)
            .ctx("open versions")?
            .len()
            .ctx("count")?,
        ..EngineStats::default()
    };
    let packs = txn.open_table(PACKS).ctx("open packs")?;
    for item in packs.iter().ctx("scan packs")? {
        let (_, v) = item.ctx("scan packs")?;
        let rec = PackRecord::decode(v.value())?;
        s.packs += 1;
        s.pack_bytes += rec.size;
        s.live_bytes += rec.live_bytes;
    }
    Ok(s)
}
