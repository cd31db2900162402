//! From the engine's types to the admin API's wire types (`coffer-admin-api`,
//! the crate the `coffer` CLI decodes with) and back for request bodies.

use coffer_admin_api as api;

use crate::engine::access::{AccessKeyInfo, Grant, Permissions};
use crate::engine::lifecycle::rules::{Expiration, LifecycleRule};
use crate::engine::lifecycle::{LifecycleConfig, LifecyclePlan, PlannedAction};
use crate::engine::retention::RetentionPlan;
use crate::engine::retention::policy::{KeepPolicy, Span};
use crate::engine::retention::rules::{Grouping, RetentionRule, RetentionRules};
use crate::engine::{BucketInfo, VersioningState};

/// A grant as answers carry it; `access_key_id` only in a bucket's grants.
pub fn grant(g: &Grant, access_key_id: Option<String>) -> api::Grant {
    api::Grant {
        access_key_id,
        bucket: g.bucket.clone(),
        prefix: g.prefix.clone(),
        read: g.permissions.read,
        write: g.permissions.write,
        delete: g.permissions.delete,
        owner: g.permissions.owner,
        bypass_governance: g.permissions.bypass_governance,
    }
}

/// An access key without its secret.
pub fn key(k: &AccessKeyInfo) -> api::Key {
    api::Key {
        access_key_id: k.access_key_id.clone(),
        name: k.name.clone(),
        created: Some(api::Timestamp::rfc3339(k.created)),
        expires: k.expires.map(api::Timestamp::rfc3339),
        enabled: k.enabled,
        is_admin: k.is_admin,
        grants: k.grants.iter().map(|g| grant(g, None)).collect(),
        secret_access_key: None,
    }
}

/// A bucket with its usage; grants are added by `GET /v1/buckets/{name}` only.
pub fn bucket(b: &BucketInfo, objects: u64, logical_bytes: u64) -> api::Bucket {
    api::Bucket {
        name: b.name.clone(),
        created: Some(api::Timestamp::rfc3339(b.created)),
        versioning: Some(match b.versioning {
            VersioningState::Unversioned => api::Versioning::Unversioned,
            VersioningState::Enabled => api::Versioning::Enabled,
            VersioningState::Suspended => api::Versioning::Suspended,
        }),
        objects: Some(objects),
        logical_bytes: Some(logical_bytes),
        grants: None,
    }
}

/// A bucket's lifecycle rules, in the order they were put.
pub fn lifecycle(c: &LifecycleConfig) -> api::Lifecycle {
    api::Lifecycle {
        rules: c.rules.iter().map(lifecycle_rule).collect(),
    }
}

