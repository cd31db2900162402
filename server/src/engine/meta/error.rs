//! Errors of the metadata store, keeping the kind of what failed: redb's own
//! errors (I/O, corruption, a full disk) stay inspectable instead of being
//! flattened into strings, so callers and logs can tell them apart.

use std::sync::Arc;

/// What a metadata operation failed with. Wrapped by
/// [`EngineError::Meta`](crate::engine::EngineError::Meta) together with the
/// operation that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    /// redb failed (storage, transaction, table or commit error). Boxed:
    /// redb's error is large and every engine result would carry its size.
    #[error(transparent)]
    Redb(Box<redb::Error>),
    /// Upgrading a redb-2 (file format v2) database in place failed.
    #[error("upgrading the redb 2 database: {0}")]
    Upgrade(#[source] Box<redb2::Error>),
    /// A stored value or key does not decode.
    #[error("corrupt {0} record")]
    Corrupt(&'static str),
    /// A sealed record value does not open where it is stored: moved from
    /// another key or table, tampered with, or sealed under another
    /// repository's metadata key.
    #[error("sealed {0} record does not open: moved, tampered with, or sealed under another key")]
    Unsealable(&'static str),
    /// A record written by a newer release (or garbage).
    #[error("{what} record has unknown version {version}")]
    UnknownVersion { what: &'static str, version: u8 },
    /// Records that decode but contradict each other.
    #[error("inconsistent metadata: {0}")]
    Inconsistent(String),
    /// The group transaction this job was part of was not committed: it
    /// could not begin, a commit hook failed, or the commit itself failed.
    /// The cause is shared by every job of the batch.
    #[error("metadata transaction aborted: {0}")]
    BatchAborted(#[source] Arc<crate::engine::EngineError>),
    /// Another job of the same group transaction failed hard, so the whole
    /// batch was dropped uncommitted (its message).
    #[error("metadata transaction aborted by another write: {0}")]
    OtherJobFailed(String),
    /// The commit thread is gone (the engine is shutting down).
    #[error("the commit thread stopped")]
    CommitterStopped,
}

impl From<redb::Error> for MetaError {
    fn from(e: redb::Error) -> Self {
        MetaError::Redb(Box::new(e))
    }
}

impl MetaError {
    /// The same error as an [`EngineError`](crate::engine::EngineError) naming `what`.
    pub(crate) fn at(self, what: &'static str) -> crate::engine::EngineError {
        crate::engine::EngineError::Meta { what, source: self }
    }
}

/// A corrupt-record engine error (the most common decode failure).
pub(crate) fn corrupt(what: &'static str) -> crate::engine::EngineError {
    MetaError::Corrupt(what).at("decode")
}
