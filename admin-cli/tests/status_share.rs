//! `coffer status`, `coffer share` and `coffer completions` against a real cofferd; the
//! exact status table (a day of uptime, gigabytes stored) against the fake admin API.

mod support;

use coffer_conformance::TestEnv;
use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::real::{cli, put, url};
use support::run::{coffer, coffer_at};

const TOKEN: &str = "tok";

fn status_routes() -> Vec<Route> {
    vec![
        Route::json(
            "GET",
            "/v1/health",
            200,
            json!({"status": "ok", "version": "0.1.0"}),
        ),
        Route::json(
            "GET",
            "/v1/status",
            200,
            json!({"version": "0.1.0", "uptime_seconds": 93_784, "buckets": 3, "objects": 12_345,
                   "versions": 20_000, "logical_bytes": 10_737_418_240u64, "stored_bytes": 3_221_225_472u64,
                   "dedup_ratio": 3.3333, "packs": 42, "chunks": 9_876}),
        ),
    ]
}

/// Values a test server does not reach (a day up, GiB stored): the fake's.
#[test]
fn status_table() {
    let server = FakeAdmin::start(TOKEN, status_routes());
    let run = coffer_at(&server.url, TOKEN, &["status"]).expect(0);
    assert_eq!(
        run.stdout,
        format!(
            "server:        {}\n\
             health:        ok (cofferd 0.1.0, up 1d 2h)\n\
             buckets:       3\n\
             objects:       12,345\n\
             versions:      20,000\n\
             logical size:  10.0 GiB (10,737,418,240 bytes)\n\
             stored size:   3.0 GiB (3,221,225,472 bytes)\n\
             dedup ratio:   3.33x\n\
             packs:         42\n\
             chunks:        9,876\n",
            server.url
        )
    );
    // Health is asked without the token; status with it.
    assert_eq!(server.only("GET", "/v1/health").authorization, None);
    assert_eq!(
        server.only("GET", "/v1/status").authorization.as_deref(),
        Some("Bearer tok")
    );
}

#[test]
fn status_against_a_real_server() {
    let env = TestEnv::new("cli-status");
    cli(&env, &["bucket", "create", "one"]).expect(0);
    put(&env, "one", "x", 1000);
    let run = cli(&env, &["status"]).expect(0);
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        run.stdout.starts_with(&format!(
            "server:        {}\nhealth:        ok (cofferd {version}, up ",
            url(&env)
        )),
        "{}",
        run.stdout
    );
    for line in [
        "buckets:       1\n",
        "objects:       1\n",
        "logical size:  1000 B (1,000 bytes)\n",
    ] {
        assert!(run.stdout.contains(line), "{line:?} in\n{}", run.stdout);
    }
}

#[test]
fn status_json_is_the_api_answer_plus_health() {
    let env = TestEnv::new("cli-status-json");
    cli(&env, &["bucket", "create", "one"]).expect(0);
    let run = cli(&env, &["status", "--json"]).expect(0);
    let v = run.json();
    assert_eq!(v["health"], json!("ok"));
    assert_eq!(v["buckets"], json!(1));
    let answer = env.admin().ok("GET", "/v1/status", None);
    let mut without_health = v.as_object().unwrap().clone();
    without_health.remove("health");
    // Every field the API sent, and health beside them.
    for (k, want) in answer.as_object().unwrap() {
        if k != "uptime_seconds" {
            assert_eq!(without_health.get(k), Some(want), "{k}: {v} vs {answer}");
        }
    }
    assert_eq!(
        without_health.len(),
        answer.as_object().unwrap().len(),
        "{v}"
    );
}

/// Health is asked without the token; the fake shows which request carried it.
#[test]
fn status_json_of_the_fake_has_every_field() {
    let server = FakeAdmin::start(TOKEN, status_routes());
    let run = coffer_at(&server.url, TOKEN, &["status", "--json"]).expect(0);
    let v = run.json();
    assert_eq!(v["health"], json!("ok"));
    assert_eq!(v["dedup_ratio"], json!(3.3333));
    assert_eq!(v["logical_bytes"], json!(10_737_418_240u64));
    assert_eq!(v.as_object().unwrap().len(), 11);
}

#[test]
fn status_with_a_wrong_token_exits_4_after_health_answered() {
    let env = TestEnv::shared("cli-status-token");
    let run = coffer_at(&url(&env), "wrong", &["status"]).expect(4);
    assert!(
        run.stderr
            .starts_with("coffer: the admin token was refused"),
        "{}",
        run.stderr
    );
}

#[test]
fn share_prints_the_url_alone_on_stdout() {
    let env = TestEnv::shared("cli-share");
    let admin = env.admin();
    admin.create_bucket("cli-share");
    put(&env, "cli-share", "latest/db.dump", 321);
    let dev = admin.create_key("cli-share-dev", &[("cli-share", "", "r")]);
    let run = cli(
        &env,
        &["share", "cli-share/latest/db.dump", "--key", &dev.id],
    )
    .expect(0);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.stdout);
    let url = run.stdout.trim_end().to_owned();
    assert_eq!(run.stdout, format!("{url}\n"));
    assert!(
        url.starts_with(&format!("{}/cli-share/latest/db.dump?", env.endpoint())),
        "{url}"
    );
    assert!(url.contains("X-Amz-Expires=3600"), "{url}");
    assert!(run.stderr.contains("for 1h"), "{}", run.stderr);
    // The URL works, for anyone, with no credentials.
    let mut curl = std::process::Command::new("curl");
    curl.args(["-sSf", "-o", "/dev/null", "-w", "%{size_download}", &url]);
    let got = coffer_conformance::run_cmd(curl, std::time::Duration::from_secs(60));
    got.assert_ok();
    assert_eq!(got.stdout, "321");

    let run = cli(
        &env,
        &[
            "share",
            "cli-share/latest/db.dump",
            "--key",
            &dev.id,
            "--expires",
            "7d",
            "--json",
        ],
    )
    .expect(0);
    let url = run.json()["url"].as_str().expect("a url").to_owned();
    assert_eq!(run.json(), json!({ "url": url }));
    assert!(url.contains("X-Amz-Expires=604800"), "{url}");
}

#[test]
fn share_usage_errors() {
    // Refused before anything is sent: the fake shows nothing arrived.
    let server = FakeAdmin::start(TOKEN, vec![]);
    let run = coffer_at(
        &server.url,
        TOKEN,
        &["share", "dumps/x", "--key", "AK", "--expires", "8d"],
    )
    .expect(2);
    assert!(run.stderr.contains("7d"), "{}", run.stderr);
    coffer_at(&server.url, TOKEN, &["share", "dumps", "--key", "AK"]).expect(2);
    coffer_at(&server.url, TOKEN, &["share", "dumps/x"]).expect(2);
    assert!(server.requests().is_empty());
}

#[test]
fn completions_need_no_server_or_token() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let run = coffer(home.path(), &[], &["completions", shell]).expect(0);
        assert!(run.stdout.contains("coffer"), "{shell}");
        assert!(run.stdout.contains("revoke"), "{shell}");
    }
    coffer(home.path(), &[], &["completions", "cmd.exe"]).expect(2);
}
