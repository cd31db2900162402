//! `coffer bucket create|list|info|delete` against a real cofferd: tables, `--json`,
//! and the server's refusals. The table of values a test server cannot reach
//! quickly (gigabytes, thousands of objects) is checked against the fake admin API.

mod support;

use coffer_conformance::TestEnv;
use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::real::{cli, put, shown};
use support::run::coffer_at;

const TOKEN: &str = "tok-123";

fn bucket(name: &str, objects: u64, bytes: u64) -> serde_json::Value {
    json!({"name": name, "created": "2026-11-20T10:00:00Z", "versioning": "Enabled",
           "objects": objects, "logical_bytes": bytes})
}

fn versioned(env: &TestEnv, name: &str) {
    cli(env, &["bucket", "create", name]).expect(0);
    env.aws(
        coffer_conformance::clients::AwsCli::V2,
        &[
            "s3api",
            "put-bucket-versioning",
            "--bucket",
            name,
            "--versioning-configuration",
            "Status=Enabled",
        ],
    )
    .assert_ok();
}

#[test]
fn list_prints_an_aligned_table() {
    let env = TestEnv::new("cli-bucket-list");
    versioned(&env, "backups");
    versioned(&env, "dbs");
    put(&env, "backups", "a", 3 << 20);
    put(&env, "backups", "b", 1 << 20);
    for k in ["1", "2", "3"] {
        put(&env, "dbs", k, 512 / 3 + usize::from(k == "1") * (512 % 3));
    }
    let listed = cli(&env, &["bucket", "list", "--json"]).expect(0).json();
    let created = |name: &str| {
        let b = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {listed}"));
        shown(&b["created"])
    };
    let run = cli(&env, &["bucket", "list"]).expect(0);
    assert_eq!(
        run.stdout,
        format!(
            "NAME     CREATED               VERSIONING  OBJECTS     SIZE\n\
             backups  {}  Enabled           2  4.0 MiB\n\
             dbs      {}  Enabled           3    512 B\n",
            created("backups"),
            created("dbs")
        )
    );
}

/// Thousands separators and GiB in the table: values no test server holds.
#[test]
fn list_formats_large_counts_and_sizes() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json(
            "GET",
            "/v1/buckets",
            200,
            json!([
                bucket("backups", 1234, 5 * 1024 * 1024 * 1024),
                bucket("db", 3, 512)
            ]),
        )],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "list"]).expect(0);
    assert_eq!(
        run.stdout,
        "NAME     CREATED               VERSIONING  OBJECTS     SIZE\n\
         backups  2026-11-20 10:00:00Z  Enabled       1,234  5.0 GiB\n\
         db       2026-11-20 10:00:00Z  Enabled           3    512 B\n"
    );
    let req = server.only("GET", "/v1/buckets");
    assert_eq!(req.authorization.as_deref(), Some("Bearer tok-123"));
}

#[test]
fn list_json_is_the_api_answer() {
    let env = TestEnv::new("cli-bucket-list-json");
    cli(&env, &["bucket", "create", "backups"]).expect(0);
    let answer = env.admin().ok("GET", "/v1/buckets", None);
    let run = cli(&env, &["bucket", "list", "--json"]).expect(0);
    assert_eq!(run.json(), answer);
    assert_eq!(answer[0]["name"], "backups", "{answer}");
}

#[test]
fn empty_list_says_so() {
    let env = TestEnv::new("cli-bucket-empty");
    let run = cli(&env, &["bucket", "list"]).expect(0);
    assert_eq!(run.stdout, "no buckets\n");
    let run = cli(&env, &["--json", "bucket", "list"]).expect(0);
    assert_eq!(run.json(), json!([]));
}

#[test]
fn create_posts_the_name() {
    let env = TestEnv::shared("cli-bucket-create");
    let run = cli(&env, &["bucket", "create", "cli-new"]).expect(0);
    assert_eq!(run.stdout, "created bucket cli-new\n");
    let b = env.admin().ok("GET", "/v1/buckets/cli-new", None);
    assert_eq!(b["name"], "cli-new", "{b}");
    // And the S3 side sees it.
    env.aws(
        coffer_conformance::clients::AwsCli::V2,
        &["s3api", "head-bucket", "--bucket", "cli-new"],
    )
    .assert_ok();
}

