//! The engine's public vocabulary: what the S3 front (and later the admin API)
//! hands to the engine and gets back. Kept free of HTTP and of s3s types so the
//! engine can be driven by anything.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use time::OffsetDateTime;

pub use coffer_repo::ChecksumAlgorithm;

/// A request or response body: a stream of byte buffers. An `Err` item means the
/// peer went away or the body was malformed; the engine then stores nothing.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static>>;

/// Which version of an object a request names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionId {
    /// The `null` version: what unversioned and suspended buckets write.
    Null,
    /// A version id minted by the engine while versioning was enabled.
    Id(String),
}

impl VersionId {
    /// Parses the `versionId` a client sent (`"null"` is the null version).
    pub fn parse(s: &str) -> Self {
        if s == "null" {
            VersionId::Null
        } else {
            VersionId::Id(s.to_owned())
        }
    }

    /// The string S3 shows for this version.
    pub fn as_str(&self) -> &str {
        match self {
            VersionId::Null => "null",
            VersionId::Id(s) => s,
        }
    }
}

/// A bucket's versioning state as S3 knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersioningState {
    /// Never enabled: GetBucketVersioning answers with no Status.
    #[default]
    Unversioned,
    Enabled,
    Suspended,
}

#[derive(Debug, Clone)]
pub struct BucketInfo {
    pub name: String,
    pub created: OffsetDateTime,
    pub versioning: VersioningState,
}

/// Metadata a client sets on an object, stored with every version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub content_type: Option<String>,
    /// cache-control, content-disposition, content-encoding, content-language,
    /// expires, website-redirect-location … as (lower-case header name, value).
    pub system: Vec<(String, String)>,
    /// `x-amz-meta-*` entries, name without the prefix, lower-case.
    pub user: Vec<(String, String)>,
    /// The object's tag set, in the order given (`engine::tags`).
    pub tags: Vec<(String, String)>,
    /// The version's retention and legal hold (`engine::object_lock`).
    pub lock: crate::engine::object_lock::VersionLock,
}

impl ObjectMeta {
    /// The stored system-metadata list (manifest or upload record): the
    /// headers, then the tags, then the lock.
    pub(crate) fn stored_system(&self) -> Vec<(String, String)> {
        let mut stored = crate::engine::tags::join(&self.system, &self.tags);
        crate::engine::object_lock::join(&mut stored, &self.lock);
        stored
    }

    /// The inverse of [`ObjectMeta::stored_system`], with the fields stored apart.
    pub(crate) fn from_stored(
        content_type: Option<String>,
        stored: &[(String, String)],
        user: Vec<(String, String)>,
    ) -> Self {
        let (system, tags) = crate::engine::tags::split(stored);
        let (system, lock) = crate::engine::object_lock::split(&system);
        ObjectMeta {
            content_type,
            system,
            user,
            tags,
            lock,
        }
    }
}

/// One object version as listed or read.
#[derive(Debug, Clone)]
pub struct ObjectInfo {
    pub bucket: String,
    pub key: String,
    /// `None` when the bucket has never been versioned (S3 then sends no
    /// `x-amz-version-id`); `Some(VersionId::Null)` for the null version of a
    /// versioned or suspended bucket.
    pub version_id: Option<VersionId>,
    pub is_latest: bool,
    pub is_delete_marker: bool,
    pub last_modified: OffsetDateTime,
    pub size: u64,
    /// Without quotes: `<md5 hex>` or `<md5 hex>-<parts>`.
    pub etag: String,
    pub meta: ObjectMeta,
    /// Stored checksums (raw digest bytes), returned with `x-amz-checksum-mode: ENABLED`.
    pub checksums: Vec<(ChecksumAlgorithm, Vec<u8>)>,
    /// `false` for multipart uploads whose checksums are composite (`-N` suffix).
    pub checksum_full_object: bool,
    /// Number of parts for a multipart object, `None` for a single PUT.
    pub parts_count: Option<u32>,
    /// Sizes of the parts of a multipart object (for `partNumber` reads).
    pub part_sizes: Arc<[u64]>,
}

/// Digests the engine computed over a body while storing it.
#[derive(Debug, Clone, Default)]
pub struct Digests {
    pub md5: [u8; 16],
    pub size: u64,
    /// One entry per algorithm requested in [`PutOptions::checksums`].
    pub checksums: Vec<(ChecksumAlgorithm, Vec<u8>)>,
}

/// Called once the whole body has been read and before anything is committed.
/// Returning an error aborts the write: nothing is stored, the previous
/// version stays current. The S3 front uses it to check Content-MD5, declared
/// checksums and trailer checksums (which arrive only after the body).
pub type Verifier = Box<dyn FnOnce(&Digests) -> Result<(), crate::engine::EngineError> + Send>;

