//! Group commit of pack bytes (DESIGN.md, "Hot paths"). A body small enough to
//! stay in memory is not given a pack file of its own: it is queued here, and
//! every body waiting at that moment goes into one pack that is written,
//! fsynced, renamed and directory-fsynced once. Each writer gets back the pack
//! with only its own chunks' index entries and commits its metadata itself
//! (the committer batches those too), so nothing is acknowledged before both
//! the shared pack and the writer's transaction are durable.
//!
//! Without this, each 4 KiB PUT paid for a file creation, two fsyncs and a
//! rename of its own, and concurrent PUTs queued on the pack directory's lock.
//!
//! A shared pack is never deleted by one of its writers: when a writer's
//! metadata commit fails, its chunks stay behind as dead bytes, which the
//! pack's live-byte count already leaves out (gc reclaims them).
//!
//! A failed pack write is answered to the batch's writers, not to the runner:
//! the step itself succeeds, since the next batch may well be written.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use coffer_repo::{ChunkId, ChunkKind, Keys, PackBuilder, SealedChunk};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::backend::{Backend, BackendError};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::ingest::NewPack;
use crate::workers::{Ready, Schedule, Spec, Step, Worker, WorkerError};

/// Bodies waiting for a writer before senders wait too.
const QUEUE: usize = 1024;

struct Request {
    chunks: Vec<(ChunkId, SealedChunk)>,
    bytes: u64,
    reply: oneshot::Sender<EngineResult<NewPack>>,
}

/// Handle to the shared-pack queue. The writer that empties it is a worker
/// ([`SharedPackWriter`], run by `workers::Runner`); it ends once every
/// handle is dropped.
pub(crate) struct SharedPacks {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for SharedPacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedPacks").finish_non_exhaustive()
    }
}

/// The queue's receiving end, shared by every instance of the writer: a
/// writer rebuilt after a panic finds the bodies still waiting there.
type Queue = Arc<Mutex<mpsc::Receiver<Request>>>;

impl SharedPacks {
    /// The queue and the spec of its writer; nothing runs until the spec is
    /// started on a runner. A batch is closed once it holds `max_bytes` (the
    /// pack target size).
    ///
    /// One writer, not several: while it waits for a pack's fsync the next
    /// bodies queue up and all go into the following pack. With a second
    /// writer (4 KiB PUTs, 32 at a time) packs held about half as many
    /// bodies and PUTs per second dropped (about 3,600 against 4,800, from
    /// runs of different lengths): file creation in the pack directory, not
    /// the fsync, was the cost.
    pub fn new(backend: Arc<dyn Backend>, keys: Keys, max_bytes: u64) -> (Self, Spec) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let queue: Queue = Arc::new(Mutex::new(rx));
        let spec = Spec::new(SCHEDULE, move || {
            Box::new(SharedPackWriter {
                queue: Arc::clone(&queue),
                backend: Arc::clone(&backend),
                keys: keys.clone(),
                max_bytes,
                first: None,
                packs: 0,
                bodies: 0,
            })
        });
        (SharedPacks { tx }, spec)
    }

    /// Stores `chunks` (in order) in the next shared pack and returns it once
    /// it is durable, with index entries for these chunks only.
    pub async fn write(&self, chunks: Vec<(ChunkId, SealedChunk)>) -> EngineResult<NewPack> {
        let bytes = chunks.iter().map(|(_, s)| s.bytes.len() as u64).sum();
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Request {
                chunks,
                bytes,
                reply,
            })
            .await
            .map_err(|_| EngineError::Internal("shared pack writer stopped".into()))?;
        rx.await
            .map_err(|_| EngineError::Internal("shared pack writer dropped a body".into()))?
    }
}

/// Writers wait in the queue while this one backs off, so its retries are quick.
const SCHEDULE: Schedule = Schedule {
    idle_interval: Duration::ZERO,
    backoff_min: Duration::from_millis(100),
    backoff_max: Duration::from_secs(5),
};

