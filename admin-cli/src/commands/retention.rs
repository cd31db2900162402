//! `coffer retention set|show|remove|plan`: a bucket's GFS retention rules
//! (restic's `forget` policy, one rule per prefix) and what they keep, what
//! they remove and why. The server's `retention` worker applies the rules;
//! these commands set, read and preview them.

use super::Context;
use crate::api::{self, Retention, RetentionPlan, RetentionPlanEntry, RetentionRule, decode};
use crate::cli::{PolicyArgs, RetentionCommand};
use crate::client::{Subject, query_value, segment};
use crate::error::CliError;
use crate::human::{format_count, format_timestamp};
use crate::output::{self, Align, Table};
use crate::target::RuleTarget;

pub fn run(ctx: &Context, cmd: RetentionCommand) -> Result<(), CliError> {
    match cmd {
        RetentionCommand::Set { target, policy } => set(ctx, &target, &policy),
        RetentionCommand::Show { bucket } => show(ctx, &bucket),
        RetentionCommand::Remove { target } => remove(ctx, &target),
        RetentionCommand::Plan {
            target,
            limit,
            policy,
        } => plan(ctx, &target, limit, &policy),
    }
}

fn rules_path(bucket: &str) -> String {
    format!("/v1/buckets/{}/retention", segment(bucket))
}

/// `per-key` or `series`; `None` when neither flag was given.
fn grouping(policy: &PolicyArgs) -> Option<&'static str> {
    match (policy.per_key, policy.series) {
        (true, _) => Some("per-key"),
        (false, true) => Some("series"),
        (false, false) => None,
    }
}

/// The rule the options make for `prefix`. An option left out is 0 (or no
/// span), which restic's policy reads as "not this way".
fn rule_of(prefix: &str, policy: &PolicyArgs) -> RetentionRule {
    RetentionRule {
        prefix: prefix.to_owned(),
        // clap demands one of the two wherever a rule is built; an empty
        // grouping would be the server's to refuse.
        grouping: grouping(policy).unwrap_or_default().to_owned(),
        keep_last: policy.keep_last.unwrap_or(0),
        keep_hourly: policy.keep_hourly.unwrap_or(0),
        keep_daily: policy.keep_daily.unwrap_or(0),
        keep_weekly: policy.keep_weekly.unwrap_or(0),
        keep_monthly: policy.keep_monthly.unwrap_or(0),
        keep_yearly: policy.keep_yearly.unwrap_or(0),
        keep_within: policy.keep_within.clone(),
        keep_within_hourly: policy.keep_within_hourly.clone(),
        keep_within_daily: policy.keep_within_daily.clone(),
        keep_within_weekly: policy.keep_within_weekly.clone(),
        keep_within_monthly: policy.keep_within_monthly.clone(),
        keep_within_yearly: policy.keep_within_yearly.clone(),
    }
}

/// `prefix db/` or `the whole bucket`, for sentences.
fn rule_name(prefix: &str) -> String {
    if prefix.is_empty() {
        "the whole bucket".to_owned()
    } else {
        format!("prefix {prefix}")
    }
}

fn set(ctx: &Context, target: &RuleTarget, policy: &PolicyArgs) -> Result<(), CliError> {
    let rule = rule_of(target.prefix(), policy);
    let answer = ctx.client.put(
        &rules_path(&target.bucket),
        Some(&api::body(&rule)),
        &Subject::rule(&target.bucket, target.prefix()),
    )?;
    let answer = ctx.client.expect_body(answer)?;
    let retention: Retention = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || {
        format!(
            "set the retention rule for {} of bucket {}\n\n{}",
            rule_name(target.prefix()),
            target.bucket,
            rules_text(&retention)
        )
    })
}

fn show(ctx: &Context, bucket: &str) -> Result<(), CliError> {
    let answer = ctx
        .client
        .get(&rules_path(bucket), &Subject::bucket(bucket))?;
    let answer = ctx.client.expect_body(answer)?;
    let retention: Retention = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || rules_text(&retention))
}

fn remove(ctx: &Context, target: &RuleTarget) -> Result<(), CliError> {
    // Without `?prefix=` the server would take the whole bucket's rule too;
    // spelling it out keeps the request saying what the command line said.
    let path = format!(
        "{}?prefix={}",
        rules_path(&target.bucket),
        query_value(target.prefix())
    );
    ctx.client
        .delete(&path, None, &Subject::rule(&target.bucket, target.prefix()))?;
    // 204 has nothing to print as JSON; the exit code is the answer for scripts.
    if !ctx.json {
        output::print(&format!(
            "removed the retention rule for {} of bucket {}\n",
            rule_name(target.prefix()),
            target.bucket
        ))?;
    }
    Ok(())
}

/// One `label: value` block per rule, the values of all the blocks lined up.
fn rules_text(retention: &Retention) -> String {
    let blocks: Vec<Vec<(&str, String)>> = retention.rules.iter().map(rule_fields).collect();
    output::blocks(&blocks, "no rules")
}

