//! Changing the tags of a stored version, and the tags of a bucket. An
//! object's tags are read with the version (`ObjectInfo::meta.tags`); a
//! bucket's live in its settings, sealed like every value a client sent.

use super::Engine;
use super::error::{EngineError, EngineResult};
use super::meta::buckets;
use super::meta::codec::{Reader, Writer};
use super::meta::versions;
use super::objects::{bucket_versioning_rw, check_key, soft_if_missing};
use super::tags::{self, TagSet};
use super::types::{VersionId, VersioningState};

/// The bucket setting holding the bucket's tag set.
const BUCKET_TAGS: &str = "tags";
const WHAT: &str = "bucket tags";

impl Engine {
    /// Replaces the tag set of a version (latest when `version` is `None`);
    /// an empty set removes every tag. The version keeps its id, time and
    /// data. Returns the version's id as S3 reports it (`None` for buckets
    /// never versioned).
    pub async fn put_object_tags(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&VersionId>,
        tags: TagSet,
    ) -> EngineResult<Option<VersionId>> {
        check_key(key)?;
        tags::check(&tags, false).map_err(EngineError::InvalidTag)?;
        let (b, k, v) = (bucket.to_owned(), key.to_owned(), version.cloned());
        self.inner
            .meta
            .submit(move |txn| {
                let versioning = match soft_if_missing(bucket_versioning_rw(txn, &b))? {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                };
                let rewritten = versions::rewrite_manifest(txn, &b, &k, v.as_ref(), |m| {
                    let (system, _) = tags::split(&m.system_metadata);
                    m.system_metadata = tags::join(&system, &tags);
                    Ok(())
                });
                match rewritten {
                    Ok(rec) => Ok(Ok(
                        (versioning != VersioningState::Unversioned).then(|| rec.version_id())
                    )),
                    Err(
                        e @ (EngineError::NoSuchKey
                        | EngineError::NoSuchVersion
                        | EngineError::DeleteMarker { .. }
                        | EngineError::InvalidArgument(_)),
                    ) => Ok(Err(e)),
                    Err(e) => Err(e),
                }
            })
            .await
    }

    /// A bucket's tag set; `None` when it has none (S3: `NoSuchTagSet`).
    pub fn bucket_tags(&self, bucket: &str) -> EngineResult<Option<TagSet>> {
        let txn = self.inner.meta.read()?;
        buckets::get(&txn, bucket)?;
        let Some(plain) = buckets::sealed_setting(&txn, bucket, BUCKET_TAGS, WHAT)? else {
            return Ok(None);
        };
        let mut r = Reader::new(&plain, WHAT);
        r.version(1)?;
        Ok(Some(r.pairs()?))
    }

    /// Sets (`Some`, at least one tag) or removes (`None`) a bucket's tags.
    pub fn put_bucket_tags(&self, bucket: &str, tags: Option<TagSet>) -> EngineResult<()> {
        if let Some(t) = &tags {
            tags::check(t, true).map_err(EngineError::InvalidTag)?;
        }
        let plain = tags.map(|t| Writer::with_version(1).pairs(&t).finish());
        self.inner.meta.write("put bucket tags", |txn| {
            buckets::put_sealed_setting(txn, bucket, BUCKET_TAGS, plain.as_deref())
        })
    }
}
