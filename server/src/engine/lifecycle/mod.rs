//! Lifecycle rules: a bucket's configuration (stored sealed as the bucket
//! setting `lifecycle`, read through a cache since every object request
//! asks for its expiry), the expiry a current version is shown with
//! (`x-amz-expiration`), the plan of what the rules will do, and the
//! worker that does it (`worker`).

pub mod evaluate;
pub mod rules;
pub(crate) mod worker;

use std::sync::Arc;

use time::OffsetDateTime;

use super::Engine;
use super::error::{EngineError, EngineResult};
use super::generation_cache::{GenerationCache, Invalidator, bucket_setting_invalidator};
use super::meta::buckets;
use super::types::ObjectInfo;
use evaluate::{Action, Row};
pub use rules::{LifecycleConfig, LifecycleError};

/// The bucket setting holding the configuration.
pub(crate) const SETTING: &str = "lifecycle";
const WHAT: &str = "lifecycle configuration";
/// Buckets whose configuration (or its absence) is kept in memory.
const CACHE_CAPACITY: usize = 4096;

/// Per bucket: its configuration, or `None` for none.
pub(crate) type LifecycleCache = GenerationCache<Option<Arc<LifecycleConfig>>>;

pub(crate) fn new_cache() -> Arc<LifecycleCache> {
    Arc::new(GenerationCache::new(CACHE_CAPACITY))
}

pub(crate) fn invalidator(cache: Arc<LifecycleCache>) -> Invalidator<Option<Arc<LifecycleConfig>>> {
    bucket_setting_invalidator(cache, SETTING)
}

/// What `x-amz-expiration` says of a current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    pub date: OffsetDateTime,
    pub rule_id: String,
}

/// One thing the rules will do (`coffer lifecycle plan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedAction {
    pub key: String,
    /// `None` for an upload to abort.
    pub version_id: Option<String>,
    pub upload_id: Option<String>,
    pub action: PlanAction,
    pub rule_id: String,
    pub due: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAction {
    ExpireCurrent,
    DeleteNoncurrent,
    RemoveDeleteMarker,
    AbortUpload,
}

impl PlanAction {
    pub fn name(self) -> &'static str {
        match self {
            PlanAction::ExpireCurrent => "expire-current",
            PlanAction::DeleteNoncurrent => "delete-noncurrent",
            PlanAction::RemoveDeleteMarker => "remove-delete-marker",
            PlanAction::AbortUpload => "abort-upload",
        }
    }
}

impl From<Action> for PlanAction {
    fn from(a: Action) -> Self {
        match a {
            Action::ExpireCurrent => PlanAction::ExpireCurrent,
            Action::DeleteNoncurrent => PlanAction::DeleteNoncurrent,
            Action::RemoveMarker => PlanAction::RemoveDeleteMarker,
        }
    }
}

/// The plan: the earliest `limit` actions, and how many there are in all.
#[derive(Debug, Clone, Default)]
pub struct LifecyclePlan {
    pub actions: Vec<PlannedAction>,
    pub total: u64,
    pub versions_scanned: u64,
}

impl Engine {
    /// A bucket's lifecycle configuration, `None` when it has none
    /// (S3: `NoSuchLifecycleConfiguration`).
    /// Served from memory between changes: every object request asks.
    pub fn lifecycle(&self, bucket: &str) -> EngineResult<Option<Arc<LifecycleConfig>>> {
        self.inner
            .lifecycle_cache
            .bucket_setting(&self.inner.meta, bucket, SETTING, WHAT, |b| {
                LifecycleConfig::decode(b).map(Arc::new)
            })
    }

    /// Sets (`Some`) or removes (`None`) a bucket's lifecycle configuration.
    /// A configuration AWS would refuse changes nothing.
    pub fn put_lifecycle(
        &self,
        bucket: &str,
        config: Option<&LifecycleConfig>,
    ) -> EngineResult<()> {
        if let Some(c) = config {
            c.validate().map_err(EngineError::InvalidLifecycle)?;
        }
        let plain = config.map(LifecycleConfig::encode);
        self.inner.meta.write("put lifecycle configuration", |txn| {
            buckets::put_sealed_setting(txn, bucket, SETTING, plain.as_deref())
        })
    }

    /// When a version expires under its bucket's rules, for
    /// `x-amz-expiration`: only current versions that are not delete
    /// markers, and only by `Expiration` `Days` or `Date`. A bucket whose
    /// rules cannot be read shows none (the request itself must not fail
    /// for it).
    pub fn expiry_of(&self, info: &ObjectInfo) -> Option<Expiry> {
        if !info.is_latest || info.is_delete_marker {
            return None;
        }
        let config = self.lifecycle(&info.bucket).ok()??;
        let row = Row {
            key: &info.key,
            slot: evaluate::Slot::default(),
            mtime: info.last_modified,
            object: Some((info.size, &info.meta.tags)),
            delete_marker: false,
        };
        let (rule, date) = config.current_expiry(&row)?;
        Some(Expiry {
            date,
            rule_id: config.rules[rule].id.clone(),
        })
    }

    /// What the bucket's rules will do, earliest first: the first `limit`
    /// actions and the count of all. Reads the whole bucket in snapshots of
    /// a bounded number of versions (never all at once).
    pub fn lifecycle_plan(&self, bucket: &str, limit: usize) -> EngineResult<LifecyclePlan> {
        let Some(config) = self.lifecycle(bucket)? else {
            return Err(EngineError::NoSuchLifecycleConfiguration);
        };
        worker::plan(&self.inner, bucket, &config, limit)
    }
}
