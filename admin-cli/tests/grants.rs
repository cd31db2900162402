//! `coffer grant` and `coffer revoke` against a real cofferd: the `BUCKET[/PREFIX]`
//! argument, the permission flags, and what the server then holds for the key; a
//! NoSuchBucket refusal, which cofferd does not give for grants, from the fake.

mod support;

use coffer_conformance::TestEnv;
use serde_json::{Value, json};
use support::fake_admin::{FakeAdmin, Route};
use support::real::{cli, shown};
use support::run::coffer_at;

const TOKEN: &str = "tok";

/// A bucket and a key without grants on the shared server, named after the test.
fn setup(env: &TestEnv, bucket: &str) -> String {
    let admin = env.admin();
    admin.create_bucket(bucket);
    admin.create_key(&format!("{bucket}-key"), &[]).id
}

/// The key's grants as the server holds them, without the key id in each.
fn grants(env: &TestEnv, id: &str) -> Vec<Value> {
    let k = env.admin().ok("GET", &format!("/v1/keys/{id}"), None);
    k["grants"]
        .as_array()
        .expect("grants")
        .iter()
        .map(|g| {
            json!({"bucket": g["bucket"], "prefix": g["prefix"].as_str().unwrap_or(""),
                   "read": g["read"], "write": g["write"], "delete": g["delete"], "owner": g["owner"]})
        })
        .collect()
}

#[test]
fn grant_on_a_prefix_sends_bucket_prefix_and_flags() {
    let env = TestEnv::shared("cli-grant-prefix");
    let id = setup(&env, "cli-dumps");
    let run = cli(&env, &["grant", &id, "cli-dumps/latest/", "--read"]).expect(0);
    assert!(
        run.stdout
            .starts_with(&format!("granted read on cli-dumps/latest/ to {id}\n")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("cli-dumps  latest/  read\n"),
        "{}",
        run.stdout
    );
    let k = env.admin().ok("GET", &format!("/v1/keys/{id}"), None);
    assert!(
        run.stdout
            .contains(&format!("created:        {}\n", shown(&k["created"]))),
        "{}",
        run.stdout
    );
    assert_eq!(
        grants(&env, &id),
        vec![
            json!({"bucket": "cli-dumps", "prefix": "latest/", "read": true, "write": false,
                    "delete": false, "owner": false})
        ]
    );
}

#[test]
fn grant_on_a_whole_bucket_or_every_bucket_omits_the_prefix() {
    let env = TestEnv::shared("cli-grant-whole");
    let id = setup(&env, "cli-whole");
    cli(
        &env,
        &[
            "grant",
            &id,
            "cli-whole",
            "--write",
            "--read",
            "--delete",
            "--owner",
        ],
    )
    .expect(0);
    cli(&env, &["grant", &id, "*", "--read", "--json"]).expect(0);
    let mut held = grants(&env, &id);
    held.sort_by_key(|g| g["bucket"].as_str().unwrap_or("").to_owned());
    assert_eq!(
        held,
        vec![
            json!({"bucket": "*", "prefix": "", "read": true, "write": false, "delete": false, "owner": false}),
            json!({"bucket": "cli-whole", "prefix": "", "read": true, "write": true, "delete": true, "owner": true}),
        ]
    );
}

#[test]
fn grant_json_is_the_key() {
    let env = TestEnv::shared("cli-grant-json");
    let id = setup(&env, "cli-gjson");
    let run = cli(
        &env,
        &["--json", "grant", &id, "cli-gjson/latest/", "--read"],
    )
    .expect(0);
    assert_eq!(run.json()["grants"][0]["prefix"], json!("latest/"));
    assert_eq!(
        run.json(),
        env.admin().ok("GET", &format!("/v1/keys/{id}"), None)
    );
}

#[test]
fn grant_needs_a_permission_and_a_bucket() {
    let env = TestEnv::shared("cli-grant-usage");
    let id = setup(&env, "cli-gusage");
    let run = cli(&env, &["grant", &id, "cli-gusage"]).expect(2);
    assert!(run.stderr.contains("--read"), "{}", run.stderr);
    cli(&env, &["grant", &id, "/db", "--read"]).expect(2);
    cli(&env, &["grant", &id, "--read"]).expect(2);
    assert!(grants(&env, &id).is_empty(), "a usage error grants nothing");
}

/// cofferd takes grants on buckets that do not exist yet (a key can be set up
/// before its bucket); a server that refuses one with NoSuchBucket gets the
/// bucket named. Only the fake answers so.
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
fn grant_on_a_bucket_to_come_is_held() {
    let env = TestEnv::shared("cli-grant-to-come");
    let id = env.admin().create_key("cli-grant-to-come", &[]).id;
    cli(&env, &["grant", &id, "cli-later/x/", "--read"]).expect(0);
    assert_eq!(grants(&env, &id).len(), 1);
}

#[test]
fn revoke_sends_a_delete_with_the_scope() {
    let env = TestEnv::shared("cli-revoke");
    let id = setup(&env, "cli-revoke");
    cli(&env, &["grant", &id, "cli-revoke/latest/", "--read"]).expect(0);
    cli(&env, &["grant", &id, "cli-revoke", "--read"]).expect(0);
    assert_eq!(grants(&env, &id).len(), 2);
    let run = cli(&env, &["revoke", &id, "cli-revoke/latest/"]).expect(0);
    assert!(
        run.stdout.starts_with(&format!(
            "revoked the grant on cli-revoke/latest/ from {id}\n"
        )),
        "{}",
        run.stdout
    );
    // Only the prefix's grant went.
    assert_eq!(
        grants(&env, &id),
        vec![
            json!({"bucket": "cli-revoke", "prefix": "", "read": true, "write": false,
                    "delete": false, "owner": false})
        ]
    );
    let run = cli(&env, &["revoke", &id, "cli-revoke"]).expect(0);
    assert!(
        run.stdout.contains("no grants: the key can do nothing"),
        "{}",
        run.stdout
    );
    cli(&env, &["grant", &id, "cli-revoke", "--read"]).expect(0);
    let run = cli(&env, &["revoke", &id, "cli-revoke", "--json"]).expect(0);
    assert_eq!(run.json()["grants"], json!([]));
    assert!(grants(&env, &id).is_empty());
}
