//! `coffer key create|list|info|disable|enable|delete` against a real cofferd; above all
//! that the secret is printed exactly once, with the warning. The fake admin API answers
//! what a real server never sends (a created key without its secret) and a table of keys
//! with values a test cannot wait for (a key that expired years ago).

mod support;

use coffer_conformance::TestEnv;
use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::real::{cli, shown};
use support::run::coffer_at;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const TOKEN: &str = "tok";

fn key(id: &str, name: &str) -> serde_json::Value {
    json!({"access_key_id": id, "name": name, "created": "2026-11-20T10:00:00Z",
           "expires": null, "enabled": true, "is_admin": false, "grants": []})
}

fn instant(v: &serde_json::Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().expect("a time"), &Rfc3339).expect("RFC 3339")
}

/// Seconds from a key's creation to its expiry.
fn lifetime(k: &serde_json::Value) -> i64 {
    (instant(&k["expires"]) - instant(&k["created"])).whole_seconds()
}

#[test]
fn create_prints_the_secret_once_with_a_warning() {
    let env = TestEnv::shared("cli-key-create");
    let run = cli(&env, &["key", "create", "laptop", "--expires", "30d"]).expect(0);
    let id = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("access key id:      "))
        .unwrap_or_else(|| panic!("an access key id line: {}", run.stdout))
        .to_owned();
    let secret = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("secret access key:  "))
        .unwrap_or_else(|| panic!("a secret line: {}", run.stdout))
        .to_owned();
    assert!(secret.len() >= 30, "{secret}");
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(all.matches(&secret).count(), 1, "{all}");
    assert!(
        run.stderr.contains("cannot be shown again"),
        "{}",
        run.stderr
    );
    let k = env.admin().ok("GET", &format!("/v1/keys/{id}"), None);
    assert_eq!(k["name"], "laptop", "{k}");
    let life = lifetime(&k);
    assert!((30 * 86_400 - 2..=30 * 86_400 + 2).contains(&life), "{k}");
    // Never again: not in the key's info.
    let info = cli(&env, &["key", "info", &id]).expect(0);
    assert!(!info.stdout.contains(&secret), "{}", info.stdout);
}

#[test]
fn create_json_carries_the_secret_and_still_warns() {
    let env = TestEnv::shared("cli-key-create-json");
    let run = cli(&env, &["--json", "key", "create", "laptop-json"]).expect(0);
    let k = run.json();
    let secret = k["secret_access_key"]
        .as_str()
        .expect("the secret")
        .to_owned();
    assert_eq!(k["name"], "laptop-json", "{k}");
    assert_eq!(k["expires"], json!(null), "{k}");
    assert!(!run.stderr.contains(&secret));
    assert!(
        run.stderr.contains("cannot be shown again"),
        "{}",
        run.stderr
    );
    let id = k["access_key_id"].as_str().unwrap();
    let stored = env.admin().ok("GET", &format!("/v1/keys/{id}"), None);
    assert_eq!(stored["secret_access_key"], json!(null), "{stored}");
}

/// A real server always sends the secret of a created key.
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
    let env = TestEnv::new("cli-key-durations");
    for (text, seconds) in [
        ("12h", 43_200),
        ("90m", 5_400),
        ("3600s", 3_600),
        ("1d12h", 129_600),
    ] {
        let k = cli(&env, &["--json", "key", "create", "k", "--expires", text])
            .expect(0)
            .json();
        let life = lifetime(&k);
        assert!((seconds - 2..=seconds + 2).contains(&life), "{text}: {k}");
    }
    let keys = || {
        env.admin()
            .ok("GET", "/v1/keys", None)
            .as_array()
            .unwrap()
            .len()
    };
    let before = keys();
    for bad in ["30", "30y", "0s", "soon"] {
        let run = cli(&env, &["key", "create", "k", "--expires", bad]).expect(2);
        assert!(run.stderr.contains("--expires"), "{bad}: {}", run.stderr);
    }
    assert_eq!(keys(), before, "a usage error creates nothing");
}

