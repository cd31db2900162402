//! The GET data path: a lazy stream over the chunks a range needs. Per chunk:
//! index lookup → store read of exactly its sealed bytes → open (decrypt,
//! decompress) on the blocking pool → slice to the range. Two chunks are in
//! flight so opening chunk n+1 overlaps sending chunk n.
//!
//! Every chunk's bytes, sealed and plain, are leased from the engine's
//! [`MemoryBudget`](crate::engine::read_budget::MemoryBudget) before its
//! store read; the sealed share goes back once the chunk is opened and the
//! plain share when the last slice of it has been written out. Leases are
//! taken one after another in stream order, so a GET waiting for budget
//! holds only chunks it has already produced (which drain to the client or
//! go with its connection), never one it still waits to open.

use std::sync::Arc;

use bytes::Bytes;
use coffer_repo::{ChunkRef, IndexEntry};
use futures::StreamExt;

use crate::backend::{ObjectId, ObjectKind};
use crate::engine::Inner;
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::chunks;
use crate::engine::read_budget::Lease;
use crate::engine::types::{BodyStream, ByteRange};

/// Chunks opened ahead of the one being sent.
const READ_AHEAD: usize = 2;

fn index_entry(inner: &Inner, c: &ChunkRef) -> EngineResult<IndexEntry> {
    chunks::index_entry(&inner.meta.read()?, &c.id)?.ok_or_else(|| {
        EngineError::Internal(format!(
            "chunk {} missing from the index",
            hex::encode(c.id.0)
        ))
    })
}

/// Bytes a chunk occupies while it is read and opened: its sealed bytes and its plaintext.
fn footprint(entry: &IndexEntry) -> u64 {
    u64::from(entry.sealed_len) + u64::from(entry.plain_len)
}

/// One piece of the plan, its index entry found and its bytes leased.
struct Leased {
    chunk: ChunkRef,
    entry: IndexEntry,
    from: usize,
    to: usize,
    lease: Lease,
}

async fn lease_chunk(
    inner: &Inner,
    chunk: ChunkRef,
    from: usize,
    to: usize,
) -> EngineResult<Leased> {
    let entry = index_entry(inner, &chunk)?;
    let lease = inner.read_budget.acquire(footprint(&entry)).await;
    Ok(Leased {
        chunk,
        entry,
        from,
        to,
        lease,
    })
}

async fn read_chunk(inner: Arc<Inner>, piece: Leased) -> EngineResult<Bytes> {
    let Leased {
        chunk: c,
        entry,
        from,
        to,
        mut lease,
    } = piece;
    let range = entry.offset..entry.offset + u64::from(entry.sealed_len);
    let sealed = inner
        .store
        .get(ObjectKind::Pack, &ObjectId::pack(&entry.pack), Some(range))
        .await?;
    let plain = crate::blocking_pool::spawn(move || {
        coffer_repo::open_chunk(
            &inner.keys,
            &c.id,
            &sealed,
            entry.compression,
            entry.plain_len,
        )
    })
    .await
    .map_err(|e| EngineError::Internal(format!("open task failed: {e}")))??;
    // The sealed buffer is gone; the plaintext is what stays until it is sent.
    lease.shrink_to(plain.len() as u64);
    if plain.len() != c.len as usize || to > plain.len() {
        return Err(EngineError::Internal(format!(
            "chunk {} has the wrong length",
            hex::encode(c.id.0)
        )));
    }
    Ok(lease.attach(plain).slice(from..to))
}

/// The pieces of `chunks` (sorted by offset) covering `range` (whole object when `None`).
pub(crate) fn plan(
    chunks: &[ChunkRef],
    size: u64,
    range: Option<ByteRange>,
) -> EngineResult<Vec<(ChunkRef, usize, usize)>> {
    let (start, end_excl) = match range {
        None => (0, size),
        Some(r) => {
            if r.start > r.end_inclusive || r.end_inclusive >= size {
                return Err(EngineError::InvalidRange);
            }
            (r.start, r.end_inclusive + 1)
        }
    };
    // First chunk that ends after `start`.
    let first = chunks.partition_point(|c| c.offset + u64::from(c.len) <= start);
    let mut out = Vec::new();
    for c in &chunks[first..] {
        if c.offset >= end_excl {
            break;
        }
        let from = start.saturating_sub(c.offset);
        let to = (end_excl - c.offset).min(u64::from(c.len));
        out.push((*c, from as usize, to as usize));
    }
    Ok(out)
}

pub(crate) fn stream(inner: Arc<Inner>, pieces: Vec<(ChunkRef, usize, usize)>) -> BodyStream {
    let leasing = inner.clone();
    let s = futures::stream::iter(pieces)
        // `then` runs one acquire at a time, in order: see the module doc.
        .then(move |(c, from, to)| {
            let inner = leasing.clone();
            async move { lease_chunk(&inner, c, from, to).await }
        })
        .map(move |leased| {
            let inner = inner.clone();
            async move {
                let leased = leased.map_err(std::io::Error::other)?;
                read_chunk(inner, leased)
                    .await
                    .map_err(std::io::Error::other)
            }
        })
        .buffered(READ_AHEAD);
    Box::pin(s)
}

#[cfg(test)]
mod tests {
    use coffer_repo::{ChunkId, ChunkRef};

    use super::plan;
    use crate::engine::types::ByteRange;

    fn chunks() -> Vec<ChunkRef> {
        [(0u64, 10u32), (10, 5), (15, 20)]
            .iter()
            .enumerate()
            .map(|(i, &(offset, len))| ChunkRef {
                id: ChunkId([i as u8; 32]),
                offset,
                len,
            })
            .collect()
    }

    #[test]
    fn plans_only_overlapping_chunks() {
        let c = chunks();
        let p = plan(
            &c,
            35,
            Some(ByteRange {
                start: 10,
                end_inclusive: 14,
            }),
        )
        .unwrap();
        assert_eq!(
            p.iter()
                .map(|(c, a, b)| (c.offset, *a, *b))
                .collect::<Vec<_>>(),
            vec![(10, 0, 5)]
        );
        let p = plan(
            &c,
            35,
            Some(ByteRange {
                start: 9,
                end_inclusive: 15,
            }),
        )
        .unwrap();
        assert_eq!(
            p.iter()
                .map(|(c, a, b)| (c.offset, *a, *b))
                .collect::<Vec<_>>(),
            vec![(0, 9, 10), (10, 0, 5), (15, 0, 1)]
        );
        assert_eq!(plan(&c, 35, None).unwrap().len(), 3);
        assert!(
            plan(
                &c,
                35,
                Some(ByteRange {
                    start: 0,
                    end_inclusive: 35
                })
            )
            .is_err()
        );
        assert!(plan(&[], 0, None).unwrap().is_empty());
    }
}
