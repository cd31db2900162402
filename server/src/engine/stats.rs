//! Counters over the metadata store: what the chunk index, reference counts,
//! packs and gc queue hold. For tests, the admin API and metrics.

use crate::engine::Inner;
use crate::engine::error::EngineResult;
use crate::engine::meta::{MetaContext, chunks, gc_queue, packs, versions};

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
    use redb::ReadableTableMetadata;
    let txn = inner.meta.read()?;
    let mut s = EngineStats {
        chunks_indexed: txn
            .open_table(chunks::CHUNK_INDEX)
            .ctx("open chunk_index")?
            .len()
            .ctx("count")?,
        chunks_referenced: txn
            .open_table(chunks::CHUNK_REFS)
            .ctx("open chunk_refs")?
            .len()
            .ctx("count")?,
        gc_queue: txn
            .open_table(gc_queue::GC_QUEUE)
            .ctx("open gc_queue")?
            .len()
            .ctx("count")?,
        versions: txn
            .open_table(versions::VERSIONS)
            .ctx("open versions")?
            .len()
            .ctx("count")?,
        ..EngineStats::default()
    };
    for rec in packs::all(&txn)? {
        s.packs += 1;
        s.pack_bytes += rec.size;
        s.live_bytes += rec.live_bytes;
    }
    Ok(s)
}
