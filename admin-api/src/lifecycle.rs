//! A bucket's lifecycle rules, read only (S3 clients set them with
//! PutBucketLifecycleConfiguration): `GET /v1/buckets/{name}/lifecycle`, and
//! what the rules will do, earliest first: `GET /v1/buckets/{name}/lifecycle/plan`.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The actions a plan lists when `?limit=` is not given.
pub const PLAN_DEFAULT_LIMIT: u64 = 100;
/// The most actions one plan lists; a larger `?limit=` is lowered to it.
pub const PLAN_MAX_LIMIT: u64 = 10_000;

/// `GET /v1/buckets/{name}/lifecycle`: the rules in the order they were put.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    #[serde(default)]
    pub rules: Vec<LifecycleRule>,
}

/// A rule's `Status`, as S3 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleStatus {
    Enabled,
    Disabled,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Enabled => "Enabled",
            RuleStatus::Disabled => "Disabled",
        }
    }
}

/// One rule: which objects, and the actions (`null` for an action the rule
/// does not have).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleRule {
    #[serde(default)]
    pub id: String,
    pub status: RuleStatus,
    #[serde(default)]
    pub filter: RuleFilter,
    #[serde(default)]
    pub expiration: Option<Expiration>,
    #[serde(default)]
    pub noncurrent_version_expiration: Option<NoncurrentVersionExpiration>,
    #[serde(default)]
    pub abort_incomplete_multipart_upload: Option<AbortIncompleteMultipartUpload>,
}

/// The objects a rule applies to: every condition holds. An empty prefix, no
/// tags and no sizes is every object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFilter {
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Strictly greater than, in bytes.
    #[serde(default)]
    pub object_size_greater_than: Option<u64>,
    /// Strictly less than, in bytes.
    #[serde(default)]
    pub object_size_less_than: Option<u64>,
}

impl RuleFilter {
    /// Whether the filter lets every object through.
    pub fn is_everything(&self) -> bool {
        self.prefix.is_empty()
            && self.tags.is_empty()
            && self.object_size_greater_than.is_none()
            && self.object_size_less_than.is_none()
    }
}

/// An object tag a rule's filter asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// The `Expiration` action on current versions: exactly one of the three
/// fields is sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expiration {
    /// Days after creation, rounded up to the next midnight UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    /// From this midnight UTC on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Timestamp>,
    /// Whether delete markers that are a key's only version are removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_object_delete_marker: Option<bool>,
}

/// The `NoncurrentVersionExpiration` action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentVersionExpiration {
    /// Days after a version stopped being current, rounded up to midnight UTC.
    pub noncurrent_days: u32,
    /// The newest this many noncurrent versions are kept whatever their age;
    /// `null` when the rule does not say.
    #[serde(default)]
    pub newer_noncurrent_versions: Option<u32>,
}

/// The `AbortIncompleteMultipartUpload` action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbortIncompleteMultipartUpload {
    pub days_after_initiation: u32,
}

/// `GET /v1/buckets/{name}/lifecycle/plan?limit=N`: the earliest `limit`
/// actions (default [`PLAN_DEFAULT_LIMIT`], at most [`PLAN_MAX_LIMIT`]),
/// earliest first, with the count of all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecyclePlan {
    /// Every action the rules will take as the bucket stands, listed or not.
    #[serde(default)]
    pub total: u64,
    /// Versions (delete markers included) the plan read.
    #[serde(default)]
    pub versions_scanned: u64,
    #[serde(default)]
    pub actions: Vec<PlannedAction>,
}

/// One thing the rules will do to a version or an upload, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    pub key: String,
    /// `null` for an upload.
    #[serde(default)]
    pub version_id: Option<String>,
    /// Only for an upload to abort.
    #[serde(default)]
    pub upload_id: Option<String>,
    /// `expire-current`, `delete-noncurrent`, `remove-delete-marker` or
    /// `abort-upload` (text, so that a newer server's actions still print).
    pub action: String,
    pub rule_id: String,
    pub due: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_decode_leniently_and_leave_out_the_expirations_not_chosen() {
        let rule: LifecycleRule = serde_json::from_value(json!({
            "status": "Enabled",
            "expiration": {"days": 7},
            "extra": 1
        }))
        .unwrap();
        assert_eq!(rule.id, "");
        assert!(rule.filter.is_everything());
        assert_eq!(rule.noncurrent_version_expiration, None);
        let v = serde_json::to_value(&rule).unwrap();
        assert_eq!(v["expiration"], json!({"days": 7}));
        assert_eq!(v["status"], json!(RuleStatus::Enabled.as_str()));
        assert_eq!(v["abort_incomplete_multipart_upload"], json!(null));
        assert!(serde_json::from_value::<LifecycleRule>(json!({"status": "On"})).is_err());
    }

    #[test]
    fn plans_read_unknown_actions_as_text() {
        let plan: LifecyclePlan = serde_json::from_value(json!({
            "total": 1,
            "actions": [{"key": "k", "action": "transition", "rule_id": "r",
                         "due": "2027-01-01T00:00:00Z"}]
        }))
        .unwrap();
        assert_eq!(plan.versions_scanned, 0);
        assert_eq!(plan.actions[0].action, "transition");
        assert_eq!(plan.actions[0].version_id, None);
    }
}