/// Prefix, grouping, then each option the rule sets, labelled by its flag so
/// that what `show` prints is what `set` takes.
fn rule_fields(rule: &RetentionRule) -> Vec<(&'static str, String)> {
    let prefix = if rule.prefix.is_empty() {
        "(whole bucket)".to_owned()
    } else {
        rule.prefix.clone()
    };
    let grouping = match rule.grouping.as_str() {
        "per-key" => "per-key (each version of a key is one backup)".to_owned(),
        "series" => "series (each object under the prefix is one backup)".to_owned(),
        other => other.to_owned(),
    };
    let mut pairs = vec![("prefix", prefix), ("grouping", grouping)];
    if rule.keep_last == 1 {
        pairs.push(("keep-last", "the newest backup".to_owned()));
    } else if rule.keep_last > 1 {
        pairs.push((
            "keep-last",
            format!("the {} newest backups", format_count(rule.keep_last.into())),
        ));
    }
    let periods = [
        ("keep-hourly", rule.keep_hourly, "hour"),
        ("keep-daily", rule.keep_daily, "day"),
        ("keep-weekly", rule.keep_weekly, "week"),
        ("keep-monthly", rule.keep_monthly, "month"),
        ("keep-yearly", rule.keep_yearly, "year"),
    ];
    for (label, n, period) in periods {
        match n {
            0 => {}
            1 => pairs.push((
                label,
                format!("the newest backup of the latest {period} that has one"),
            )),
            n => pairs.push((
                label,
                format!(
                    "the newest backup of each of the {} latest {period}s that have one",
                    format_count(n.into())
                ),
            )),
        }
    }
    if let Some(span) = &rule.keep_within {
        pairs.push((
            "keep-within",
            format!("every backup within {span} of the newest"),
        ));
    }
    let within = [
        ("keep-within-hourly", &rule.keep_within_hourly, "hour"),
        ("keep-within-daily", &rule.keep_within_daily, "day"),
        ("keep-within-weekly", &rule.keep_within_weekly, "week"),
        ("keep-within-monthly", &rule.keep_within_monthly, "month"),
        ("keep-within-yearly", &rule.keep_within_yearly, "year"),
    ];
    for (label, span, period) in within {
        if let Some(span) = span {
            pairs.push((
                label,
                format!("the newest backup of each {period} within {span} of the newest"),
            ));
        }
    }
    if pairs.len() == 2 {
        // The server refuses such a rule; one stored by some other way is
        // still shown for what it is.
        pairs.push(("keep", "nothing".to_owned()));
    }
    pairs
}

fn plan(
    ctx: &Context,
    target: &RuleTarget,
    limit: u64,
    policy: &PolicyArgs,
) -> Result<(), CliError> {
    let path = format!("{}/plan?limit={limit}", rules_path(&target.bucket));
    let answer = if grouping(policy).is_some() {
        // --keep-* options: a dry run of the rule they make, nothing stored.
        let rule = rule_of(target.prefix(), policy);
        ctx.client.post(
            &path,
            Some(&api::body(&rule)),
            &Subject::bucket(&target.bucket),
        )?
    } else {
        match &target.prefix {
            // BUCKET/ or BUCKET/PREFIX: the stored rule for exactly that prefix.
            Some(prefix) => ctx.client.get(
                &format!("{path}&prefix={}", query_value(prefix)),
                &Subject::rule(&target.bucket, prefix),
            )?,
            None => ctx.client.get(&path, &Subject::bucket(&target.bucket))?,
        }
    };
    let answer = ctx.client.expect_body(answer)?;
    let plan: RetentionPlan = decode(ctx.client.base(), &answer)?;
    ctx.emit(&answer, || plan_text(&plan))
}

/// As restic's `forget --dry-run`: per rule a header and a table of its
/// backups with what becomes of each and why, then the counts of all.
fn plan_text(plan: &RetentionPlan) -> String {
    let mut text = String::new();
    if plan.entries.is_empty() {
        text.push_str("no backups under the rules\n");
    }
    // The server sends the entries rule by rule, so each run of one prefix is
    // one rule's.
    for (i, rule) in plan
        .entries
        .chunk_by(|a, b| (&a.prefix, &a.grouping) == (&b.prefix, &b.grouping))
        .enumerate()
    {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&format!(
            "rule for {} ({}):\n",
            rule_name(&rule[0].prefix),
            rule[0].grouping
        ));
        let mut table = Table::new(&[
            ("TIME", Align::Left),
            ("KEY", Align::Left),
            ("VERSION", Align::Left),
            ("ACTION", Align::Left),
            ("REASONS", Align::Left),
        ]);
        for e in rule {
            table.row(vec![
                format_timestamp(Some(&e.last_modified)),
                e.key.clone(),
                e.version_id.clone(),
                action(e).to_owned(),
                e.reasons.join(", "),
            ]);
        }
        text.push_str(&table.render());
    }
    let total = plan.kept + plan.removed + plan.locked;
    text.push_str(&format!(
        "\n{} kept, {} to remove, {} kept by object lock (scanned {} {})",
        format_count(plan.kept),
        format_count(plan.removed),
        format_count(plan.locked),
        format_count(plan.versions_scanned),
        if plan.versions_scanned == 1 {
            "version"
        } else {
            "versions"
        },
    ));
    let listed = plan.entries.len() as u64;
    if total > listed {
        text.push_str(&format!(
            "; {} not listed (--limit for more)",
            format_count(total - listed)
        ));
    }
    text.push('\n');
    text
}