/// The worker that writes shared packs; one step writes one batch.
pub(crate) struct SharedPackWriter {
    queue: Queue,
    backend: Arc<dyn Backend>,
    keys: Keys,
    max_bytes: u64,
    /// The body [`Worker::ready`] took off the queue, for the next step.
    first: Option<Request>,
    packs: u64,
    bodies: u64,
}

#[async_trait::async_trait]
impl Worker for SharedPackWriter {
    fn name(&self) -> &'static str {
        "shared-pack-writer"
    }

    async fn ready(&mut self) -> Ready {
        if self.first.is_some() {
            return Ready::Work;
        }
        // Both the lock and `recv` are cancel-safe: a stop while waiting loses nothing.
        let mut rx = self.queue.lock().await;
        match rx.recv().await {
            Some(r) => {
                self.first = Some(r);
                Ready::Work
            }
            None => Ready::Finished,
        }
    }

    async fn step(&mut self) -> Result<Step, WorkerError> {
        let Some(first) = self.first.take() else {
            return Ok(Step::Worked);
        };
        // Everything queued while the previous pack was being written.
        let mut bytes = first.bytes;
        let mut batch = vec![first];
        {
            let mut rx = self.queue.lock().await;
            while bytes < self.max_bytes {
                match rx.try_recv() {
                    Ok(r) => {
                        bytes += r.bytes;
                        batch.push(r);
                    }
                    Err(_) => break,
                }
            }
        }
        self.packs += 1;
        self.bodies += batch.len() as u64;
        write_batch(self.backend.as_ref(), &self.keys, batch).await;
        Ok(Step::Worked)
    }

    fn progress(&self) -> Option<String> {
        Some(format!(
            "{} bodies in {} packs (this instance)",
            self.bodies, self.packs
        ))
    }
}

async fn write_batch(backend: &dyn Backend, keys: &Keys, batch: Vec<Request>) {
    let mut builder = PackBuilder::new();
    let total: u64 = batch.iter().map(|r| r.bytes).sum();
    let mut buf = BytesMut::with_capacity(usize::try_from(total).unwrap_or(0) + 4096);
    let mut spans = Vec::with_capacity(batch.len());
    for r in &batch {
        let start = builder.chunk_count();
        for (id, sealed) in &r.chunks {
            builder.add(*id, ChunkKind::Data, sealed);
            buf.extend_from_slice(&sealed.bytes);
        }
        spans.push(start..builder.chunk_count());
    }
    match store(backend, keys, builder, buf).await {
        Ok(pack) => {
            for (r, span) in batch.into_iter().zip(spans) {
                let _ = r.reply.send(Ok(NewPack {
                    id: pack.id,
                    size: pack.size,
                    entries: pack.entries[span].to_vec(),
                    shared: true,
                }));
            }
        }
        Err(e) => {
            // Every writer of the batch gets the failure, of the same kind.
            let msg = format!("shared pack: {e}");
            let is_backend = matches!(e, EngineError::Backend(_));
            for r in batch {
                let err = if is_backend {
                    EngineError::Backend(BackendError::Other(msg.clone()))
                } else {
                    EngineError::Internal(msg.clone())
                };
                let _ = r.reply.send(Err(err));
            }
        }
    }
}

/// Writes one pack in a single write and makes it durable.
async fn store(
    backend: &dyn Backend,
    keys: &Keys,
    builder: PackBuilder,
    mut buf: BytesMut,
) -> EngineResult<NewPack> {
    let fin = builder.finish(keys)?;
    buf.extend_from_slice(&fin.tail);
    let pack = NewPack::from_finished(&fin, true);
    let mut w = backend.create_pack().await?;
    if let Err(e) = w.write(buf.freeze()).await {
        w.abort().await;
        return Err(e.into());
    }
    if w.written() != fin.total_len {
        let written = w.written();
        w.abort().await;
        return Err(EngineError::Internal(format!(
            "pack length mismatch: builder {} written {written}",
            fin.total_len
        )));
    }
    w.finish(&pack.id).await?;
    Ok(pack)
}
