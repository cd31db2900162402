//! Where `coffer` finds the server and the token: flags, then environment, then
//! `~/.config/coffer/cli.toml`; and the refusal of a token file others can read.
//!
//! Runs the real binary against a fake admin API; end-to-end tests against the real cofferd come
//! with the server side of the admin API.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::run::coffer;

fn buckets_route() -> Vec<Route> {
    vec![Route::json("GET", "/v1/buckets", 200, json!([]))]
}

fn write_private(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

fn write_config(home: &Path, text: &str) {
    let dir = home.join(".config/coffer");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("cli.toml"), text).unwrap();
}

#[test]
fn config_file_supplies_url_and_token_file() {
    let server = FakeAdmin::start("file-token", buckets_route());
    let home = tempfile::tempdir().unwrap();
    write_private(&home.path().join(".config-token"), "file-token\n");
    write_config(
        home.path(),
        &format!(
            "url = \"{}\"\ntoken_file = \"~/.config-token\"\n",
            server.url
        ),
    );
    coffer(home.path(), &[], &["bucket", "list"]).expect(0);
    assert_eq!(
        server.only("GET", "/v1/buckets").authorization.as_deref(),
        Some("Bearer file-token")
    );
}

#[test]
fn relative_token_file_is_taken_from_the_config_directory() {
    let server = FakeAdmin::start("rel", buckets_route());
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        &format!("url = \"{}\"\ntoken_file = \"admin.token\"\n", server.url),
    );
    write_private(&home.path().join(".config/coffer/admin.token"), "rel");
    coffer(home.path(), &[], &["bucket", "list"]).expect(0);
}

#[test]
fn environment_beats_config_file() {
    let from_env = FakeAdmin::start("env-token", buckets_route());
    let from_file = FakeAdmin::start("file-token", buckets_route());
    let home = tempfile::tempdir().unwrap();
    write_private(&home.path().join("tok"), "file-token");
    write_config(
        home.path(),
        &format!("url = \"{}\"\ntoken_file = \"~/tok\"\n", from_file.url),
    );
    coffer(
        home.path(),
        &[
            ("COFFER_ADMIN_URL", &from_env.url),
            ("COFFER_ADMIN_TOKEN", "env-token"),
        ],
        &["bucket", "list"],
    )
    .expect(0);
    assert_eq!(from_env.requests().len(), 1);
    assert!(from_file.requests().is_empty());
}

#[test]
fn flags_beat_environment() {
    let from_flag = FakeAdmin::start("flag-token", buckets_route());
    let from_env = FakeAdmin::start("env-token", buckets_route());
    let home = tempfile::tempdir().unwrap();
    let env = [
        ("COFFER_ADMIN_URL", from_env.url.as_str()),
        ("COFFER_ADMIN_TOKEN", "env-token"),
    ];
    coffer(
        home.path(),
        &env,
        &[
            "bucket",
            "list",
            "--url",
            &from_flag.url,
            "--token",
            "flag-token",
        ],
    )
    .expect(0);
    assert_eq!(from_flag.requests().len(), 1);
    assert!(from_env.requests().is_empty());

    // --token-file is a flag too, so it beats COFFER_ADMIN_TOKEN.
    write_private(&home.path().join("tok"), "flag-token");
    let tok = home.path().join("tok");
    coffer(
        home.path(),
        &env,
        &[
            "--url",
            &from_flag.url,
            "--token-file",
            tok.to_str().unwrap(),
            "bucket",
            "list",
        ],
    )
    .expect(0);
    assert_eq!(from_flag.requests().len(), 2);
}

#[test]
fn group_or_world_readable_token_file_is_refused() {
    let server = FakeAdmin::start("t", buckets_route());
    let home = tempfile::tempdir().unwrap();
    let tok = home.path().join("admin.token");
    fs::write(&tok, "t").unwrap();
    for mode in [0o644, 0o640] {
        fs::set_permissions(&tok, fs::Permissions::from_mode(mode)).unwrap();
        let run = coffer(
            home.path(),
            &[],
            &[
                "--url",
                &server.url,
                "--token-file",
                tok.to_str().unwrap(),
                "bucket",
                "list",
            ],
        )
        .expect(2);
        assert!(
            run.stderr.contains("refusing admin token file") && run.stderr.contains("chmod 600"),
            "{}",
            run.stderr
        );
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "one-line error: {}",
            run.stderr
        );
    }
    // Also when the file is named by the config file.
    write_config(
        home.path(),
        &format!(
            "url = \"{}\"\ntoken_file = \"{}\"\n",
            server.url,
            tok.display()
        ),
    );
    coffer(home.path(), &[], &["bucket", "list"]).expect(2);
    assert!(
        server.requests().is_empty(),
        "nothing may be sent with an exposed token"
    );

    fs::set_permissions(&tok, fs::Permissions::from_mode(0o600)).unwrap();
    coffer(home.path(), &[], &["bucket", "list"]).expect(0);
}

#[test]
fn missing_token_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let run = coffer(home.path(), &[], &["bucket", "list"]).expect(2);
    assert!(
        run.stderr.starts_with("coffer: no admin token"),
        "{}",
        run.stderr
    );
}

#[test]
fn token_and_token_file_together_are_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    coffer(
        home.path(),
        &[],
        &["--token", "a", "--token-file", "/x", "status"],
    )
    .expect(2);
}

#[test]
fn malformed_config_or_url_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    write_config(home.path(), "token = \"inline tokens are not read\"\n");
    let run = coffer(home.path(), &[], &["bucket", "list"]).expect(2);
    assert!(run.stderr.contains("cli.toml"), "{}", run.stderr);

    let run = coffer(
        home.path(),
        &[],
        &["--url", "127.0.0.1:9001", "--token", "t", "status"],
    )
    .expect(2);
    assert!(run.stderr.contains("http://"), "{}", run.stderr);
}
