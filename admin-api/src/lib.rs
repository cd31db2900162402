//! `coffer-admin-api`: the JSON of Coffer's admin API v1, as one set of serde types
//! that `cofferd` encodes and the `coffer` CLI decodes, so the two cannot drift.
//!
//! The rule for every type: it serialises to exactly what cofferd has always sent
//! (field names, which fields are left out, `null`s), and it deserialises
//! leniently — a field cofferd always sends may be missing, so that an older or
//! newer server still gets its answer printed. The CLI's `--json` prints the
//! server's JSON as it came, not a re-encoding of these types.
//!
//! The endpoints and their bodies are described for users in `docs/admin-cli.md`.

mod bucket;
mod error;
mod grant;
mod key;
mod lifecycle;
mod retention;
mod share;
mod status;
mod timestamp;
mod workers;

pub use bucket::{Bucket, CreateBucket, Versioning};
pub use error::{ErrorBody, ErrorDetail};
pub use grant::{Grant, PutGrant, RemoveGrant};
pub use key::{CreateKey, Key};
pub use lifecycle::{
    AbortIncompleteMultipartUpload, Expiration, Lifecycle, LifecyclePlan, LifecycleRule,
    NoncurrentVersionExpiration, PLAN_DEFAULT_LIMIT, PLAN_MAX_LIMIT, PlannedAction, RuleFilter,
    RuleStatus, Tag,
};
pub use retention::{
    RETENTION_PLAN_DEFAULT_LIMIT, RETENTION_PLAN_MAX_LIMIT, Retention, RetentionPlan,
    RetentionPlanEntry, RetentionRule,
};
pub use share::{CreateShare, Share};
pub use status::{Health, Status};
pub use timestamp::Timestamp;
pub use workers::{WorkerState, WorkerStatus};