#[test]
fn list_shows_state_and_grants() {
    let env = TestEnv::new("cli-key-list");
    let admin = env.admin();
    admin.create_bucket("backups");
    let prod = admin.create_key("prod-db", &[("backups", "", "rwd")]);
    let dev = admin.create_key("dev", &[("backups", "dumps/", "r")]);
    admin.ok("POST", &format!("/v1/keys/{}/disable", dev.id), None);
    let short = cli(&env, &["--json", "key", "create", "old", "--expires", "1s"])
        .expect(0)
        .json();
    let old = short["access_key_id"].as_str().unwrap().to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let run = cli(&env, &["key", "list"]).expect(0);
    let mut lines = run.stdout.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("ACCESS KEY ID")
            && header.ends_with("STATE     GRANTS (r=read w=write d=delete o=owner)"),
        "{header}"
    );
    let row = |id: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_else(|| panic!("no row for {id}:\n{}", run.stdout))
            .to_owned()
    };
    let r = row(&prod.id);
    assert!(
        r.contains(" prod-db ") && r.ends_with("enabled   backups:rwd-"),
        "{r}"
    );
    let r = row(&dev.id);
    assert!(r.ends_with("disabled  backups/dumps/:r---"), "{r}");
    let r = row(&old);
    assert!(r.ends_with("expired   -"), "{r}");
    let r = row(coffer_conformance::ACCESS_KEY);
    assert!(r.ends_with("enabled   everything (admin)"), "{r}");
    assert_eq!(run.stdout.lines().count(), 5, "{}", run.stdout);
    assert!(!run.stdout.to_lowercase().contains("secret"));
    let answer = admin.ok("GET", "/v1/keys", None);
    let run = cli(&env, &["key", "list", "--json"]).expect(0);
    assert_eq!(run.json(), answer);
}

/// The exact table, with an expiry long past and a fixed creation time.
#[test]
fn list_table_is_aligned() {
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
    let run = coffer_at(&server.url, TOKEN, &["key", "list", "--json"]).expect(0);
    assert_eq!(run.json(), answer);
}

#[test]
fn info_enable_disable_delete() {
    let env = TestEnv::shared("cli-key-info");
    let k = env.admin().create_key("ci", &[]);
    let id = k.id.as_str();
    let stored = env.admin().ok("GET", &format!("/v1/keys/{id}"), None);
    let run = cli(&env, &["key", "info", id]).expect(0);
    assert!(
        run.stdout.starts_with(&format!(
            "access key id:  {id}\nname:           ci\ncreated:        {}\n",
            shown(&stored["created"])
        )),
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

    let run = cli(&env, &["key", "disable", id]).expect(0);
    assert_eq!(run.stdout, format!("disabled access key {id} (disabled)\n"));
    let run = cli(&env, &["key", "disable", id, "--json"]).expect(0);
    assert_eq!(run.json()["enabled"], json!(false));
    assert_eq!(
        run.json(),
        env.admin().ok("GET", &format!("/v1/keys/{id}"), None)
    );
    let run = cli(&env, &["key", "enable", id]).expect(0);
    assert_eq!(run.stdout, format!("enabled access key {id} (enabled)\n"));
    let run = cli(&env, &["key", "delete", id]).expect(0);
    assert_eq!(run.stdout, format!("deleted access key {id}\n"));
    cli(&env, &["key", "info", id]).expect(1);
}

/// `enable` sends no body: only the fake records what was sent.
#[test]
fn enable_sends_no_body() {
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json(
            "POST",
            "/v1/keys/AK1/enable",
            200,
            key("AK1", "ci"),
        )],
    );
    coffer_at(&server.url, TOKEN, &["key", "enable", "AK1"]).expect(0);
    assert_eq!(server.only("POST", "/v1/keys/AK1/enable").body, "");
}

#[test]
fn unknown_key_exits_1_with_one_line() {
    let env = TestEnv::shared("cli-key-unknown");
    let run = cli(&env, &["key", "disable", "NOPE"]).expect(1);
    assert_eq!(run.stderr, "coffer: no such access key: NOPE\n");
}
