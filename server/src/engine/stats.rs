//! Counters over the metadata store: what the chunk index, reference counts,
//! packs and gc queue hold. For tests, the admin API and metrics.

use crate::engine::Inner;
use crate::engine::error::EngineResult;
use crate::engine::meta::{chunks, gc_queue, packs, versions};

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
    let txn = inner.meta.read()?;
    let mut s = EngineStats {
        chunks_indexed: txn.len(chunks::CHUNK_INDEX, "count chunk_index")?,
        chunks_referenced: txn.len(chunks::CHUNK_REFS, "count chunk_refs")?,
        gc_queue: txn.len(gc_queue::GC_QUEUE, "count gc_queue")?,
        versions: txn.len(versions::VERSIONS, "count versions")?,
        ..EngineStats::default()
    };
    for rec in packs::all(&txn)? {
        s.packs += 1;
        s.pack_bytes += rec.size;
        s.live_bytes += rec.live_bytes;
    }
    Ok(s)
}
