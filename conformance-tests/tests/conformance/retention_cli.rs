//! `coffer retention set|show|plan|remove` against a real cofferd: a rule set
//! with the CLI comes back through the admin API as it was set, its plan keeps
//! exactly the backups restic's policy keeps (with restic's reasons), a dry run
//! and a refused rule store nothing, and removing a rule that is not there is
//! a clear error.

use std::time::Duration;

use coffer_conformance::clients::AwsCli;
use coffer_conformance::files::write_random;
use coffer_conformance::{CmdOutput, coffer_test, run_cmd};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A rule as the admin API answers it: every count, zero when not set.
fn rule(prefix: &str, grouping: &str, keep_last: u32) -> Value {
    json!({"prefix": prefix, "grouping": grouping, "keep_last": keep_last,
           "keep_hourly": 0, "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0,
           "keep_yearly": 0})
}

/// A timestamp as RFC 3339 text (the aws cli's `LastModified`, the plan's
/// `last_modified`), to whole seconds: the plan counts in seconds.
fn second(v: &Value) -> i64 {
    OffsetDateTime::parse(v.as_str().expect("a timestamp"), &Rfc3339)
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .unix_timestamp()
}

// A server of its own: the `retention` worker's hourly pass on a shared,
// long-running server could remove what the plan is asserted to list. (Its
// own server also lets the bucket be docs/admin-cli.md's `backups`: the
// commands there are these.)
coffer_test!(coffer_retention_sets_shows_plans_and_removes_rules, |t| {
    let b = "backups";
    t.create_bucket(b);
    let aws = |args: &[&str]| t.aws(AwsCli::V2, args);
    let coffer =
        |args: &[&str]| -> CmdOutput { run_cmd(t.coffer_cmd(args), Duration::from_secs(60)) };
    t.enable_versioning(AwsCli::V2, b);

    // A series (a new key per backup) a second apart, so that the newest are
    // the last written; and one key overwritten by each backup.
    let body = t.work("body.bin");
    let series = [
        "series/d1.dump",
        "series/d2.dump",
        "series/d3.dump",
        "series/d4.dump",
    ];
    for (n, key) in series.iter().enumerate() {
        write_random(&body, 2000 + n as u64, 100 + n as u64);
        aws(&[
            "s3",
            "cp",
            body.to_str().unwrap(),
            &format!("s3://{b}/{key}"),
        ])
        .assert_ok();
        std::thread::sleep(Duration::from_millis(1100));
    }
    for n in 0..3 {
        write_random(&body, 3000 + n, 50 + n);
        aws(&[
            "s3",
            "cp",
            body.to_str().unwrap(),
            &format!("s3://{b}/db.dump"),
        ])
        .assert_ok();
        std::thread::sleep(Duration::from_millis(1100));
    }
    let versions = aws(&[
        "s3api",
        "list-object-versions",
        "--bucket",
        b,
        "--output",
        "json",
    ]);
    versions.assert_ok();
    let versions = versions.json()["Versions"]
        .as_array()
        .expect("Versions")
        .clone();
    let version_of = |key: &str| -> &Value {
        versions
            .iter()
            .find(|v| v["Key"] == key)
            .unwrap_or_else(|| panic!("no version of {key}: {versions:?}"))
    };

    // Set, and set again: the second replaces the first.
    let target = format!("{b}/series/");
    coffer(&["retention", "set", &target, "--series", "--keep-last", "3"]).assert_ok();
    let set = coffer(&[
        "retention",
        "set",
        &target,
        "--series",
        "--keep-last",
        "2",
        "--json",
    ]);
    set.assert_ok();
    let rules = json!({"rules": [rule("series/", "series", 2)]});
    assert_eq!(set.json(), rules, "{set}");
    let show = coffer(&["retention", "show", b, "--json"]);
    show.assert_ok();
    assert_eq!(show.json(), rules, "{show}");
    coffer(&["retention", "show", b])
        .assert_ok()
        .assert_stdout_contains("prefix:     series/\n")
        .assert_stdout_contains("grouping:   series (each object under the prefix is one backup)\n")
        .assert_stdout_contains("keep-last:  the 2 newest backups\n");

    // The stored rule's plan: the two newest kept as restic's "last snapshot"s.
    let expected: Vec<Value> = series
        .iter()
        .enumerate()
        .map(|(n, key)| {
            let keep = n >= 2;
            json!({"prefix": "series/", "grouping": "series", "key": key,
                   "version_id": version_of(key)["VersionId"], "keep": keep,
                   "reasons": if keep { json!(["last snapshot"]) } else { json!([]) },
                   "locked": false})
        })
        .collect();
    for args in [
        &["retention", "plan", b, "--json"][..],
        &["retention", "plan", &target, "--json"][..],
    ] {
        let plan = coffer(args);
        plan.assert_ok();
        let plan = plan.json();
        assert_eq!(
            (
                &plan["kept"],
                &plan["removed"],
                &plan["locked"],
                &plan["versions_scanned"]
            ),
            (&json!(2), &json!(2), &json!(0), &json!(4)),
            "{plan}"
        );
        let mut entries = plan["entries"].as_array().expect("entries").clone();
        for e in &mut entries {
            let key = e["key"].as_str().unwrap().to_owned();
            let written = second(&version_of(&key)["LastModified"]);
            assert_eq!(second(&e["last_modified"]), written, "{e}");
            e.as_object_mut().unwrap().remove("last_modified");
        }
        entries.sort_by_key(|e| e["key"].to_string());
        assert_eq!(entries, expected, "{plan}");
    }
    coffer(&["retention", "plan", b])
        .assert_ok()
        .assert_stdout_contains("rule for prefix series/ (series):\n")
        .assert_stdout_contains("TIME")
        .assert_stdout_contains("REASONS")
        .assert_stdout_contains("  keep    last snapshot\n")
        .assert_stdout_contains("  remove\n")
        .assert_stdout_contains(
            "\n2 kept, 2 to remove, 0 kept by object lock (scanned 4 versions)\n",
        );
    coffer(&["retention", "plan", b, "--limit", "1"])
        .assert_ok()
        .assert_stdout_contains(
            "2 kept, 2 to remove, 0 kept by object lock (scanned 4 versions); \
             3 not listed (--limit for more)\n",
        );

    // A dry run of a whole-bucket rule: db.dump's newest version stays, the
    // series stays governed by its own (longer) prefix, and nothing is stored.
    let dry = coffer(&[
        "retention",
        "plan",
        &format!("{b}/"),
        "--per-key",
        "--keep-last",
        "1",
        "--json",
    ]);
    dry.assert_ok();
    let dry = dry.json();
    // Every row of the bucket is read; the series' are left to their rule.
    assert_eq!(
        (
            &dry["kept"],
            &dry["removed"],
            &dry["locked"],
            &dry["versions_scanned"]
        ),
        (&json!(1), &json!(2), &json!(0), &json!(7)),
        "{dry}"
    );
    let dumps: Vec<&Value> = versions.iter().filter(|v| v["Key"] == "db.dump").collect();
    assert_eq!(dumps.len(), 3, "{versions:?}");
    let newest = dumps
        .iter()
        .max_by_key(|v| second(&v["LastModified"]))
        .unwrap();
    let entries = dry["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "{dry}");
    for e in entries {
        assert_eq!(
            (&e["prefix"], &e["grouping"], &e["key"]),
            (&json!(""), &json!("per-key"), &json!("db.dump")),
            "{e}"
        );
        let is_newest = e["version_id"] == newest["VersionId"];
        assert_eq!(e["keep"], json!(is_newest), "{dry}");
        let reasons = if is_newest {
            json!(["last snapshot"])
        } else {
            json!([])
        };
        assert_eq!(e["reasons"], reasons, "{dry}");
    }
    let show = coffer(&["retention", "show", b, "--json"]);
    assert_eq!(show.json(), rules, "the dry run stored a rule: {show}");

    // Rules that keep nothing are refused, by the CLI and by the server; neither is stored.
    let none = coffer(&["retention", "set", b, "--per-key"]);
    none.assert_failed();
    assert_eq!(none.status.and_then(|s| s.code()), Some(2), "{none}");
    assert!(
        none.stderr
            .contains("the following required arguments were not provided")
            && none.stderr.contains("--keep-last <N>"),
        "{none}"
    );
    let zero = coffer(&["retention", "set", b, "--per-key", "--keep-last", "0"]);
    zero.assert_failed();
    assert_eq!(zero.status.and_then(|s| s.code()), Some(1), "{zero}");
    assert!(
        zero.stderr.contains("a retention rule must keep something"),
        "{zero}"
    );
    let ungrouped = coffer(&["retention", "set", b, "--keep-last", "1"]);
    assert_eq!(
        ungrouped.status.and_then(|s| s.code()),
        Some(2),
        "{ungrouped}"
    );
    assert!(ungrouped.stderr.contains("--per-key"), "{ungrouped}");
    let typo = coffer(&["retention", "set", b, "--series", "--keep-within", "7x"]);
    assert_eq!(typo.status.and_then(|s| s.code()), Some(2), "{typo}");
    assert!(typo.stderr.contains("`7x` is not a span"), "{typo}");
    let show = coffer(&["retention", "show", b, "--json"]);
    assert_eq!(show.json(), rules, "a refused rule was stored: {show}");

    // A prefix that needs encoding in the query string arrives as typed.
    let odd = format!("{b}/odd &+=%/");
    coffer(&["retention", "set", &odd, "--per-key", "--keep-daily", "7"]).assert_ok();
    let plan = coffer(&["retention", "plan", &odd, "--json"]);
    plan.assert_ok();
    assert_eq!(
        plan.json(),
        json!({"kept": 0, "removed": 0, "locked": 0, "versions_scanned": 0, "entries": []}),
        "{plan}"
    );
    coffer(&["retention", "remove", &odd])
        .assert_ok()
        .assert_stdout_contains(&format!(
            "removed the retention rule for prefix odd &+=%/ of bucket {b}\n"
        ));

    // Remove, then remove again: the second is a clear error.
    coffer(&["retention", "remove", &target])
        .assert_ok()
        .assert_stdout_contains(&format!(
            "removed the retention rule for prefix series/ of bucket {b}\n"
        ));
    let show = coffer(&["retention", "show", b, "--json"]);
    assert_eq!(show.json(), json!({"rules": []}), "{show}");
    coffer(&["retention", "show", b])
        .assert_ok()
        .assert_stdout_contains("no rules\n");
    let missing = format!(
        "bucket {b} has no retention rule for prefix series/ \
         (coffer retention show {b} lists its rules)"
    );
    for args in [
        ["retention", "remove", &target],
        ["retention", "plan", &target],
    ] {
        let again = coffer(&args);
        again.assert_failed();
        assert_eq!(again.status.and_then(|s| s.code()), Some(1), "{again}");
        assert!(again.stderr.contains(&missing), "{again}");
        assert!(again.stdout.is_empty(), "{again}");
    }
    let whole = coffer(&["retention", "remove", b]);
    assert_eq!(whole.status.and_then(|s| s.code()), Some(1), "{whole}");
    assert!(
        whole.stderr.contains(&format!(
            "bucket {b} has no retention rule for the whole bucket"
        )),
        "{whole}"
    );
    let out = coffer(&["retention", "show", "retention-cli-missing"]);
    out.assert_failed();
    assert!(
        out.stderr.contains("no such bucket: retention-cli-missing"),
        "{out}"
    );
});
