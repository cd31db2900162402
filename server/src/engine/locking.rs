//! Object lock as the engine does it: buckets created with lock (versioning
//! on for good), their configuration (read through a cache: every write
//! asks for the default retention), and changing one version's retention or
//! legal hold. The rules themselves: `object_lock`.

use std::sync::Arc;

use super::Engine;
use super::error::{EngineError, EngineResult};
use super::generation_cache::{GenerationCache, Invalidator, bucket_setting_invalidator};
use super::meta::buckets;
use super::meta::codec::micros;
use super::meta::versions;
use super::object_lock::{self, BucketLock, LockError, Retention, SETTING, VersionLock, WHAT};
use super::objects::{check_key, manifest_meta, set_manifest_meta};
use super::types::{VersionId, VersioningState};

/// Per bucket: its lock configuration, `None` without object lock.
pub(crate) type LockCache = GenerationCache<Option<BucketLock>>;

pub(crate) fn new_cache() -> Arc<LockCache> {
    Arc::new(GenerationCache::new(4096))
}

pub(crate) fn invalidator(cache: Arc<LockCache>) -> Invalidator<Option<BucketLock>> {
    bucket_setting_invalidator(cache, SETTING)
}

/// A bucket's lock configuration inside a write transaction.
pub(crate) fn bucket_lock_rw(
    txn: &super::meta::Txn<'_>,
    bucket: &str,
) -> EngineResult<Option<BucketLock>> {
    match buckets::sealed_setting_rw(txn, bucket, SETTING, WHAT)? {
        Some(plain) => Ok(Some(BucketLock::decode(&plain)?)),
        None => Ok(None),
    }
}

/// What a version-lock change is.
#[derive(Debug, Clone, Copy)]
pub enum LockChange {
    /// Put (`Some`) or remove (`None`) the retention; `bypass`: the request
    /// asked to bypass governance and its key may.
    Retention {
        retention: Option<Retention>,
        bypass: bool,
    },
    LegalHold(bool),
}

impl Engine {
    /// Creates a bucket with object lock enabled: versioning is turned on in
    /// the same transaction and can never be suspended.
    pub fn create_locked_bucket(&self, name: &str) -> EngineResult<()> {
        if !super::bucket_name::is_valid(name) {
            return Err(EngineError::InvalidBucketName(name.to_owned()));
        }
        let now = micros(self.now());
        let plain = BucketLock::default().encode();
        self.inner
            .meta
            .write("create bucket with object lock", |txn| {
                buckets::create(txn, name, now)?;
                buckets::set_versioning(txn, name, VersioningState::Enabled)?;
                buckets::put_sealed_setting(txn, name, SETTING, Some(&plain))
            })
    }

    /// A bucket's lock configuration; `None` when object lock is not enabled.
    pub fn bucket_lock(&self, bucket: &str) -> EngineResult<Option<BucketLock>> {
        self.inner.lock_cache.bucket_setting(
            &self.inner.meta,
            bucket,
            SETTING,
            WHAT,
            BucketLock::decode,
        )
    }

    /// Sets a bucket's lock configuration. On a bucket without object lock
    /// this enables it, which S3 allows only while versioning is enabled.
    pub fn put_bucket_lock(&self, bucket: &str, lock: BucketLock) -> EngineResult<()> {
        let plain = lock.encode();
        self.inner.meta.write("put object lock configuration", |txn| {
            let rec = buckets::get_rw(txn, bucket)?;
            if bucket_lock_rw(txn, bucket)?.is_none() && rec.versioning != VersioningState::Enabled
            {
                return Err(EngineError::InvalidBucketState(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"
                        .into(),
                ));
            }
            buckets::put_sealed_setting(txn, bucket, SETTING, Some(&plain))
        })
    }

    /// Changes one version's retention or legal hold (latest when `version`
    /// is `None`) as S3 allows; returns the lock it now has.
    pub async fn change_version_lock(
        &self,
        bucket: &str,
        key: &str,
        version: Option<&VersionId>,
        change: LockChange,
    ) -> EngineResult<VersionLock> {
        check_key(key)?;
        let (b, k, v, clock) = (
            bucket.to_owned(),
            key.to_owned(),
            version.cloned(),
            self.inner.clock.clone(),
        );
        self.inner
            .meta
            .submit(move |txn| {
                match bucket_lock_rw(txn, &b) {
                    Ok(Some(_)) => {}
                    Ok(None) => return Ok(Err(EngineError::Lock(LockError::NotEnabled))),
                    Err(e @ EngineError::NoSuchBucket(_)) => return Ok(Err(e)),
                    Err(e) => return Err(e),
                }
                let now = clock.now();
                let mut after = VersionLock::default();
                let rewritten = versions::rewrite_manifest(txn, &b, &k, v.as_ref(), |m| {
                    let mut meta = manifest_meta(m);
                    match change {
                        LockChange::Retention { retention, bypass } => {
                            object_lock::check_retention_change(
                                meta.lock.retention,
                                retention,
                                now,
                                bypass,
                            )
                            .map_err(EngineError::Lock)?;
                            meta.lock.retention = retention;
                        }
                        LockChange::LegalHold(on) => meta.lock.legal_hold = Some(on),
                    }
                    after = meta.lock;
                    set_manifest_meta(m, meta);
                    Ok(())
                });
                match rewritten {
                    Ok(_) => Ok(Ok(after)),
                    Err(
                        e @ (EngineError::NoSuchKey
                        | EngineError::NoSuchVersion
                        | EngineError::DeleteMarker { .. }
                        | EngineError::InvalidArgument(_)
                        | EngineError::Lock(_)),
                    ) => Ok(Err(e)),
                    Err(e) => Err(e),
                }
            })
            .await
    }
}
