//! The PUT data path: body → chunks → ids → seal (on a bounded pool) → packs
//! in the store, with MD5 and checksums computed beside it.
//!
//! A body stays in memory until its sealed chunks pass the small-body limit
//! (or the engine-wide budget for bodies held this way runs out); one that
//! ends below it is verified first and then goes into a pack shared with the
//! other small bodies of the moment (`engine::shared_packs`). Other bodies
//! stream into packs of their own.
//!
//! Nothing here touches the metadata store except to ask whether a chunk is
//! already indexed. The caller commits what [`ingest`] returns in one
//! transaction, or calls [`Ingested::discard`] to delete the packs it wrote.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use coffer_repo::{
    ChunkId, ChunkKind, ChunkRef, FinishedPack, IndexEntry, PackBuilder, PackId, SealedChunk,
};
use futures::StreamExt;
use tokio::sync::OwnedSemaphorePermit;

use crate::backend::{ObjectId, ObjectKind, ObjectWriter};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::meta::chunks;
use crate::engine::types::{BodyStream, ChecksumAlgorithm, Digests, Verifier};
use crate::engine::{Inner, digests};

/// A pack this ingest wrote and made durable.
#[derive(Debug, Clone)]
pub(crate) struct NewPack {
    pub id: PackId,
    pub size: u64,
    /// This writer's chunks in the pack (all of them unless `shared`).
    pub entries: Vec<IndexEntry>,
    /// Written together with other bodies: never deleted by this writer.
    pub shared: bool,
    /// Name of the store that holds the pack ([`crate::backend::Store::name`]).
    pub store: String,
}

impl NewPack {
    pub fn from_finished(fin: &FinishedPack, shared: bool, store: &str) -> Self {
        NewPack {
            store: store.to_owned(),
            id: fin.id,
            size: fin.total_len,
            entries: fin
                .entries
                .iter()
                .map(|e| IndexEntry {
                    id: e.id,
                    pack: fin.id,
                    offset: e.offset,
                    sealed_len: e.sealed_len,
                    plain_len: e.plain_len,
                    compression: e.compression,
                    kind: e.kind,
                })
                .collect(),
            shared,
        }
    }
}

/// What a body turned into.
#[derive(Debug)]
pub(crate) struct Ingested {
    pub digests: Digests,
    pub chunks: Vec<ChunkRef>,
    pub packs: Vec<NewPack>,
}

impl Ingested {
    /// Deletes the packs written for a body whose commit did not happen.
    pub async fn discard(self, inner: &Inner) {
        discard_packs(inner, &self.packs).await;
    }
}

pub(crate) async fn discard_packs(inner: &Inner, packs: &[NewPack]) {
    let own: Vec<&NewPack> = packs.iter().filter(|p| !p.shared).collect();
    if own.is_empty() {
        return;
    }
    let ids: Vec<ObjectId> = own.iter().map(|p| ObjectId::pack(&p.id)).collect();
    if let Err(e) = inner.store.delete(ObjectKind::Pack, &ids).await {
        for p in own {
            tracing::warn!(pack = %hex::encode(p.id.0), store = %p.store, error = %e, "could not delete an uncommitted pack; gc will find it");
        }
    }
}

/// Rotated packs whose fsync may still be running while the body goes on.
const MAX_PENDING_FINISHES: usize = 2;

type PendingFinish = tokio::task::JoinHandle<EngineResult<NewPack>>;

/// Chunks held in memory while the body may still be small, or else the
/// pack being filled, rotated packs still being made durable, and the ones
/// already durable.
struct Packer<'a> {
    inner: &'a Inner,
    held: Vec<(ChunkId, SealedChunk)>,
    held_bytes: u64,
    /// The held bytes' share of the engine-wide budget for small bodies.
    held_permit: Option<OwnedSemaphorePermit>,
    /// The body has pack files of its own (too large to share, or the
    /// small-body budget was used up).
    spilled: bool,
    current: Option<(Box<dyn ObjectWriter>, PackBuilder)>,
    pending: std::collections::VecDeque<PendingFinish>,
    done: Vec<NewPack>,
}

