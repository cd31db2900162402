//! `coffer grant` and `coffer revoke` against a fake admin API: the `BUCKET[/PREFIX]` argument,
//! the permission flags, the bodies sent.
//!
//! End-to-end tests against the real cofferd come with the server side of the admin API.

mod support;

use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::run::coffer_at;

const TOKEN: &str = "tok";

fn key_with(grants: serde_json::Value) -> serde_json::Value {
    json!({"access_key_id": "AKDEV", "name": "dev", "created": 1_700_000_000, "expires": null,
           "enabled": true, "is_admin": false, "grants": grants})
}

fn server() -> FakeAdmin {
    let granted = key_with(json!([{"bucket": "dumps", "prefix": "latest/", "read": true}]));
    FakeAdmin::start(
        TOKEN,
        vec![
            Route::json("POST", "/v1/keys/AKDEV/grants", 200, granted),
            Route::json("DELETE", "/v1/keys/AKDEV/grants", 200, key_with(json!([]))),
        ],
    )
}

#[test]
fn grant_on_a_prefix_sends_bucket_prefix_and_flags() {
    let server = server();
    let run = coffer_at(
        &server.url,
        TOKEN,
        &["grant", "AKDEV", "dumps/latest/", "--read"],
    )
    .expect(0);
    assert!(
        run.stdout
            .starts_with("granted read on dumps/latest/ to AKDEV\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("dumps   latest/  read\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("created:        2023-11-14 22:13:20Z\n"),
        "{}",
        run.stdout
    );
    assert_eq!(
        server.only("POST", "/v1/keys/AKDEV/grants").json(),
        json!({"bucket": "dumps", "prefix": "latest/", "read": true, "write": false,
               "delete": false, "owner": false})
    );
}

#[test]
fn grant_on_a_whole_bucket_or_every_bucket_omits_the_prefix() {
    let server = server();
    coffer_at(
        &server.url,
        TOKEN,
        &[
            "grant", "AKDEV", "backups", "--write", "--read", "--delete", "--owner",
        ],
    )
    .expect(0);
    coffer_at(
        &server.url,
        TOKEN,
        &["grant", "AKDEV", "*", "--read", "--json"],
    )
    .expect(0);
    let bodies: Vec<_> = server.requests().iter().map(|r| r.json()).collect();
    assert_eq!(
        bodies,
        vec![
            json!({"bucket": "backups", "read": true, "write": true, "delete": true, "owner": true}),
            json!({"bucket": "*", "read": true, "write": false, "delete": false, "owner": false}),
        ]
    );
}

#[test]
fn grant_json_is_the_key() {
    let server = server();
    let run = coffer_at(
        &server.url,
        TOKEN,
        &["--json", "grant", "AKDEV", "dumps/latest/", "--read"],
    )
    .expect(0);
    assert_eq!(run.json()["grants"][0]["prefix"], json!("latest/"));
}

#[test]
fn grant_needs_a_permission_and_a_bucket() {
    let server = server();
    let run = coffer_at(&server.url, TOKEN, &["grant", "AKDEV", "dumps"]).expect(2);
    assert!(run.stderr.contains("--read"), "{}", run.stderr);
    coffer_at(&server.url, TOKEN, &["grant", "AKDEV", "/db", "--read"]).expect(2);
    coffer_at(&server.url, TOKEN, &["grant", "AKDEV", "--read"]).expect(2);
    assert!(server.requests().is_empty());
}

#[test]
fn grant_on_a_missing_bucket_names_it() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::error(
            "POST",
            "/v1/keys/AKDEV/grants",
            404,
            "NoSuchBucket",
            "",
        )],
    );
    let run = coffer_at(&server.url, TOKEN, &["grant", "AKDEV", "nope/x/", "--read"]).expect(1);
    assert_eq!(run.stderr, "coffer: no such bucket: nope\n");
}

#[test]
fn revoke_sends_a_delete_with_the_scope() {
    let server = server();
    let run = coffer_at(&server.url, TOKEN, &["revoke", "AKDEV", "dumps/latest/"]).expect(0);
    assert!(
        run.stdout
            .starts_with("revoked the grant on dumps/latest/ from AKDEV\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("no grants: the key can do nothing"),
        "{}",
        run.stdout
    );
    assert_eq!(
        server.only("DELETE", "/v1/keys/AKDEV/grants").json(),
        json!({"bucket": "dumps", "prefix": "latest/"})
    );
    coffer_at(&server.url, TOKEN, &["revoke", "AKDEV", "dumps", "--json"]).expect(0);
    assert_eq!(server.requests()[1].json(), json!({"bucket": "dumps"}));
}