#[test]
fn create_existing_bucket_exits_1() {
    let env = TestEnv::shared("cli-bucket-dup");
    cli(&env, &["bucket", "create", "cli-dup"]).expect(0);
    let run = cli(&env, &["bucket", "create", "cli-dup"]).expect(1);
    assert_eq!(run.stderr, "coffer: bucket cli-dup already exists\n");
}

#[test]
fn info_shows_fields_and_grants() {
    let env = TestEnv::new("cli-bucket-info");
    versioned(&env, "backups");
    put(&env, "backups", "a", 2048);
    let admin = env.admin();
    let prod = admin.create_key("prod", &[("backups", "", "rw")]);
    let dev = admin.create_key("dev", &[("backups", "dumps/", "r")]);
    let b = admin.ok("GET", "/v1/buckets/backups", None);
    let run = cli(&env, &["bucket", "info", "backups"]).expect(0);
    let (p, d) = (prod.id.as_str(), dev.id.as_str());
    let w = p.len().max(d.len()).max("ACCESS KEY ID".len());
    let mut rows = [
        format!("{p:<w$}  (all)   read, write"),
        format!("{d:<w$}  dumps/  read"),
    ];
    // The server lists grants in its own order; the table keeps it.
    if b["grants"][0]["access_key_id"] == dev.id.as_str() {
        rows.swap(0, 1);
    }
    assert_eq!(
        run.stdout,
        format!(
            "bucket:      backups\n\
             created:     {}\n\
             versioning:  Enabled\n\
             objects:     1\n\
             size:        2.0 KiB (2,048 bytes)\n\
             \n\
             {:<w$}  PREFIX  PERMISSIONS\n\
             {}\n\
             {}\n",
            shown(&b["created"]),
            "ACCESS KEY ID",
            rows[0],
            rows[1]
        )
    );
    let run = cli(&env, &["bucket", "info", "backups", "--json"]).expect(0);
    assert_eq!(run.json(), b);
}

#[test]
fn info_of_missing_bucket_exits_1_with_one_line() {
    let env = TestEnv::shared("cli-bucket-missing");
    let run = cli(&env, &["bucket", "info", "cli-nope"]).expect(1);
    assert_eq!(run.stderr, "coffer: no such bucket: cli-nope\n");
    assert_eq!(run.stdout, "");
}

#[test]
fn delete_sends_delete_and_handles_204() {
    let env = TestEnv::shared("cli-bucket-delete");
    cli(&env, &["bucket", "create", "cli-old"]).expect(0);
    cli(&env, &["bucket", "create", "cli-old2"]).expect(0);
    let run = cli(&env, &["bucket", "delete", "cli-old"]).expect(0);
    assert_eq!(run.stdout, "deleted bucket cli-old\n");
    let run = cli(&env, &["bucket", "delete", "cli-old2", "--json"]).expect(0);
    assert_eq!(run.stdout, "", "nothing to print as JSON for a 204");
    for gone in ["cli-old", "cli-old2"] {
        cli(&env, &["bucket", "info", gone]).expect(1);
    }
}

#[test]
fn delete_of_non_empty_bucket_exits_1() {
    let env = TestEnv::shared("cli-bucket-full");
    cli(&env, &["bucket", "create", "cli-full"]).expect(0);
    put(&env, "cli-full", "x", 10);
    let run = cli(&env, &["bucket", "delete", "cli-full"]).expect(1);
    assert!(
        run.stderr
            .starts_with("coffer: bucket cli-full is not empty"),
        "{}",
        run.stderr
    );
}

/// The path the CLI builds from an odd name: only the fake records it.
#[test]
fn odd_names_are_percent_encoded_in_the_path() {
    let server = FakeAdmin::start(TOKEN, vec![]);
    coffer_at(&server.url, TOKEN, &["bucket", "info", "a b/.."]).expect(1);
    assert_eq!(server.requests()[0].path, "/v1/buckets/a%20b%2F..");
    // A real server refuses it as a bucket that does not exist, not as a path elsewhere.
    let env = TestEnv::shared("cli-bucket-odd");
    let run = cli(&env, &["bucket", "info", "a b/.."]).expect(1);
    assert_eq!(run.stderr, "coffer: no such bucket: a b/..\n");
}