impl Packer<'_> {
    async fn append(&mut self, id: ChunkId, sealed: SealedChunk) -> EngineResult<()> {
        if !self.spilled {
            let len = sealed.bytes.len() as u64;
            if self.held_bytes + len <= self.inner.tuning.small_body_limit
                && let Some(permit) = self.reserve(len)
            {
                self.held_bytes += len;
                match self.held_permit.as_mut() {
                    Some(held) => held.merge(permit),
                    None => self.held_permit = Some(permit),
                }
                self.held.push((id, sealed));
                return Ok(());
            }
            // Too big to share, or too many small bodies in memory already:
            // this body gets pack files of its own.
            self.spilled = true;
            self.held_permit = None;
            for (hid, hsealed) in std::mem::take(&mut self.held) {
                self.append_to_file(hid, &hsealed).await?;
            }
        }
        self.append_to_file(id, &sealed).await
    }

    /// Takes `len` bytes of the small-body budget, if that many are free.
    fn reserve(&self, len: u64) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(len).ok()?;
        self.inner
            .small_body_budget
            .clone()
            .try_acquire_many_owned(n)
            .ok()
    }

    /// Hands a body that stayed small to the shared-pack writer.
    async fn share(&mut self) -> EngineResult<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let chunks = std::mem::take(&mut self.held);
        let pack = self.inner.shared_packs.write(chunks).await;
        self.held_permit = None;
        self.done.push(pack?);
        Ok(())
    }

    async fn append_to_file(&mut self, id: ChunkId, sealed: &SealedChunk) -> EngineResult<()> {
        if self.current.is_none() {
            // The pack's name is chosen before its first byte, so the store can write
            // it in place (pack format version 2).
            let id = PackId::generate()?;
            let writer = self
                .inner
                .store
                .put_stream(ObjectKind::Pack, &ObjectId::pack(&id))
                .await?;
            self.current = Some((writer, PackBuilder::new(id)));
        }
        let Some((writer, builder)) = self.current.as_mut() else {
            return Err(EngineError::Internal("pack writer missing".into()));
        };
        builder.add(id, ChunkKind::Data, sealed);
        writer.write(sealed.bytes.clone()).await?;
        if builder.len() >= self.inner.tuning.pack_target {
            // A full pack is made durable in the background while the next
            // one fills, so disk flushes overlap chunking and sealing.
            self.rotate().await?;
            while self.pending.len() > MAX_PENDING_FINISHES {
                if let Some(h) = self.pending.pop_front() {
                    self.settle_one(h).await?;
                }
            }
        }
        Ok(())
    }

    /// Closes the current pack (tail written) and starts making it durable.
    async fn rotate(&mut self) -> EngineResult<()> {
        let Some((mut writer, builder)) = self.current.take() else {
            return Ok(());
        };
        if builder.is_empty() {
            writer.abort().await;
            return Ok(());
        }
        let mut fin = match builder.finish(&self.inner.keys) {
            Ok(f) => f,
            Err(e) => {
                writer.abort().await;
                return Err(e.into());
            }
        };
        if let Err(e) = writer
            .write(Bytes::from(std::mem::take(&mut fin.tail)))
            .await
        {
            writer.abort().await;
            return Err(e.into());
        }
        let written = writer.written();
        if fin.total_len != written {
            writer.abort().await;
            return Err(EngineError::Internal(format!(
                "pack length mismatch: builder {} written {written}",
                fin.total_len
            )));
        }
        let pack = NewPack::from_finished(&fin, false, self.inner.store.name());
        self.pending.push_back(tokio::spawn(async move {
            writer.finish().await?;
            Ok(pack)
        }));
        Ok(())
    }

    async fn settle_one(&mut self, h: PendingFinish) -> EngineResult<()> {
        match h.await {
            Ok(Ok(pack)) => {
                self.done.push(pack);
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(e) => Err(EngineError::Internal(format!(
                "pack finish task failed: {e}"
            ))),
        }
    }

    /// Waits for every background finish; the first error wins, but all are awaited.
    async fn settle(&mut self) -> EngineResult<()> {
        let mut first = Ok(());
        while let Some(h) = self.pending.pop_front() {
            let r = self.settle_one(h).await;
            if first.is_ok() {
                first = r;
            }
        }
        first
    }

    /// Closes the last pack and waits until every pack is durable.
    async fn finish_current(&mut self) -> EngineResult<()> {
        let rotated = self.rotate().await;
        let settled = self.settle().await;
        rotated.and(settled)
    }

    async fn discard(mut self) {
        if let Some((writer, _)) = self.current.take() {
            writer.abort().await;
        }
        let _ = self.settle().await;
        discard_packs(self.inner, &self.done).await;
    }
}

/// A chunk after the parallel stage: its id, and the sealed bytes when the
/// index did not know it yet.
struct Processed {
    id: ChunkId,
    len: u32,
    sealed: Option<SealedChunk>,
}

fn is_indexed(inner: &Inner, id: &ChunkId) -> EngineResult<bool> {
    Ok(chunks::index_entry(&inner.meta.read()?, id)?.is_some())
}

/// Chunks at most this long are sealed on the calling task: for a small
/// object, the hand-off to the blocking pool and back cost more than the work.
const INLINE_SEAL_MAX: usize = 64 << 10;