fn lifecycle_rule(r: &LifecycleRule) -> api::LifecycleRule {
    api::LifecycleRule {
        id: r.id.clone(),
        status: if r.enabled {
            api::RuleStatus::Enabled
        } else {
            api::RuleStatus::Disabled
        },
        filter: api::RuleFilter {
            prefix: r.filter.prefix.clone(),
            tags: r
                .filter
                .tags
                .iter()
                .map(|(key, value)| api::Tag {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
            object_size_greater_than: r.filter.size_greater_than,
            object_size_less_than: r.filter.size_less_than,
        },
        expiration: r.expiration.map(|e| match e {
            Expiration::Days(days) => api::Expiration {
                days: Some(days),
                ..api::Expiration::default()
            },
            Expiration::Date(date) => api::Expiration {
                date: Some(api::Timestamp::rfc3339(date)),
                ..api::Expiration::default()
            },
            Expiration::ExpiredObjectDeleteMarker(on) => api::Expiration {
                expired_object_delete_marker: Some(on),
                ..api::Expiration::default()
            },
        }),
        noncurrent_version_expiration: r.noncurrent.map(|n| api::NoncurrentVersionExpiration {
            noncurrent_days: n.days,
            newer_noncurrent_versions: n.newer_versions,
        }),
        abort_incomplete_multipart_upload: r.abort_upload_days.map(|days| {
            api::AbortIncompleteMultipartUpload {
                days_after_initiation: days,
            }
        }),
    }
}

/// What the rules will do, earliest first, as the engine planned it.
pub fn lifecycle_plan(p: &LifecyclePlan) -> api::LifecyclePlan {
    api::LifecyclePlan {
        total: p.total,
        versions_scanned: p.versions_scanned,
        actions: p.actions.iter().map(planned_action).collect(),
    }
}

fn planned_action(a: &PlannedAction) -> api::PlannedAction {
    api::PlannedAction {
        key: a.key.clone(),
        version_id: a.version_id.clone(),
        upload_id: a.upload_id.clone(),
        action: a.action.name().to_owned(),
        rule_id: a.rule_id.clone(),
        due: api::Timestamp::rfc3339(a.due),
    }
}

/// The grant a `POST /v1/keys/{id}/grants` body asks for.
pub fn grant_of(req: &api::PutGrant) -> Grant {
    Grant {
        bucket: req.bucket.clone(),
        prefix: req.prefix.clone().unwrap_or_default(),
        permissions: Permissions {
            read: req.read,
            write: req.write,
            delete: req.delete,
            owner: req.owner,
            bypass_governance: req.bypass_governance,
        },
    }
}

/// A bucket's retention rules, by prefix.
pub fn retention(rules: &RetentionRules) -> api::Retention {
    api::Retention {
        rules: rules.rules.iter().map(retention_rule).collect(),
    }
}

fn retention_rule(r: &RetentionRule) -> api::RetentionRule {
    let p = &r.policy;
    let span = |s: &Span| (!s.is_zero()).then(|| s.to_string());
    let [hourly, daily, weekly, monthly, yearly] = p.periods;
    let [w_hourly, w_daily, w_weekly, w_monthly, w_yearly] = &p.within_periods;
    api::RetentionRule {
        prefix: r.prefix.clone(),
        grouping: r.grouping.name().to_owned(),
        keep_last: p.last,
        keep_hourly: hourly,
        keep_daily: daily,
        keep_weekly: weekly,
        keep_monthly: monthly,
        keep_yearly: yearly,
        keep_within: span(&p.within),
        keep_within_hourly: span(w_hourly),
        keep_within_daily: span(w_daily),
        keep_within_weekly: span(w_weekly),
        keep_within_monthly: span(w_monthly),
        keep_within_yearly: span(w_yearly),
    }
}

/// The rule a `PUT /v1/buckets/{name}/retention` (or a dry-run plan) body
/// describes; the message says which field is wrong.
pub fn retention_rule_of(req: &api::RetentionRule) -> Result<RetentionRule, String> {
    let grouping = Grouping::parse(&req.grouping).ok_or_else(|| {
        format!(
            "grouping must be \"per-key\" or \"series\", not {:?}",
            req.grouping
        )
    })?;
    let span = |name: &str, s: &Option<String>| -> Result<Span, String> {
        match s {
            None => Ok(Span::default()),
            Some(text) => Span::parse(text).map_err(|e| format!("{name}: {e}")),
        }
    };
    Ok(RetentionRule {
        prefix: req.prefix.clone(),
        grouping,
        policy: KeepPolicy {
            last: req.keep_last,
            periods: [
                req.keep_hourly,
                req.keep_daily,
                req.keep_weekly,
                req.keep_monthly,
                req.keep_yearly,
            ],
            within: span("keep_within", &req.keep_within)?,
            within_periods: [
                span("keep_within_hourly", &req.keep_within_hourly)?,
                span("keep_within_daily", &req.keep_within_daily)?,
                span("keep_within_weekly", &req.keep_within_weekly)?,
                span("keep_within_monthly", &req.keep_within_monthly)?,
                span("keep_within_yearly", &req.keep_within_yearly)?,
            ],
        },
    })
}

/// What the rules keep and why, as the engine planned it.
pub fn retention_plan(p: &RetentionPlan) -> api::RetentionPlan {
    api::RetentionPlan {
        kept: p.kept,
        removed: p.removed,
        locked: p.locked,
        versions_scanned: p.versions_scanned,
        entries: p
            .entries
            .iter()
            .map(|e| api::RetentionPlanEntry {
                prefix: e.prefix.clone(),
                grouping: e.grouping.name().to_owned(),
                key: e.key.clone(),
                version_id: e.version_id.clone(),
                last_modified: api::Timestamp::rfc3339(e.last_modified),
                keep: e.kept(),
                reasons: e.reasons.clone(),
                locked: e.locked,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    //! The server's encoding, pinned as it was before the wire types were shared,
    //! and read back with the types the CLI decodes with.

    use super::*;
    use serde_json::{Value, json};
    use time::macros::datetime;

    fn info() -> AccessKeyInfo {
        AccessKeyInfo {
            access_key_id: "AKDEV".into(),
            name: "dev".into(),
            created: datetime!(2026-11-20 10:00:00 UTC),
            expires: None,
            enabled: true,
            is_admin: false,
            grants: vec![Grant {
                bucket: "dumps".into(),
                prefix: "latest/".into(),
                permissions: Permissions {
                    read: true,
                    write: false,
                    delete: true,
                    owner: false,
                    bypass_governance: false,
                },
            }],
        }
    }

    /// Encodes as the handlers do (through a `Value`), then decodes as the CLI does.
    fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> (Value, T) {
        let wire = serde_json::to_value(v).unwrap();
        let text = serde_json::to_string(&wire).unwrap();
        let back: T = serde_json::from_str(&text).unwrap();
        (wire, back)
    }

    #[test]
    fn keys_encode_as_before_and_decode_to_the_same_key() {
        let mut k = key(&info());
        let (wire, back) = round_trip(&k);
        assert_eq!(
            wire,
            json!({"access_key_id": "AKDEV", "name": "dev", "created": "2026-11-20T10:00:00Z",
                   "expires": null, "enabled": true, "is_admin": false,
                   "grants": [{"bucket": "dumps", "prefix": "latest/", "read": true,
                               "write": false, "delete": true, "owner": false}]})
        );
        assert_eq!(back, k);
        // The answer to POST /v1/keys, the one with the secret.
        k.secret_access_key = Some("s3cr3t".into());
        let mut expiring = info();
        expiring.expires = Some(datetime!(2026-12-20 10:00:00 UTC));
        k.expires = key(&expiring).expires;
        let (wire, back) = round_trip(&k);
        assert_eq!(wire["secret_access_key"], json!("s3cr3t"));
        assert_eq!(wire["expires"], json!("2026-12-20T10:00:00Z"));
        assert_eq!(back, k);
        assert_eq!(
            back.expires.and_then(|t| t.instant()),
            Some(datetime!(2026-12-20 10:00:00 UTC))
        );
    }

    #[test]
    fn buckets_encode_as_before_and_decode_to_the_same_bucket() {
        let b = BucketInfo {
            name: "backups".into(),
            created: datetime!(2026-11-20 10:00:00 UTC),
            versioning: VersioningState::Suspended,
        };
        let listed = bucket(&b, 3, 512);
        let (wire, back) = round_trip(&listed);
        assert_eq!(
            wire,
            json!({"name": "backups", "created": "2026-11-20T10:00:00Z",
                   "versioning": "Suspended", "objects": 3, "logical_bytes": 512})
        );
        assert_eq!(back, listed);
        let mut detailed = listed;
        detailed.grants = Some(vec![grant(&info().grants[0], Some("AKDEV".into()))]);
        let (wire, back) = round_trip(&detailed);
        assert_eq!(
            wire["grants"],
            json!([{"access_key_id": "AKDEV", "bucket": "dumps", "prefix": "latest/",
                    "read": true, "write": false, "delete": true, "owner": false}])
        );
        assert_eq!(back, detailed);
    }

    #[test]
    fn put_grant_bodies_become_engine_grants() {
        let req: api::PutGrant =
            serde_json::from_value(json!({"bucket": "dumps", "read": true})).unwrap();
        let g = grant_of(&req);
        assert_eq!((g.bucket.as_str(), g.prefix.as_str()), ("dumps", ""));
        assert!(g.permissions.read && !g.permissions.write);
        assert!(
            serde_json::from_value::<api::PutGrant>(json!({"bucket": "b", "bogus": 1})).is_err()
        );
    }
}
