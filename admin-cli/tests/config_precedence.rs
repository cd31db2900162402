//! Where `coffer` finds the server and the token: flags, then environment, then
//! `~/.config/coffer/cli.toml`; and the refusal of a token file others can read.
//!
//! Runs the real binary against real cofferds (two, where the test must tell which one
//! was asked: the request lands as a bucket on one of them). That nothing at all is sent
//! with an exposed token is only visible to the fake admin API.

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use coffer_conformance::TestEnv;
use serde_json::json;
use support::fake_admin::{FakeAdmin, Route};
use support::real::{token, url};
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

/// Whether `env`'s server holds `bucket`.
fn has_bucket(env: &TestEnv, bucket: &str) -> bool {
    env.admin()
        .call("GET", &format!("/v1/buckets/{bucket}"), None)
        .is_ok()
}

#[test]
fn config_file_supplies_url_and_token_file() {
    let env = TestEnv::shared("cli-config-file");
    let home = tempfile::tempdir().unwrap();
    write_private(
        &home.path().join(".config-token"),
        &format!("{}\n", token(&env)),
    );
    write_config(
        home.path(),
        &format!(
            "url = \"{}\"\ntoken_file = \"~/.config-token\"\n",
            url(&env)
        ),
    );
    coffer(home.path(), &[], &["bucket", "create", "cli-from-file"]).expect(0);
    assert!(has_bucket(&env, "cli-from-file"));
    // A wrong token in the file is the server's refusal, so the file was what was read.
    write_private(&home.path().join(".config-token"), "not-the-token\n");
    coffer(home.path(), &[], &["bucket", "list"]).expect(4);
}

#[test]
fn relative_token_file_is_taken_from_the_config_directory() {
    let env = TestEnv::shared("cli-config-relative");
    let home = tempfile::tempdir().unwrap();
    write_config(
        home.path(),
        &format!("url = \"{}\"\ntoken_file = \"admin.token\"\n", url(&env)),
    );
    write_private(
        &home.path().join(".config/coffer/admin.token"),
        &token(&env),
    );
    coffer(home.path(), &[], &["bucket", "list"]).expect(0);
}

#[test]
fn environment_beats_config_file() {
    let from_env = TestEnv::shared("cli-config-env");
    let from_file = TestEnv::new("cli-config-env-file");
    let home = tempfile::tempdir().unwrap();
    write_private(&home.path().join("tok"), &token(&from_file));
    write_config(
        home.path(),
        &format!("url = \"{}\"\ntoken_file = \"~/tok\"\n", url(&from_file)),
    );
    coffer(
        home.path(),
        &[
            ("COFFER_ADMIN_URL", &url(&from_env)),
            ("COFFER_ADMIN_TOKEN", &token(&from_env)),
        ],
        &["bucket", "create", "cli-env-wins"],
    )
    .expect(0);
    assert!(has_bucket(&from_env, "cli-env-wins"));
    assert!(!has_bucket(&from_file, "cli-env-wins"));
}

#[test]
fn flags_beat_environment() {
    let from_flag = TestEnv::shared("cli-config-flag");
    let from_env = TestEnv::new("cli-config-flag-env");
    let home = tempfile::tempdir().unwrap();
    let (env_url, env_token) = (url(&from_env), token(&from_env));
    let env = [
        ("COFFER_ADMIN_URL", env_url.as_str()),
        ("COFFER_ADMIN_TOKEN", env_token.as_str()),
    ];
    coffer(
        home.path(),
        &env,
        &[
            "bucket",
            "create",
            "cli-flag-wins",
            "--url",
            &url(&from_flag),
            "--token",
            &token(&from_flag),
        ],
    )
    .expect(0);
    assert!(has_bucket(&from_flag, "cli-flag-wins"));
    assert!(!has_bucket(&from_env, "cli-flag-wins"));

    // --token-file is a flag too, so it beats COFFER_ADMIN_TOKEN.
    write_private(&home.path().join("tok"), &token(&from_flag));
    let tok = home.path().join("tok");
    coffer(
        home.path(),
        &env,
        &[
            "--url",
            &url(&from_flag),
            "--token-file",
            tok.to_str().unwrap(),
            "bucket",
            "create",
            "cli-flag-file-wins",
        ],
    )
    .expect(0);
    assert!(has_bucket(&from_flag, "cli-flag-file-wins"));
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
