//! A bucket's GFS retention rules: `GET /v1/buckets/{name}/retention` lists
//! them, `PUT` sets the rule for the body's prefix, `DELETE ?prefix=P`
//! removes one; `GET /v1/buckets/{name}/retention/plan[?prefix=P]` shows
//! what the stored rules keep and why, and `POST` of a rule to the same path
//! shows what that rule would do without storing it (a dry run).

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The backups a plan lists when `?limit=` is not given.
pub const RETENTION_PLAN_DEFAULT_LIMIT: u64 = 1000;
/// The most backups one plan lists; a larger `?limit=` is lowered to it.
pub const RETENTION_PLAN_MAX_LIMIT: u64 = 100_000;

/// `GET /v1/buckets/{name}/retention`: the rules, by prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    #[serde(default)]
    pub rules: Vec<RetentionRule>,
}

/// One rule: which keys (those under `prefix` that no longer prefix's rule
/// governs), what one backup is (`per-key`: each version of a key;
/// `series`: each object under the prefix) and restic's `forget` options.
/// Spans are restic's (`2y5m7d3h`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RetentionRule {
    #[serde(default)]
    pub prefix: String,
    /// `per-key` or `series`.
    pub grouping: String,
    #[serde(default)]
    pub keep_last: u32,
    #[serde(default)]
    pub keep_hourly: u32,
    #[serde(default)]
    pub keep_daily: u32,
    #[serde(default)]
    pub keep_weekly: u32,
    #[serde(default)]
    pub keep_monthly: u32,
    #[serde(default)]
    pub keep_yearly: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_hourly: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_daily: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_weekly: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_monthly: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_within_yearly: Option<String>,
}

/// What the rules keep and what goes: the first `?limit=` backups (default
/// [`RETENTION_PLAN_DEFAULT_LIMIT`], at most [`RETENTION_PLAN_MAX_LIMIT`]),
/// rule by rule in key order, with the counts of all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPlan {
    /// Backups a policy keeps.
    #[serde(default)]
    pub kept: u64,
    /// Backups that go (the worker removes them on its next pass).
    #[serde(default)]
    pub removed: u64,
    /// Backups a policy lets go that object lock keeps for now.
    #[serde(default)]
    pub locked: u64,
    /// Rows (versions and delete markers) under the planned rules' prefixes,
    /// each counted once (a series is read twice).
    #[serde(default)]
    pub versions_scanned: u64,
    #[serde(default)]
    pub entries: Vec<RetentionPlanEntry>,
}

/// One backup and what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPlanEntry {
    /// The prefix of the rule that governs it.
    #[serde(default)]
    pub prefix: String,
    #[serde(default)]
    pub grouping: String,
    pub key: String,
    pub version_id: String,
    pub last_modified: Timestamp,
    /// Whether it stays (kept by its policy or by object lock).
    pub keep: bool,
    /// Why its policy keeps it, in restic's words (`last snapshot`, `daily
    /// snapshot`, `within 7d`…); empty when the policy lets it go.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Its policy lets it go but object lock keeps it.
    #[serde(default)]
    pub locked: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_decode_leniently_and_leave_out_unset_spans() {
        let rule: RetentionRule =
            serde_json::from_value(json!({"grouping": "series", "keep_daily": 7, "extra": 1}))
                .unwrap();
        assert_eq!(rule.prefix, "");
        assert_eq!(rule.keep_daily, 7);
        let v = serde_json::to_value(&rule).unwrap();
        assert!(v.get("keep_within").is_none(), "{v}");
        assert_eq!(v["keep_last"], json!(0));
    }
}
