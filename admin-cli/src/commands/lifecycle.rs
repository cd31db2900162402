//! `coffer lifecycle show|plan`: a bucket's lifecycle rules, in words, and
//! what they will do, earliest first. Read only: S3 clients set the rules.

use super::Context;
use crate::api::{Expiration, Lifecycle, LifecyclePlan, LifecycleRule, RuleFilter, decode};
use crate::cli::LifecycleCommand;
use crate::client::{Subject, segment};
use crate::error::CliError;
use crate::human::{format_count, format_timestamp};
use crate::output::{self, Align, Table};

pub fn run(ctx: &Context, cmd: LifecycleCommand) -> Result<(), CliError> {
    match cmd {
        LifecycleCommand::Show { bucket } => show(ctx, &bucket),
        LifecycleCommand::Plan { bucket, limit } => plan(ctx, &bucket, limit),
    }
}

fn show(ctx: &Context, bucket: &str) -> Result<(), CliError> {
    let path = format!("/v1/buckets/{}/lifecycle", segment(bucket));
    let answer = ctx.client.get(&path, &Subject::bucket(bucket))?;
    let answer = ctx.client.expect_body(answer)?;
    let lifecycle: Lifecycle = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || rules_text(&lifecycle))
}

/// One `label: value` block per rule, the values of all the blocks lined up.
fn rules_text(lifecycle: &Lifecycle) -> String {
    let blocks: Vec<Vec<(&str, String)>> = lifecycle.rules.iter().map(rule_fields).collect();
    output::blocks(&blocks, "no rules")
}

fn rule_fields(rule: &LifecycleRule) -> Vec<(&'static str, String)> {
    let mut pairs = vec![
        (
            "rule",
            if rule.id.is_empty() {
                "(no ID)".to_owned()
            } else {
                rule.id.clone()
            },
        ),
        ("status", rule.status.as_str().to_owned()),
        ("filter", filter_text(&rule.filter)),
    ];
    pairs.extend(actions(rule));
    if pairs.len() == 3 {
        pairs.push(("actions", "none".to_owned()));
    }
    pairs
}

/// `prefix db/ and tag class=tmp and size > 1,024 bytes`; `every object`.
fn filter_text(f: &RuleFilter) -> String {
    if f.is_everything() {
        return "every object".to_owned();
    }
    let mut parts = Vec::new();
    if !f.prefix.is_empty() {
        parts.push(format!("prefix {}", f.prefix));
    }
    for t in &f.tags {
        parts.push(format!("tag {}={}", t.key, t.value));
    }
    if let Some(n) = f.object_size_greater_than {
        parts.push(format!("size > {} bytes", format_count(n)));
    }
    if let Some(n) = f.object_size_less_than {
        parts.push(format!("size < {} bytes", format_count(n)));
    }
    parts.join(" and ")
}

/// The rule's actions in words, each labelled by what it acts on.
fn actions(rule: &LifecycleRule) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(e) = &rule.expiration {
        out.push(expiration_text(e));
    }
    if let Some(n) = &rule.noncurrent_version_expiration {
        let mut text = format!(
            "delete {} after they become noncurrent",
            days(n.noncurrent_days)
        );
        if let Some(keep) = n.newer_noncurrent_versions {
            text.push_str(&format!(", keep the newest {keep}"));
        }
        out.push(("noncurrent versions", text));
    }
    if let Some(a) = &rule.abort_incomplete_multipart_upload {
        out.push((
            "incomplete uploads",
            format!(
                "abort {} after they were started",
                days(a.days_after_initiation)
            ),
        ));
    }
    out
}

fn expiration_text(e: &Expiration) -> (&'static str, String) {
    match (e.days, &e.date, e.expired_object_delete_marker) {
        (Some(n), _, _) => (
            "current versions",
            format!("expire {} after creation", days(n)),
        ),
        (None, Some(date), _) => (
            "current versions",
            format!("expire from {} on", format_timestamp(Some(date))),
        ),
        (None, None, Some(true)) => (
            "delete markers",
            "remove those that are a key's only version".to_owned(),
        ),
        (None, None, Some(false)) => (
            "delete markers",
            "kept (ExpiredObjectDeleteMarker is false)".to_owned(),
        ),
        (None, None, None) => ("current versions", "expiration without a time".to_owned()),
    }
}

fn days(n: u32) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{} days", format_count(u64::from(n)))
    }
}

fn plan(ctx: &Context, bucket: &str, limit: u64) -> Result<(), CliError> {
    let path = format!(
        "/v1/buckets/{}/lifecycle/plan?limit={limit}",
        segment(bucket)
    );
    let answer = ctx.client.get(&path, &Subject::bucket(bucket))?;
    let answer = ctx.client.expect_body(answer)?;
    let plan: LifecyclePlan = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || plan_text(&plan))
}

