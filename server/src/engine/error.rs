//! Errors of the engine, one variant per condition a client can tell apart.
//! The S3 front maps each onto an S3 error code (`s3::error`).

use crate::engine::types::ChecksumAlgorithm;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    #[error("no such bucket: {0}")]
    NoSuchBucket(String),
    #[error("bucket already exists and is yours: {0}")]
    BucketAlreadyOwnedByYou(String),
    #[error("bucket is not empty: {0}")]
    BucketNotEmpty(String),
    #[error("invalid bucket name: {0}")]
    InvalidBucketName(String),
    #[error("no such key")]
    NoSuchKey,
    #[error("no such version")]
    NoSuchVersion,
    /// The addressed version is a delete marker (S3 answers 404 or 405 with
    /// `x-amz-delete-marker: true`).
    #[error("the version is a delete marker")]
    DeleteMarker {
        version_id: Option<crate::engine::types::VersionId>,
        by_version_id: bool,
    },
    #[error("no such upload")]
    NoSuchUpload,
    #[error("invalid part: {0}")]
    InvalidPart(String),
    #[error("parts are not in ascending order")]
    InvalidPartOrder,
    #[error("part {part_number} is smaller than the 5 MiB minimum")]
    EntityTooSmall { part_number: u32 },
    #[error("Content-MD5 does not match the body")]
    BadDigest,
    #[error("{0:?} checksum does not match the body")]
    ChecksumMismatch(ChecksumAlgorithm),
    #[error("the body ended before its declared length, or ran past it")]
    IncompleteBody,
    #[error("key too long (limit is 1024 bytes)")]
    KeyTooLong,
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A tag set over AWS's limits (S3: `InvalidTag`).
    #[error("{0}")]
    InvalidTag(crate::engine::tags::TagError),
    /// A bucket's state forbids the change (S3: `InvalidBucketState`, 409).
    #[error("{0}")]
    InvalidBucketState(String),
    /// Object lock forbids the removal or change, or the bucket has none
    /// (S3: `AccessDenied`, `InvalidArgument`, `InvalidRequest`).
    #[error("{0}")]
    Lock(crate::engine::object_lock::LockError),
    /// A lifecycle configuration AWS would refuse (S3: the code of each).
    #[error("{0}")]
    InvalidLifecycle(crate::engine::lifecycle::LifecycleError),
    #[error("the bucket has no lifecycle configuration")]
    NoSuchLifecycleConfiguration,
    /// A retention rule that cannot be set (it keeps nothing, too many…).
    #[error("{0}")]
    InvalidRetention(crate::engine::retention::rules::RetentionError),
    #[error("the bucket has no retention rule for prefix {0:?}")]
    NoSuchRetentionRule(String),
    #[error("the requested range is not satisfiable")]
    InvalidRange,
    #[error("client body error: {0}")]
    Body(#[source] std::io::Error),
    #[error("repository: {0}")]
    Repo(#[from] coffer_repo::Error),
    /// The metadata store failed while doing `what`; `source` keeps the kind.
    #[error("metadata store ({what}): {source}")]
    Meta {
        what: &'static str,
        #[source]
        source: crate::engine::meta::MetaError,
    },
    /// A conditional write (If-Match / If-None-Match) did not hold against
    /// the version current at commit time (S3: 412).
    #[error("precondition failed")]
    PreconditionFailed,
    /// A PUT stored some chunks by reference to index entries that were
    /// dropped (by gc) before its commit. Soft: nothing was written.
    #[error("{} deduplicated chunk(s) left the index before the commit", .0.len())]
    DedupChunkGone(Vec<coffer_repo::ChunkId>),
    #[error("store: {0}")]
    Backend(#[from] crate::backend::StoreError),
    /// A request body that is well-formed XML but not a valid request (e.g.
    /// CompleteMultipartUpload without parts).
    #[error("malformed request: {0}")]
    MalformedXml(String),
    #[error("internal: {0}")]
    Internal(String),
}

pub type EngineResult<T> = Result<T, EngineError>;
