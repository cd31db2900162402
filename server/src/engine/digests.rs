//! MD5 and the S3 checksums over a body, computed beside the chunk pipeline.
//!
//! MD5 is the slowest step of a PUT (~0.57 GB/s), so it runs beside the
//! chunker on the blocking pool, fed the same `Bytes` buffers the chunker
//! gets (cheap reference-counted clones, no copies) through a bounded queue.
//! The queue is drained by an async task that hands the pool one batch of
//! at least [`HASH_BATCH_BYTES`] at a time: a body that stalls costs a parked
//! task, never a parked thread (a flood of stalled uploads once filled the
//! whole blocking pool and froze every other request). Bodies declared small
//! are hashed inline instead.

use std::sync::Arc;

use bytes::Bytes;
use md5::Digest as _;
use tokio::sync::{Semaphore, mpsc};

use crate::engine::error::{EngineError, EngineResult};
use crate::engine::types::{ChecksumAlgorithm, Digests};

enum State {
    Crc(crc_fast::Digest),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

fn crc_algorithm(a: ChecksumAlgorithm) -> Option<crc_fast::CrcAlgorithm> {
    match a {
        ChecksumAlgorithm::Crc32 => Some(crc_fast::CrcAlgorithm::Crc32IsoHdlc),
        ChecksumAlgorithm::Crc32c => Some(crc_fast::CrcAlgorithm::Crc32Iscsi),
        ChecksumAlgorithm::Crc64Nvme => Some(crc_fast::CrcAlgorithm::Crc64Nvme),
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
    }
}

/// Width in bytes of a CRC algorithm's value (S3 encodes CRCs big-endian).
fn crc_width(a: ChecksumAlgorithm) -> usize {
    if a == ChecksumAlgorithm::Crc64Nvme {
        8
    } else {
        4
    }
}

impl State {
    fn new(a: ChecksumAlgorithm) -> Self {
        match (a, crc_algorithm(a)) {
            (_, Some(c)) => State::Crc(crc_fast::Digest::new(c)),
            (ChecksumAlgorithm::Sha1, None) => State::Sha1(sha1::Sha1::new()),
            _ => State::Sha256(sha2::Sha256::new()),
        }
    }
    fn update(&mut self, data: &[u8]) {
        match self {
            State::Crc(d) => d.update(data),
            State::Sha1(d) => d.update(data),
            State::Sha256(d) => d.update(data),
        }
    }
    fn finish(self, a: ChecksumAlgorithm) -> Vec<u8> {
        match self {
            State::Crc(d) => {
                let v = d.finalize().to_be_bytes();
                v[8 - crc_width(a)..].to_vec()
            }
            State::Sha1(d) => d.finalize().to_vec(),
            State::Sha256(d) => d.finalize().to_vec(),
        }
    }
}

/// Incremental MD5 + checksums + length.
pub(crate) struct BodyHasher {
    md5: md5::Md5,
    sums: Vec<(ChecksumAlgorithm, State)>,
    size: u64,
}

impl std::fmt::Debug for BodyHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyHasher")
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BodyHasher {
    pub fn new(algorithms: &[ChecksumAlgorithm]) -> Self {
        let mut sums: Vec<(ChecksumAlgorithm, State)> = Vec::new();
        for &a in algorithms {
            if !sums.iter().any(|(b, _)| *b == a) {
                sums.push((a, State::new(a)));
            }
        }
        BodyHasher {
            md5: md5::Md5::new(),
            sums,
            size: 0,
        }
    }
    pub fn update(&mut self, data: &[u8]) {
        self.md5.update(data);
        for (_, s) in &mut self.sums {
            s.update(data);
        }
        self.size += data.len() as u64;
    }
    pub fn finish(self) -> Digests {
        Digests {
            md5: self.md5.finalize().into(),
            size: self.size,
            checksums: self
                .sums
                .into_iter()
                .map(|(a, s)| (a, s.finish(a)))
                .collect(),
        }
    }
}

/// Bytes queued between the body and the hasher. The buffers are
/// shared with the chunker, so this bounds how far hashing may lag behind
/// (and so the memory a PUT pins) rather than adding copies.
const HASH_QUEUE_BYTES: usize = 8 << 20;

/// Bytes queued before a batch goes to the blocking pool: large enough that
/// handing it over costs nothing next to hashing it, small enough that the
/// queue (bounded by [`HASH_QUEUE_BYTES`]) never waits on a partial batch.
const HASH_BATCH_BYTES: usize = 512 << 10;

/// Bodies declared at most this long are hashed on the task that reads
/// them: handing a 4 KiB body to a thread and back cost more than hashing it.
const INLINE_HASH_MAX: u64 = 64 << 10;

type Shared = Arc<std::sync::Mutex<Option<BodyHasher>>>;

/// Where the body's buffers go to be hashed.
#[derive(Debug, Clone)]
pub(crate) enum HashFeed {
    Inline(Shared),
    /// Waits when the hasher lags more than [`HASH_QUEUE_BYTES`].
    Pooled {
        tx: mpsc::UnboundedSender<(Bytes, tokio::sync::OwnedSemaphorePermit)>,
        budget: Arc<Semaphore>,
    },
}

impl HashFeed {
    /// Hashes or queues `buf`. Errors only when the hasher is gone,
    /// which [`HashTask::finish`] reports.
    pub async fn send(&self, buf: Bytes) {
        match self {
            HashFeed::Inline(h) => {
                if let Ok(mut h) = h.lock()
                    && let Some(h) = h.as_mut()
                {
                    h.update(&buf);
                }
            }
            HashFeed::Pooled { tx, budget } => {
                // A buffer larger than the whole budget takes all of it.
                let want = u32::try_from(buf.len().clamp(1, HASH_QUEUE_BYTES)).unwrap_or(u32::MAX);
                let Ok(permit) = budget.clone().acquire_many_owned(want).await else {
                    return;
                };
                let _ = tx.send((buf, permit));
            }
        }
    }
}

/// The digests being computed; finished once the body (and every feed) is done.
#[derive(Debug)]
pub(crate) enum HashTask {
    Inline(Shared),
    Pooled(tokio::task::JoinHandle<EngineResult<Digests>>),
}

impl HashTask {
    pub async fn finish(self) -> EngineResult<Digests> {
        match self {
            HashTask::Inline(h) => h
                .lock()
                .ok()
                .and_then(|mut h| h.take())
                .map(BodyHasher::finish)
                .ok_or_else(|| EngineError::Internal("hash state lost".into())),
            HashTask::Pooled(handle) => handle
                .await
                .map_err(|e| EngineError::Internal(format!("hash task failed: {e}")))?,
        }
    }

