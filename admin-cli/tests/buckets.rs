//! `coffer bucket create|list|info|delete` against a fake admin API: requests sent, tables,
//! `--json`, and the server's refusals.
//!
//! End-to-end tests against the real cofferd come with the server side of the admin API.

mod support;

use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::run::coffer_at;

const TOKEN: &str = "tok-123";

fn bucket(name: &str, objects: u64, bytes: u64) -> serde_json::Value {
    json!({"name": name, "created": "2026-11-20T10:00:00Z", "versioning": "Enabled",
           "objects": objects, "logical_bytes": bytes})
}

#[test]
fn list_prints_an_aligned_table() {
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
    let answer = json!([bucket("backups", 1, 2)]);
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json("GET", "/v1/buckets", 200, answer.clone())],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "list", "--json"]).expect(0);
    assert_eq!(run.json(), answer);
}

#[test]
fn empty_list_says_so() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json("GET", "/v1/buckets", 200, json!([]))],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "list"]).expect(0);
    assert_eq!(run.stdout, "no buckets\n");
    let run = coffer_at(&server.url, TOKEN, &["--json", "bucket", "list"]).expect(0);
    assert_eq!(run.json(), json!([]));
}

#[test]
fn create_posts_the_name() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json("POST", "/v1/buckets", 201, bucket("new", 0, 0))],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "create", "new"]).expect(0);
    assert_eq!(run.stdout, "created bucket new\n");
    let req = server.only("POST", "/v1/buckets");
    assert_eq!(req.json(), json!({"name": "new"}));
    assert_eq!(req.content_type.as_deref(), Some("application/json"));
}

#[test]
fn create_existing_bucket_exits_1() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::error(
            "POST",
            "/v1/buckets",
            409,
            "BucketAlreadyExists",
            "taken",
        )],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "create", "dup"]).expect(1);
    assert_eq!(run.stderr, "coffer: bucket dup already exists\n");
}

#[test]
fn info_shows_fields_and_grants() {
    let mut b = bucket("backups", 10, 2048);
    b["grants"] = json!([
        {"access_key_id": "AKPROD", "bucket": "backups", "read": true, "write": true},
        {"access_key_id": "AKDEV", "bucket": "backups", "prefix": "dumps/", "read": true}
    ]);
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json("GET", "/v1/buckets/backups", 200, b.clone())],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "info", "backups"]).expect(0);
    assert_eq!(
        run.stdout,
        "bucket:      backups\n\
         created:     2026-11-20 10:00:00Z\n\
         versioning:  Enabled\n\
         objects:     10\n\
         size:        2.0 KiB (2,048 bytes)\n\
         \n\
         ACCESS KEY ID  PREFIX  PERMISSIONS\n\
         AKPROD         (all)   read, write\n\
         AKDEV          dumps/  read\n"
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "info", "backups", "--json"]).expect(0);
    assert_eq!(run.json(), b);
}

#[test]
fn info_of_missing_bucket_exits_1_with_one_line() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::error(
            "GET",
            "/v1/buckets/x",
            404,
            "NoSuchBucket",
            "The specified bucket does not exist",
        )],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "info", "x"]).expect(1);
    assert_eq!(run.stderr, "coffer: no such bucket: x\n");
    assert_eq!(run.stdout, "");
}

#[test]
fn delete_sends_delete_and_handles_204() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::raw("DELETE", "/v1/buckets/old", 204, "")],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "delete", "old"]).expect(0);
    assert_eq!(run.stdout, "deleted bucket old\n");
    let run = coffer_at(&server.url, TOKEN, &["bucket", "delete", "old", "--json"]).expect(0);
    assert_eq!(run.stdout, "", "nothing to print as JSON for a 204");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn delete_of_non_empty_bucket_exits_1() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::error(
            "DELETE",
            "/v1/buckets/full",
            409,
            "BucketNotEmpty",
            "not empty",
        )],
    );
    let run = coffer_at(&server.url, TOKEN, &["bucket", "delete", "full"]).expect(1);
    assert!(
        run.stderr.starts_with("coffer: bucket full is not empty"),
        "{}",
        run.stderr
    );
}

#[test]
fn odd_names_are_percent_encoded_in_the_path() {
    let server = FakeAdmin::start(TOKEN, vec![]);
    coffer_at(&server.url, TOKEN, &["bucket", "info", "a b/.."]).expect(1);
    assert_eq!(server.requests()[0].path, "/v1/buckets/a%20b%2F..");
}
