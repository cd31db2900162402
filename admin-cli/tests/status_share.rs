//! `coffer status`, `coffer share` and `coffer completions` against a fake admin API.
//!
//! End-to-end tests against the real cofferd come with the server side of the admin API.

mod support;

use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
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
fn status_json_is_the_api_answer_plus_health() {
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
    let server = FakeAdmin::start("right", status_routes());
    let run = coffer_at(&server.url, "wrong", &["status"]).expect(4);
    assert!(
        run.stderr
            .starts_with("coffer: the admin token was refused"),
        "{}",
        run.stderr
    );
}

#[test]
fn share_prints_the_url_alone_on_stdout() {
    let url = "http://127.0.0.1:9000/dumps/latest/db.dump?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600";
    let server = FakeAdmin::start(
        TOKEN,
        vec![Route::json("POST", "/v1/share", 200, json!({"url": url}))],
    );
    let run = coffer_at(
        &server.url,
        TOKEN,
        &["share", "dumps/latest/db.dump", "--key", "AKDEV"],
    )
    .expect(0);
    assert_eq!(run.stdout, format!("{url}\n"));
    assert!(run.stderr.contains("for 1h"), "{}", run.stderr);
    assert_eq!(
        server.only("POST", "/v1/share").json(),
        json!({"bucket": "dumps", "key": "latest/db.dump", "access_key_id": "AKDEV",
               "expires_in_seconds": 3600})
    );
    let run = coffer_at(
        &server.url,
        TOKEN,
        &[
            "share",
            "dumps/x",
            "--key",
            "AKDEV",
            "--expires",
            "7d",
            "--json",
        ],
    )
    .expect(0);
    assert_eq!(run.json(), json!({"url": url}));
    assert_eq!(
        server.requests()[1].json()["expires_in_seconds"],
        json!(604_800)
    );
}

#[test]
fn share_usage_errors() {
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