    pub fn abort(self) {
        if let HashTask::Pooled(handle) = self {
            handle.abort();
        }
    }
}

/// Starts hashing a body: inline when it is declared small, otherwise in
/// batches on the blocking pool, fed through a bounded queue.
pub(crate) fn start_hasher(
    algorithms: &[ChecksumAlgorithm],
    expected_size: Option<u64>,
) -> (HashFeed, HashTask) {
    let mut hasher = BodyHasher::new(algorithms);
    if expected_size.is_some_and(|n| n <= INLINE_HASH_MAX) {
        let shared: Shared = Arc::new(std::sync::Mutex::new(Some(hasher)));
        return (HashFeed::Inline(shared.clone()), HashTask::Inline(shared));
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<(Bytes, tokio::sync::OwnedSemaphorePermit)>();
    let budget = Arc::new(Semaphore::new(HASH_QUEUE_BYTES));
    let handle = tokio::spawn(async move {
        let mut batch = Vec::new();
        let mut queued = 0usize;
        let mut open = true;
        while open {
            match rx.recv().await {
                Some(item) => {
                    queued += item.0.len();
                    batch.push(item);
                }
                None => open = false,
            }
            while open && queued < HASH_BATCH_BYTES {
                match rx.try_recv() {
                    Ok(item) => {
                        queued += item.0.len();
                        batch.push(item);
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            if queued >= HASH_BATCH_BYTES || (!open && !batch.is_empty()) {
                let items = std::mem::take(&mut batch);
                queued = 0;
                hasher = crate::blocking_pool::spawn(move || {
                    for (buf, permit) in items {
                        hasher.update(&buf);
                        drop(permit);
                    }
                    hasher
                })
                .await
                .map_err(|e| EngineError::Internal(format!("hash step failed: {e}")))?;
            }
        }
        Ok(hasher.finish())
    });
    (HashFeed::Pooled { tx, budget }, HashTask::Pooled(handle))
}

/// Checksum of `data` in one go.
pub(crate) fn checksum_of(a: ChecksumAlgorithm, data: &[u8]) -> Vec<u8> {
    let mut s = State::new(a);
    s.update(data);
    s.finish(a)
}

fn crc_value(bytes: &[u8]) -> EngineResult<u64> {
    if bytes.len() > 8 {
        return Err(EngineError::Internal("CRC value wider than 64 bits".into()));
    }
    Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Full-object CRC of a concatenation, from the parts' CRCs and lengths.
/// `None` for algorithms that cannot be combined (SHA).
pub(crate) fn combine_crcs(
    a: ChecksumAlgorithm,
    parts: &[(Vec<u8>, u64)],
) -> EngineResult<Option<Vec<u8>>> {
    let Some(alg) = crc_algorithm(a) else {
        return Ok(None);
    };
    let mut acc: Option<u64> = None;
    for (crc, len) in parts {
        let v = crc_value(crc)?;
        acc = Some(match acc {
            None => v,
            Some(prev) => crc_fast::checksum_combine(alg, prev, v, *len),
        });
    }
    let v = acc.unwrap_or_else(|| crc_fast::checksum(alg, b""));
    let bytes = v.to_be_bytes();
    Ok(Some(bytes[8 - crc_width(a)..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let mut h = BodyHasher::new(&[
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Sha256,
        ]);
        h.update(b"1234");
        h.update(b"56789");
        let d = h.finish();
        assert_eq!(hex::encode(d.md5), "25f9e794323b453885f5181f1b624d0b");
        assert_eq!(d.size, 9);
        assert_eq!(d.checksums[0].1, 0xcbf4_3926u32.to_be_bytes());
        assert_eq!(d.checksums[1].1, 0xe306_9283u32.to_be_bytes());
        assert_eq!(
            hex::encode(&d.checksums[2].1),
            "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"
        );
    }

    #[test]
    fn combined_crc_equals_whole() {
        for a in [
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
            ChecksumAlgorithm::Crc64Nvme,
        ] {
            let p1 = b"hello ".as_slice();
            let p2 = b"world, and more".as_slice();
            let parts = vec![
                (checksum_of(a, p1), p1.len() as u64),
                (checksum_of(a, p2), p2.len() as u64),
            ];
            let whole = checksum_of(a, b"hello world, and more");
            assert_eq!(combine_crcs(a, &parts).unwrap().unwrap(), whole, "{a:?}");
        }
    }
}