/// `locked` before `keep`: the server counts a locked backup as staying, but
/// its policy lets it go, which is what the reader needs to know.
fn action(e: &RetentionPlanEntry) -> &'static str {
    if e.locked {
        "locked"
    } else if e.keep {
        "keep"
    } else {
        "remove"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_read_in_words() {
        let retention: Retention = serde_json::from_value(json!({"rules": [
            {"prefix": "", "grouping": "per-key", "keep_last": 1, "keep_daily": 7,
             "keep_weekly": 1, "keep_within": "2d"},
            {"prefix": "db/", "grouping": "series", "keep_last": 3, "keep_monthly": 12,
             "keep_within_daily": "1m", "keep_within_yearly": "10y"}
        ]}))
        .unwrap();
        assert_eq!(
            rules_text(&retention),
            "prefix:              (whole bucket)\n\
             grouping:            per-key (each version of a key is one backup)\n\
             keep-last:           the newest backup\n\
             keep-daily:          the newest backup of each of the 7 latest days that have one\n\
             keep-weekly:         the newest backup of the latest week that has one\n\
             keep-within:         every backup within 2d of the newest\n\
             \n\
             prefix:              db/\n\
             grouping:            series (each object under the prefix is one backup)\n\
             keep-last:           the 3 newest backups\n\
             keep-monthly:        the newest backup of each of the 12 latest months that have one\n\
             keep-within-daily:   the newest backup of each day within 1m of the newest\n\
             keep-within-yearly:  the newest backup of each year within 10y of the newest\n"
        );
        assert_eq!(
            rules_text(&serde_json::from_value(json!({"rules": []})).unwrap()),
            "no rules\n"
        );
    }

    #[test]
    fn options_make_the_rule_unset_ones_zero() {
        let policy = PolicyArgs {
            series: true,
            keep_daily: Some(7),
            keep_within_weekly: Some("1y".into()),
            ..PolicyArgs::default()
        };
        assert_eq!(
            api::body(&rule_of("db/", &policy)),
            json!({"prefix": "db/", "grouping": "series", "keep_last": 0, "keep_hourly": 0,
                   "keep_daily": 7, "keep_weekly": 0, "keep_monthly": 0, "keep_yearly": 0,
                   "keep_within_weekly": "1y"})
        );
        assert_eq!(grouping(&PolicyArgs::default()), None);
    }

    #[test]
    fn plans_are_a_table_per_rule_with_the_counts_of_all() {
        let plan: RetentionPlan = serde_json::from_value(json!({
            "kept": 3, "removed": 2, "locked": 1, "versions_scanned": 7,
            "entries": [
                {"prefix": "", "grouping": "per-key", "key": "db.dump", "version_id": "v3",
                 "last_modified": "2026-12-01T03:00:00Z", "keep": true,
                 "reasons": ["last snapshot", "daily snapshot"], "locked": false},
                {"prefix": "", "grouping": "per-key", "key": "db.dump", "version_id": "v2",
                 "last_modified": "2026-11-30T03:00:00Z", "keep": true, "locked": true},
                {"prefix": "logs/", "grouping": "series", "key": "logs/b", "version_id": "null",
                 "last_modified": "2026-12-01T04:00:00Z", "keep": true,
                 "reasons": ["within 7d"], "locked": false},
                {"prefix": "logs/", "grouping": "series", "key": "logs/a", "version_id": "null",
                 "last_modified": "2026-11-01T04:00:00Z", "keep": false, "locked": false}
            ]
        }))
        .unwrap();
        assert_eq!(
            plan_text(&plan),
            "rule for the whole bucket (per-key):\n\
             TIME                  KEY      VERSION  ACTION  REASONS\n\
             2026-12-01 03:00:00Z  db.dump  v3       keep    last snapshot, daily snapshot\n\
             2026-11-30 03:00:00Z  db.dump  v2       locked\n\
             \n\
             rule for prefix logs/ (series):\n\
             TIME                  KEY     VERSION  ACTION  REASONS\n\
             2026-12-01 04:00:00Z  logs/b  null     keep    within 7d\n\
             2026-11-01 04:00:00Z  logs/a  null     remove\n\
             \n\
             3 kept, 2 to remove, 1 kept by object lock (scanned 7 versions); \
             2 not listed (--limit for more)\n"
        );
        let empty: RetentionPlan = serde_json::from_value(json!({"versions_scanned": 1})).unwrap();
        assert_eq!(
            plan_text(&empty),
            "no backups under the rules\n\
             \n\
             0 kept, 0 to remove, 0 kept by object lock (scanned 1 version)\n"
        );
    }
}
