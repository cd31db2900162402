//! `coffer lifecycle show|plan` against a real cofferd: rules put with the
//! aws cli come back through the admin API as they were put, and the plan
//! lists exactly what they will do, each action with its rule and due time.

use std::time::Duration;

use coffer_conformance::clients::AwsCli;
use coffer_conformance::files::write_random;
use coffer_conformance::{coffer_test, run_cmd};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Midnight UTC after `t` plus `days`, as AWS rounds lifecycle days.
fn midnight_after(t: OffsetDateTime, days: i64) -> String {
    let date = (t + time::Duration::days(days))
        .to_offset(UtcOffset::UTC)
        .date();
    date.next_day()
        .unwrap()
        .midnight()
        .assume_utc()
        .format(&Rfc3339)
        .unwrap()
}

/// `LastModified` as the aws cli prints it (`2026-12-01T10:00:00+00:00`).
fn instant(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().expect("a LastModified"), &Rfc3339)
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

coffer_test!(
    coffer_lifecycle_shows_rules_and_plans_actions,
    shared,
    |t| {
        let b = "lifecycle-cli";
        t.create_bucket(b);
        let aws = |args: &[&str]| t.aws(AwsCli::V2, args);
        t.enable_versioning(AwsCli::V2, b);
        let config = t.work("lifecycle.json");
        std::fs::write(
        &config,
        json!({"Rules": [
            {"ID": "old", "Filter": {"Prefix": "db/"}, "Status": "Enabled",
             "NoncurrentVersionExpiration": {"NoncurrentDays": 30, "NewerNoncurrentVersions": 2}},
            {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
             "Expiration": {"Days": 7}}
        ]})
        .to_string(),
    )
    .unwrap();
        aws(&[
            "s3api",
            "put-bucket-lifecycle-configuration",
            "--bucket",
            b,
            "--lifecycle-configuration",
            &format!("file://{}", config.display()),
        ])
        .assert_ok();

        let body = t.work("body.bin");
        for n in 0..5 {
            write_random(&body, 1000 + n, 40 + n);
            aws(&[
                "s3",
                "cp",
                body.to_str().unwrap(),
                &format!("s3://{b}/db/dump.gz"),
            ])
            .assert_ok();
        }
        aws(&[
            "s3",
            "cp",
            body.to_str().unwrap(),
            &format!("s3://{b}/tmp/x"),
        ])
        .assert_ok();

        // The rules as they were put.
        let show = run_cmd(
            t.coffer_cmd(&["lifecycle", "show", b, "--json"]),
            Duration::from_secs(60),
        );
        show.assert_ok();
        assert_eq!(
            show.json(),
            json!({"rules": [
                {"id": "old", "status": "Enabled",
                 "filter": {"prefix": "db/", "tags": [], "object_size_greater_than": null,
                            "object_size_less_than": null},
                 "expiration": null,
                 "noncurrent_version_expiration": {"noncurrent_days": 30,
                                                   "newer_noncurrent_versions": 2},
                 "abort_incomplete_multipart_upload": null},
                {"id": "tmp", "status": "Enabled",
                 "filter": {"prefix": "tmp/", "tags": [], "object_size_greater_than": null,
                            "object_size_less_than": null},
                 "expiration": {"days": 7},
                 "noncurrent_version_expiration": null,
                 "abort_incomplete_multipart_upload": null}
            ]}),
            "{show}"
        );
        run_cmd(
            t.coffer_cmd(&["lifecycle", "show", b]),
            Duration::from_secs(60),
        )
        .assert_ok()
        .assert_stdout_contains("old")
        .assert_stdout_contains("tmp")
        .assert_stdout_contains("delete 30 days after they become noncurrent, keep the newest 2")
        .assert_stdout_contains("expire 7 days after creation");

        // What the plan must say, from the versions' own times: newest first.
        let versions = aws(&[
            "s3api",
            "list-object-versions",
            "--bucket",
            b,
            "--output",
            "json",
        ]);
        versions.assert_ok();
        let versions = versions.json();
        let versions = versions["Versions"].as_array().expect("Versions");
        let dump: Vec<&Value> = versions
            .iter()
            .filter(|v| v["Key"] == "db/dump.gz")
            .collect();
        assert_eq!(dump.len(), 5, "{versions:?}");
        let x = versions
            .iter()
            .find(|v| v["Key"] == "tmp/x")
            .expect("tmp/x");
        // The oldest two (dump[4], dump[3]) go 30 days after their successor was written.
        let noncurrent = |i: usize| {
            json!({"key": "db/dump.gz", "version_id": dump[i]["VersionId"], "upload_id": null,
               "action": "delete-noncurrent", "rule_id": "old",
               "due": midnight_after(instant(&dump[i - 1]["LastModified"]), 30)})
        };
        let mut expected = vec![
            json!({"key": "tmp/x", "version_id": x["VersionId"], "upload_id": null,
               "action": "expire-current", "rule_id": "tmp",
               "due": midnight_after(instant(&x["LastModified"]), 7)}),
            noncurrent(4),
            noncurrent(3),
        ];
        // Earliest first; the two deletions may fall on the same midnight.
        expected.sort_by_key(|a| a["due"].as_str().unwrap().to_owned());

        let plan = run_cmd(
            t.coffer_cmd(&["lifecycle", "plan", b, "--json"]),
            Duration::from_secs(60),
        );
        plan.assert_ok();
        let plan = plan.json();
        assert_eq!(plan["total"], 3, "{plan}");
        assert_eq!(plan["versions_scanned"], 6, "{plan}");
        let mut actions = plan["actions"].as_array().expect("actions").clone();
        let dues: Vec<String> = actions
            .iter()
            .map(|a| a["due"].as_str().unwrap().to_owned())
            .collect();
        assert!(dues.is_sorted(), "not earliest first: {plan}");
        // Same-day actions come in no promised order.
        actions.sort_by_key(|a| (a["due"].to_string(), a["version_id"].to_string()));
        expected.sort_by_key(|a| (a["due"].to_string(), a["version_id"].to_string()));
        assert_eq!(actions, expected, "{plan}");

        let limited = run_cmd(
            t.coffer_cmd(&["lifecycle", "plan", b, "--limit", "1", "--json"]),
            Duration::from_secs(60),
        );
        limited.assert_ok();
        let limited = limited.json();
        assert_eq!(limited["total"], 3, "{limited}");
        assert_eq!(limited["actions"].as_array().map(Vec::len), Some(1));
        assert_eq!(limited["actions"][0]["key"], "tmp/x", "{limited}");

        run_cmd(
            t.coffer_cmd(&["lifecycle", "plan", b]),
            Duration::from_secs(60),
        )
        .assert_ok()
        .assert_stdout_contains("DUE")
        .assert_stdout_contains("VERSION/UPLOAD")
        .assert_stdout_contains("delete-noncurrent")
        .assert_stdout_contains("expire-current")
        .assert_stdout_contains("  old  ")
        .assert_stdout_contains("  tmp  ")
        .assert_stdout_contains("3 actions in all (6 versions scanned)");

        // The endpoints themselves: the limit is read and capped, other methods refused.
        let admin = t.admin();
        let plan_path = format!("/v1/buckets/{b}/lifecycle/plan");
        let capped = admin.ok("GET", &format!("{plan_path}?limit=999999"), None);
        assert_eq!(
            capped["actions"].as_array().map(Vec::len),
            Some(3),
            "{capped}"
        );
        let counted = admin.ok("GET", &format!("{plan_path}?limit=0"), None);
        assert_eq!(
            (&counted["total"], &counted["actions"]),
            (&json!(3), &json!([]))
        );
        let bad = admin.refused("GET", &format!("{plan_path}?limit=lots"), None);
        assert_eq!(
            (bad.status(), bad.code()),
            (Some(400), Some("InvalidArgument"))
        );
        for (method, path) in [
            ("POST", format!("/v1/buckets/{b}/lifecycle")),
            ("DELETE", format!("/v1/buckets/{b}/lifecycle")),
            ("POST", plan_path.clone()),
        ] {
            let e = admin.refused(method, &path, None);
            assert_eq!(e.status(), Some(405), "{method} {path}: {e}");
        }

        // A bucket without rules, and one that does not exist: exit 1, a clear line.
        let bare = "lifecycle-cli-none";
        t.create_bucket(bare);
        for cmd in [["lifecycle", "show", bare], ["lifecycle", "plan", bare]] {
            let out = run_cmd(t.coffer_cmd(&cmd), Duration::from_secs(60));
            out.assert_failed();
            assert_eq!(out.status.and_then(|s| s.code()), Some(1), "{out}");
            assert!(
                out.stderr
                    .contains(&format!("bucket {bare} has no lifecycle configuration")),
                "{out}"
            );
            assert!(out.stdout.is_empty(), "{out}");
        }
        let out = run_cmd(
            t.coffer_cmd(&["lifecycle", "show", "lifecycle-cli-missing"]),
            Duration::from_secs(60),
        );
        out.assert_failed();
        assert!(
            out.stderr.contains("no such bucket: lifecycle-cli-missing"),
            "{out}"
        );
    }
);