/// Options of a PUT (object or part).
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    pub meta: ObjectMeta,
    /// Checksums to compute and store besides MD5.
    pub checksums: Vec<ChecksumAlgorithm>,
    /// The Content-Length (decoded length for aws-chunked) the client declared;
    /// a body that ends short or runs long is rejected with `IncompleteBody`.
    pub expected_size: Option<u64>,
    /// If-Match / If-None-Match of the write, evaluated inside the commit
    /// against the version current at that moment (not before the body is read).
    pub precondition: WritePrecondition,
}

/// An ETag condition of a conditional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ETagMatch {
    /// `*`: any current object.
    Any,
    /// One ETag (without quotes).
    ETag(String),
}

impl ETagMatch {
    fn matches(&self, etag: &str) -> bool {
        match self {
            ETagMatch::Any => true,
            ETagMatch::ETag(e) => e == etag,
        }
    }
}

/// The conditions of a PutObject or CompleteMultipartUpload. A delete
/// marker as the latest version counts as no current object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WritePrecondition {
    /// The write happens only if the current object's ETag matches; with no
    /// current object it fails with `NoSuchKey` (as S3 does).
    pub if_match: Option<ETagMatch>,
    /// The write happens only if no current object matches (`*`: none exists).
    pub if_none_match: Option<ETagMatch>,
}

impl WritePrecondition {
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Checks the condition against the current object's ETag (`None`: no
    /// current object, or a delete marker).
    pub fn check(&self, current_etag: Option<&str>) -> Result<(), crate::engine::EngineError> {
        use crate::engine::EngineError;
        if let Some(cond) = &self.if_none_match
            && current_etag.is_some_and(|e| cond.matches(e))
        {
            return Err(EngineError::PreconditionFailed);
        }
        if let Some(cond) = &self.if_match {
            match current_etag {
                None => return Err(EngineError::NoSuchKey),
                Some(e) if !cond.matches(e) => return Err(EngineError::PreconditionFailed),
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// A resolved byte range `[start, end]` inclusive, already checked against the size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end_inclusive: u64,
}

/// Result of DeleteObject.
#[derive(Debug, Clone)]
pub struct DeleteOutcome {
    /// The version id removed, or of the delete marker created.
    pub version_id: Option<VersionId>,
    /// True when the call created (or removed) a delete marker.
    pub delete_marker: bool,
}

/// ListObjects / ListObjectsV2 query (marker semantics are resolved by the S3 front:
/// `start_after` is exclusive and already takes the continuation token into account).
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub prefix: String,
    /// `None` (or empty, which the front maps to `None`) = no delimiter.
    pub delimiter: Option<String>,
    pub start_after: Option<String>,
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// Current, non-delete-marker versions, in key order.
    pub objects: Vec<ObjectInfo>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The last key or common prefix returned; the next page starts after it.
    pub next_marker: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct VersionsQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub version_id_marker: Option<String>,
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default)]
pub struct VersionsPage {
    /// Versions and delete markers, key order, newest first within a key.
    pub versions: Vec<ObjectInfo>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PartInfo {
    pub part_number: u32,
    pub etag: String,
    pub size: u64,
    pub last_modified: OffsetDateTime,
    pub checksums: Vec<(ChecksumAlgorithm, Vec<u8>)>,
}

#[derive(Debug, Clone)]
pub struct UploadInfo {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub initiated: OffsetDateTime,
    pub meta: ObjectMeta,
    pub checksum_algorithm: Option<ChecksumAlgorithm>,
}

#[derive(Debug, Clone, Default)]
pub struct PartsPage {
    pub parts: Vec<PartInfo>,
    pub is_truncated: bool,
    pub next_part_number_marker: Option<u32>,
}

#[derive(Debug, Clone, Default)]
pub struct UploadsQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    pub key_marker: Option<String>,
    pub upload_id_marker: Option<String>,
    pub max_uploads: usize,
}

#[derive(Debug, Clone, Default)]
pub struct UploadsPage {
    pub uploads: Vec<UploadInfo>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<String>,
}

/// One part named in CompleteMultipartUpload.
#[derive(Debug, Clone)]
pub struct CompletedPart {
    pub part_number: u32,
    /// As the client sent it, quotes stripped.
    pub etag: String,
}

/// What the first start created; printed once by `cofferd`, never again.
#[derive(Debug, Clone)]
pub struct InitReport {
    pub data_dir: std::path::PathBuf,
    pub master_key_file: std::path::PathBuf,
    pub root_access_key: String,
    pub root_secret_key: String,
    /// `true` when the server chose the secret (none was configured): only
    /// then is it printed, since the operator has no other way to learn it. A
    /// supplied one is never printed, so it does not land in service logs.
    pub root_secret_generated: bool,
}
