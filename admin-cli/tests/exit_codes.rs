//! The exit codes scripts rely on (0 ok, 1 server said no, 2 usage, 3 unreachable or 5xx,
//! 4 token refused) and the one-line errors that go with them.
//!
//! Runs the real binary against a fake admin API; end-to-end tests against the real cofferd come
//! with the server side of the admin API.

mod support;

use std::net::TcpListener;

use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
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
    let server = FakeAdmin::start(
        "right",
        vec![Route::json("GET", "/v1/keys", 200, json!([]))],
    );
    let run = coffer_at(&server.url, "wrong", &["key", "list"]).expect(4);
    assert_eq!(
        run.stderr,
        "coffer: the admin token was refused (HTTP 401: missing or wrong admin token)\n"
    );
    assert!(!run.stderr.contains("wrong\n") && !run.stderr.contains("right"));
    coffer_at(&server.url, "right", &["key", "list"]).expect(0);
}

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
    let server = FakeAdmin::start("t", vec![]);
    coffer_at(&server.url, "t", &["key", "info", "AKX"]).expect(1);
    coffer_at(&server.url, "t", &["bucket", "delete", "x"]).expect(1);
}

#[test]
fn bad_request_exits_1_with_the_server_message() {
    let server = FakeAdmin::start(
        "t",
        vec![Route::error(
            "POST",
            "/v1/buckets",
            400,
            "InvalidArgument",
            "bucket names are 3 to 63 characters",
        )],
    );
    let run = coffer_at(&server.url, "t", &["bucket", "create", "ab"]).expect(1);
    assert_eq!(run.stderr, "coffer: bucket names are 3 to 63 characters\n");
}

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
    let xml = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>";
    let server = FakeAdmin::start("t", vec![Route::raw("GET", "/v1/buckets", 403, xml)]);
    let run = coffer_at(&server.url, "t", &["bucket", "list"]).expect(3);
    assert!(
        run.stderr
            .contains("did not answer like a Coffer admin API"),
        "{}",
        run.stderr
    );
}

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
