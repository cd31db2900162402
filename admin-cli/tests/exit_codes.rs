//! The exit codes scripts rely on (0 ok, 1 server said no, 2 usage, 3 unreachable or 5xx,
//! 4 token refused) and the one-line errors that go with them.
//!
//! Runs the real binary against a real cofferd; the answers a real server never gives (a 5xx,
//! a 403 in the contract's JSON, a body that breaks the contract) come from the fake admin API.

mod support;

use std::net::TcpListener;

use coffer_conformance::TestEnv;
use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::real::{cli, token, url};
use support::run::{coffer, coffer_at};

#[test]
fn unreachable_server_exits_3() {
    // A port that was just free: nothing listens there now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = coffer_at(&url, "t", &["bucket", "list"]).expect(3);
    assert_eq!(
        run.stderr,
        format!("coffer: cannot reach the Coffer admin API at {url}: connection refused\n")
    );
    coffer_at(&url, "t", &["status"]).expect(3);
}

#[test]
fn refused_token_exits_4() {
    let env = TestEnv::shared("cli-refused-token");
    let right = token(&env);
    let run = coffer_at(&url(&env), "wrong", &["key", "list"]).expect(4);
    assert_eq!(
        run.stderr,
        "coffer: the admin token was refused (HTTP 401: a valid admin token is required \
         (Authorization: Bearer <token>))\n"
    );
    assert!(!run.stderr.contains("wrong\n") && !run.stderr.contains(&right));
    coffer_at(&url(&env), &right, &["key", "list"]).expect(0);
}

/// A real server answers a bad token with 401; a 403 in the contract's JSON
/// (a token without admin rights) is for servers to come.
#[test]
fn forbidden_in_the_contract_json_exits_4() {
    let server = FakeAdmin::start(
        "t",
        vec![Route::error(
            "GET",
            "/v1/keys",
            403,
            "Forbidden",
            "token lacks admin rights",
        )],
    );
    let run = coffer_at(&server.url, "t", &["key", "list"]).expect(4);
    assert_eq!(
        run.stderr,
        "coffer: the admin token was refused (HTTP 403: token lacks admin rights)\n"
    );
}

#[test]
fn unresolvable_host_exits_3() {
    let run = coffer_at("http://no-such-host.invalid:9001", "t", &["bucket", "list"]).expect(3);
    assert_eq!(
        run.stderr,
        "coffer: cannot reach the Coffer admin API at http://no-such-host.invalid:9001: \
         cannot resolve the host name\n"
    );
}

#[test]
fn not_found_exits_1() {
    let env = TestEnv::shared("cli-not-found");
    cli(&env, &["key", "info", "AKX"]).expect(1);
    cli(&env, &["bucket", "delete", "cli-never-created"]).expect(1);
}

#[test]
fn bad_request_exits_1_with_the_server_message() {
    let env = TestEnv::shared("cli-bad-request");
    let refused = env
        .admin()
        .refused("POST", "/v1/buckets", Some(&json!({"name": "ab"})));
    let message = match &refused {
        coffer_conformance::admin::ApiError::Refused {
            status, message, ..
        } => {
            assert_eq!(*status, 400, "{refused:?}");
            message.clone()
        }
        other => panic!("a refusal: {other:?}"),
    };
    assert!(!message.is_empty());
    let run = cli(&env, &["bucket", "create", "ab"]).expect(1);
    assert_eq!(run.stderr, format!("coffer: {message}\n"));
}

/// A real server does not fail on demand: the 500 comes from the fake.
#[test]
fn server_errors_exit_3() {
    let server = FakeAdmin::start(
        "t",
        vec![Route::error(
            "GET",
            "/v1/buckets",
            500,
            "Internal",
            "metadata store unavailable",
        )],
    );
    let run = coffer_at(&server.url, "t", &["bucket", "list"]).expect(3);
    assert_eq!(
        run.stderr,
        "coffer: the Coffer admin API failed (HTTP 500 Internal): metadata store unavailable\n"
    );
}

#[test]
fn an_s3_listener_is_not_mistaken_for_the_admin_api() {
    // The real S3 listener answers /v1/buckets with its XML error.
    let env = TestEnv::shared("cli-s3-listener");
    let run = coffer_at(&env.endpoint(), &token(&env), &["bucket", "list"]).expect(3);
    assert!(
        run.stderr
            .contains("did not answer like a Coffer admin API"),
        "{}",
        run.stderr
    );
}

/// Bodies that break the contract: only a fake sends them.
#[test]
fn answers_that_break_the_contract_exit_3() {
    let server = FakeAdmin::start(
        "t",
        vec![
            Route::raw("GET", "/v1/buckets", 200, "not json"),
            Route::json("GET", "/v1/keys", 200, json!({"not": "a list"})),
        ],
    );
    let run = coffer_at(&server.url, "t", &["bucket", "list"]).expect(3);
    assert!(
        run.stderr.starts_with("coffer: unexpected answer"),
        "{}",
        run.stderr
    );
    coffer_at(&server.url, "t", &["key", "list"]).expect(3);
}

#[test]
fn usage_errors_exit_2() {
    let home = tempfile::tempdir().unwrap();
    coffer(home.path(), &[], &[]).expect(2);
    coffer(home.path(), &[], &["frobnicate"]).expect(2);
    coffer(home.path(), &[], &["bucket"]).expect(2);
    coffer(home.path(), &[], &["bucket", "create"]).expect(2);
    coffer(home.path(), &[], &["key", "create", "x", "--expires"]).expect(2);
    coffer(home.path(), &[], &["revoke", "AK"]).expect(2);
    coffer(home.path(), &[], &["status", "--bogus"]).expect(2);
    let run = coffer(home.path(), &[], &["--help"]).expect(0);
    assert!(run.stdout.contains("Exit codes"), "{}", run.stdout);
    coffer(home.path(), &[], &["--version"]).expect(0);
}