fn plan_text(plan: &LifecyclePlan) -> String {
    let mut actions: Vec<_> = plan.actions.iter().collect();
    // The server sends them earliest first; a time that does not parse goes last.
    actions.sort_by_key(|a| (a.due.instant().is_none(), a.due.instant()));
    let mut text = if actions.is_empty() {
        "nothing to do as the bucket stands\n".to_owned()
    } else {
        let mut table = Table::new(&[
            ("DUE", Align::Left),
            ("ACTION", Align::Left),
            ("RULE", Align::Left),
            ("KEY", Align::Left),
            ("VERSION/UPLOAD", Align::Left),
        ]);
        for a in &actions {
            table.row(vec![
                format_timestamp(Some(&a.due)),
                a.action.clone(),
                a.rule_id.clone(),
                a.key.clone(),
                a.version_id
                    .clone()
                    .or_else(|| a.upload_id.clone())
                    .unwrap_or_else(|| "-".into()),
            ]);
        }
        table.render()
    };
    text.push_str(&format!(
        "\n{} {} in all ({} {} scanned)",
        format_count(plan.total),
        if plan.total == 1 { "action" } else { "actions" },
        format_count(plan.versions_scanned),
        if plan.versions_scanned == 1 {
            "version"
        } else {
            "versions"
        },
    ));
    if plan.total > actions.len() as u64 {
        text.push_str(&format!(
            "; the earliest {} shown (--limit for more)",
            format_count(actions.len() as u64)
        ));
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lifecycle(v: serde_json::Value) -> Lifecycle {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rules_read_in_words() {
        let text = rules_text(&lifecycle(json!({"rules": [
            {"id": "old", "status": "Enabled", "filter": {"prefix": "db/"},
             "noncurrent_version_expiration": {"noncurrent_days": 1,
                                               "newer_noncurrent_versions": 45}},
            {"id": "tmp", "status": "Disabled",
             "filter": {"prefix": "tmp/", "tags": [{"key": "k", "value": "v"}],
                        "object_size_greater_than": 2048},
             "expiration": {"days": 7},
             "abort_incomplete_multipart_upload": {"days_after_initiation": 3}},
            {"id": "", "status": "Enabled",
             "expiration": {"expired_object_delete_marker": true}},
            {"id": "dated", "status": "Enabled",
             "expiration": {"date": "2027-01-01T00:00:00Z"}}
        ]})));
        assert_eq!(
            text,
            "rule:                 old\n\
             status:               Enabled\n\
             filter:               prefix db/\n\
             noncurrent versions:  delete 1 day after they become noncurrent, keep the newest 45\n\
             \n\
             rule:                 tmp\n\
             status:               Disabled\n\
             filter:               prefix tmp/ and tag k=v and size > 2,048 bytes\n\
             current versions:     expire 7 days after creation\n\
             incomplete uploads:   abort 3 days after they were started\n\
             \n\
             rule:                 (no ID)\n\
             status:               Enabled\n\
             filter:               every object\n\
             delete markers:       remove those that are a key's only version\n\
             \n\
             rule:                 dated\n\
             status:               Enabled\n\
             filter:               every object\n\
             current versions:     expire from 2027-01-01 00:00:00Z on\n"
        );
    }

    #[test]
    fn plans_are_a_table_earliest_first_with_the_count_of_all() {
        let plan: LifecyclePlan = serde_json::from_value(json!({
            "total": 3, "versions_scanned": 6,
            "actions": [
                {"key": "db/dump.gz", "version_id": "v2", "upload_id": null,
                 "action": "delete-noncurrent", "rule_id": "old",
                 "due": "2027-01-02T00:00:00Z"},
                {"key": "tmp/x", "version_id": "v1", "upload_id": null,
                 "action": "expire-current", "rule_id": "tmp",
                 "due": "2026-12-09T00:00:00Z"}
            ]
        }))
        .unwrap();
        assert_eq!(
            plan_text(&plan),
            "DUE                   ACTION             RULE  KEY         VERSION/UPLOAD\n\
             2026-12-09 00:00:00Z  expire-current     tmp   tmp/x       v1\n\
             2027-01-02 00:00:00Z  delete-noncurrent  old   db/dump.gz  v2\n\
             \n\
             3 actions in all (6 versions scanned); the earliest 2 shown (--limit for more)\n"
        );
        let empty: LifecyclePlan =
            serde_json::from_value(json!({"total": 0, "versions_scanned": 1})).unwrap();
        assert_eq!(
            plan_text(&empty),
            "nothing to do as the bucket stands\n\n0 actions in all (1 version scanned)\n"
        );
    }
}
