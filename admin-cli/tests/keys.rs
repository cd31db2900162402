//! `coffer key create|list|info|disable|enable|delete` against a fake admin API; above all that
//! the secret is printed exactly once, with the warning.
//!
//! End-to-end tests against the real cofferd come with the server side of the admin API.

mod support;

use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::run::coffer_at;

const TOKEN: &str = "tok";
const SECRET: &str = "s3cr3t-ONLY-ONCE-abcdefghij";

fn key(id: &str, name: &str) -> serde_json::Value {
    json!({"access_key_id": id, "name": name, "created": "2026-11-20T10:00:00Z",
           "expires": null, "enabled": true, "is_admin": false, "grants": []})
}

fn created() -> serde_json::Value {
    let mut k = key("AKNEW", "laptop");
    k["expires"] = json!("2026-12-20T10:00:00Z");
    k["secret_access_key"] = json!(SECRET);
    k
}

#[test]
fn create_prints_the_secret_once_with_a_warning() {
    let server = FakeAdmin::start(TOKEN, vec![Route::json("POST", "/v1/keys", 201, created())]);
    let run = coffer_at(
        &server.url,
        TOKEN,
        &["key", "create", "laptop", "--expires", "30d"],
    )
    .expect(0);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(all.matches(SECRET).count(), 1, "{all}");
    assert!(
        run.stdout.contains("access key id:      AKNEW\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("secret access key:  {SECRET}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("cannot be shown again"),
        "{}",
        run.stderr
    );
    assert_eq!(
        server.only("POST", "/v1/keys").json(),
        json!({"name": "laptop", "expires_in_seconds": 30 * 86_400})
    );
}

#[test]
fn create_json_carries_the_secret_and_still_warns() {
    let server = FakeAdmin::start(TOKEN, vec![Route::json("POST", "/v1/keys", 201, created())]);
    let run = coffer_at(&server.url, TOKEN, &["--json", "key", "create", "laptop"]).expect(0);
    assert_eq!(run.json(), created());
    assert!(!run.stderr.contains(SECRET));
    assert!(
        run.stderr.contains("cannot be shown again"),
        "{}",
        run.stderr
    );
    assert_eq!(
        server.only("POST", "/v1/keys").json(),
        json!({"name": "laptop"})
    );
}

#[test]
fn create_without_a_secret_in_the_answer_is_a_server_fault() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json("POST", "/v1/keys", 201, key("AK", "x"))],
    );
    coffer_at(&server.url, TOKEN, &["key", "create", "x"]).expect(3);
}

#[test]
fn durations_in_every_unit_and_bad_ones() {
    let server = FakeAdmin::start(TOKEN, vec![Route::json("POST", "/v1/keys", 201, created())]);
    for (text, seconds) in [
        ("12h", 43_200),
        ("90m", 5_400),
        ("3600s", 3_600),
        ("1d12h", 129_600),
    ] {
        coffer_at(
            &server.url,
            TOKEN,
            &["key", "create", "k", "--expires", text],
        )
        .expect(0);
        let last = server.requests().pop().unwrap();
        assert_eq!(last.json()["expires_in_seconds"], json!(seconds), "{text}");
    }
    let sent = server.requests().len();
    for bad in ["30", "30y", "0s", "soon"] {
        let run = coffer_at(
            &server.url,
            TOKEN,
            &["key", "create", "k", "--expires", bad],
        )
        .expect(2);
        assert!(run.stderr.contains("--expires"), "{bad}: {}", run.stderr);
    }
    assert_eq!(server.requests().len(), sent, "a usage error sends nothing");
}

#[test]
fn list_shows_state_and_grants() {
    let mut prod = key("AKPROD", "prod-db");
    prod["grants"] = json!([{"bucket": "backups", "read": true, "write": true, "delete": true}]);
    let mut dev = key("AKDEV", "dev");
    dev["enabled"] = json!(false);
    dev["grants"] = json!([{"bucket": "backups", "prefix": "dumps/", "read": true}]);
    let mut old = key("AKOLD", "old");
    old["expires"] = json!("2001-01-01T00:00:00Z");
    let mut root = key("AKROOT", "root");
    root["is_admin"] = json!(true);
    let answer = json!([prod, dev, old, root]);
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json("GET", "/v1/keys", 200, answer.clone())],
    );
    let run = coffer_at(&server.url, TOKEN, &["key", "list"]).expect(0);
    assert_eq!(
        run.stdout,
        "ACCESS KEY ID  NAME     CREATED               EXPIRES               STATE     GRANTS (r=read w=write d=delete o=owner)\n\
         AKPROD         prod-db  2026-11-20 10:00:00Z  never                 enabled   backups:rwd-\n\
         AKDEV          dev      2026-11-20 10:00:00Z  never                 disabled  backups/dumps/:r---\n\
         AKOLD          old      2026-11-20 10:00:00Z  2001-01-01 00:00:00Z  expired   -\n\
         AKROOT         root     2026-11-20 10:00:00Z  never                 enabled   everything (admin)\n"
    );
    assert!(!run.stdout.to_lowercase().contains("secret"));
    let run = coffer_at(&server.url, TOKEN, &["key", "list", "--json"]).expect(0);
    assert_eq!(run.json(), answer);
}

#[test]
fn info_enable_disable_delete() {
    let mut disabled = key("AK1", "ci");
    disabled["enabled"] = json!(false);
    let server = FakeAdmin::start(
        TOKEN,
        vec![
            Route::json("GET", "/v1/keys/AK1", 200, key("AK1", "ci")),
            Route::json("POST", "/v1/keys/AK1/disable", 200, disabled.clone()),
            Route::json("POST", "/v1/keys/AK1/enable", 200, key("AK1", "ci")),
            Route::raw("DELETE", "/v1/keys/AK1", 204, ""),
        ],
    );
    let run = coffer_at(&server.url, TOKEN, &["key", "info", "AK1"]).expect(0);
    assert!(
        run.stdout
            .starts_with("access key id:  AK1\nname:           ci\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("state:          enabled\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("no grants: the key can do nothing\n"),
        "{}",
        run.stdout
    );

    let run = coffer_at(&server.url, TOKEN, &["key", "disable", "AK1"]).expect(0);
    assert_eq!(run.stdout, "disabled access key AK1 (disabled)\n");
    let run = coffer_at(&server.url, TOKEN, &["key", "disable", "AK1", "--json"]).expect(0);
    assert_eq!(run.json(), disabled);
    let run = coffer_at(&server.url, TOKEN, &["key", "enable", "AK1"]).expect(0);
    assert_eq!(run.stdout, "enabled access key AK1 (enabled)\n");
    let run = coffer_at(&server.url, TOKEN, &["key", "delete", "AK1"]).expect(0);
    assert_eq!(run.stdout, "deleted access key AK1\n");
    assert_eq!(server.only("POST", "/v1/keys/AK1/enable").body, "");
}

#[test]
fn unknown_key_exits_1_with_one_line() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::error(
            "POST",
            "/v1/keys/NOPE/disable",
            404,
            "NoSuchKey",
            "no such access key",
        )],
    );
    let run = coffer_at(&server.url, TOKEN, &["key", "disable", "NOPE"]).expect(1);
    assert_eq!(run.stderr, "coffer: no such access key: NOPE\n");
}