fn id_and_seal(inner: &Inner, plain: &[u8]) -> EngineResult<Processed> {
    let len = u32::try_from(plain.len())
        .map_err(|_| EngineError::Internal("chunk larger than 4 GiB".into()))?;
    let id = ChunkId::compute(&inner.keys, plain);
    let sealed = if is_indexed(inner, &id)? {
        None
    } else {
        Some(coffer_repo::seal_chunk(
            &inner.keys,
            &id,
            plain,
            inner.zstd_level,
        )?)
    };
    Ok(Processed { id, len, sealed })
}

async fn process(inner: Arc<Inner>, plain: Bytes) -> EngineResult<Processed> {
    if plain.len() <= INLINE_SEAL_MAX {
        return id_and_seal(&inner, &plain);
    }
    let permit = inner
        .seal_slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| EngineError::Internal("seal pool closed".into()))?;
    crate::blocking_pool::spawn(move || {
        let _permit = permit;
        id_and_seal(&inner, &plain)
    })
    .await
    .map_err(|e| EngineError::Internal(format!("seal task failed: {e}")))?
}

/// Streams `body` into packs. `verify` runs once the body has ended, before
/// the last pack is named; any failure deletes every pack written.
pub(crate) async fn ingest(
    inner: &Arc<Inner>,
    body: BodyStream,
    algorithms: &[ChecksumAlgorithm],
    expected_size: Option<u64>,
    verify: Option<Verifier>,
) -> EngineResult<Ingested> {
    let (tx, hasher) = digests::start_hasher(algorithms, expected_size);
    let overrun = Arc::new(AtomicBool::new(false));
    let overrun_flag = overrun.clone();
    let mut seen: u64 = 0;
    let teed = body.then(move |item| {
        let tx = tx.clone();
        let overrun = overrun_flag.clone();
        let item = match item {
            Ok(buf) => {
                seen += buf.len() as u64;
                if expected_size.is_some_and(|n| seen > n) {
                    overrun.store(true, Ordering::Relaxed);
                    Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "body longer than declared",
                    ))
                } else {
                    Ok(buf)
                }
            }
            Err(e) => Err(e),
        };
        async move {
            if let Ok(buf) = &item {
                tx.send(buf.clone()).await;
            }
            item
        }
    });
    let depth = inner.seal_depth;
    let stage = coffer_repo::chunk_stream(inner.config.chunker, teed)
        .map(|piece| {
            let inner = inner.clone();
            async move {
                match piece {
                    Ok(plain) => process(inner, plain).await,
                    Err(e) => Err(EngineError::Body(e)),
                }
            }
        })
        .buffered(depth);
    let mut stage = Box::pin(stage);

    let mut packer = Packer {
        inner,
        held: Vec::new(),
        held_bytes: 0,
        held_permit: None,
        spilled: false,
        current: None,
        pending: std::collections::VecDeque::new(),
        done: Vec::new(),
    };
    let mut chunks: Vec<ChunkRef> = Vec::new();
    let mut in_this_body: HashSet<ChunkId> = HashSet::new();
    let mut offset: u64 = 0;
    let mut failure: Option<EngineError> = None;
    while let Some(item) = stage.next().await {
        let p = match item {
            Ok(p) => p,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        chunks.push(ChunkRef {
            id: p.id,
            offset,
            len: p.len,
        });
        offset += u64::from(p.len);
        let Some(sealed) = p.sealed else { continue };
        if !in_this_body.insert(p.id) {
            continue;
        }
        if let Err(e) = packer.append(p.id, sealed).await {
            failure = Some(e);
            break;
        }
    }
    // Dropping the stage drops the body and the hasher's sender.
    drop(stage);
    if let Some(e) = failure {
        hasher.abort();
        packer.discard().await;
        if overrun.load(Ordering::Relaxed) {
            return Err(EngineError::IncompleteBody);
        }
        return Err(e);
    }

    let check = |digests: &Digests| {
        if expected_size.is_some_and(|n| n != digests.size) || digests.size != offset {
            Err(EngineError::IncompleteBody)
        } else if let Some(verify) = verify {
            verify(digests)
        } else {
            Ok(())
        }
    };

    if !packer.spilled {
        // A small body is verified before any byte of it is written: once in
        // a shared pack, it could not be deleted again.
        let digests = hasher.finish().await?;
        check(&digests)?;
        packer.share().await?;
        return Ok(Ingested {
            digests,
            chunks,
            packs: std::mem::take(&mut packer.done),
        });
    }

    // MD5 usually trails the pipeline: make the last pack durable meanwhile.
    // If the verification below fails, that pack is deleted again.
    let (digests, finished) = tokio::join!(hasher.finish(), packer.finish_current());
    let digests = match (digests, finished) {
        (Ok(d), Ok(())) => d,
        (Err(e), _) | (_, Err(e)) => {
            packer.discard().await;
            return Err(e);
        }
    };
    if let Err(e) = check(&digests) {
        packer.discard().await;
        return Err(e);
    }
    Ok(Ingested {
        digests,
        chunks,
        packs: std::mem::take(&mut packer.done),
    })
}
