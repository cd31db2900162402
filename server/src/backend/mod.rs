//! Where packs live: the backend trait and its implementations.
//!
//! A backend stores immutable pack files named by their id. Packs are written
//! through a [`PackWriter`] (streamed to a temporary place, made durable and
//! named only on [`PackWriter::finish`]) so a crash or an aborted upload never
//! leaves a half-written pack under a real name. The trait is object-safe so a
//! failover set of backends (local, S3, …) can be layered over it later.

pub mod local;

use std::fmt::Debug;

use async_trait::async_trait;
use bytes::Bytes;
use coffer_repo::PackId;

pub use local::LocalBackend;

/// Errors of a storage backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    #[error("I/O on {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no such pack: {0}")]
    NotFound(String),
    /// A range read asked for bytes past the end of the pack.
    #[error("short read in pack {pack}: wanted {wanted} bytes at {offset}, pack has {len}")]
    ShortRead {
        pack: String,
        offset: u64,
        wanted: u64,
        len: u64,
    },
    /// Injected or otherwise unexpected failure (used by fault-injecting wrappers).
    #[error("backend failure: {0}")]
    Other(String),
}

pub type BackendResult<T> = Result<T, BackendError>;

/// A store of packs.
#[async_trait]
pub trait Backend: Send + Sync + Debug {
    /// Starts a new pack; its bytes become visible only on `finish`.
    async fn create_pack(&self) -> BackendResult<Box<dyn PackWriter>>;
    /// Reads exactly `len` bytes at `offset` of a pack.
    async fn read_range(&self, pack: &PackId, offset: u64, len: u64) -> BackendResult<Bytes>;
    /// Length of a stored pack in bytes.
    async fn pack_len(&self, pack: &PackId) -> BackendResult<u64>;
    /// Every stored (finished) pack.
    async fn list_packs(&self) -> BackendResult<Vec<PackId>>;
    /// Removes a pack; removing a pack that does not exist is not an error.
    async fn delete_pack(&self, pack: &PackId) -> BackendResult<()>;
}

/// A pack being written. Dropping it without `finish` must not leave a named
/// pack behind (implementations clean up, or clean stale temporaries at open).
#[async_trait]
pub trait PackWriter: Send + Debug {
    /// Appends bytes to the pack.
    async fn write(&mut self, data: Bytes) -> BackendResult<()>;
    /// Bytes appended so far.
    fn written(&self) -> u64;
    /// Makes the pack durable and visible under `id`; `Ok` means it survives a crash.
    async fn finish(self: Box<Self>, id: &PackId) -> BackendResult<()>;
    /// Discards everything written.
    async fn abort(self: Box<Self>);
}
