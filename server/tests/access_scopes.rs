//! Grants and keys seen by real clients: a key for bucket A against bucket B,
//! a prefix-scoped key (CopyObject source, DeleteObjects, listings), expired
//! and disabled keys, the admin API's token and listener, secrets in debug
//! logs, and the `coffer` CLI end to end.

#[path = "access/support.rs"]
mod support;

use std::process::Command;
use std::time::Duration;

use coffer_conformance::admin::ApiError;
use coffer_conformance::{Admin, CmdOutput, CofferServer, Stop, TestEnv, coffer_cmd, run_cmd};
use serde_json::{Value, json};
use support::{Key, aws, root_key};

/// Refused with AccessDenied (a HEAD answer has no body: its 403 is all a client sees).
fn denied(out: &CmdOutput) {
    out.assert_failed();
    let head_403 = out
        .stderr
        .contains("(403) when calling the HeadObject operation");
    assert!(
        out.stderr.contains("AccessDenied") || head_403,
        "expected AccessDenied: {}",
        out.stderr
    );
}

#[test]
fn bucket_grant_does_not_reach_another_bucket() {
    let env = TestEnv::new("access-buckets");
    let admin = env.admin();
    admin.create_bucket("team-a");
    admin.create_bucket("team-b");
    let root = root_key();
    let f = env.work("f.txt");
    std::fs::write(&f, b"payload\n").unwrap();
    let f = f.to_str().unwrap();
    aws(&env, &root, &["s3", "cp", f, "s3://team-b/x.txt"]).assert_ok();
    let key = admin.create_key("prod-a", &[("team-a", "", "rwd")]);

    aws(&env, &key, &["s3", "cp", f, "s3://team-a/x.txt"]).assert_ok();
    aws(&env, &key, &["s3", "ls", "s3://team-a/"]).assert_stdout_contains("x.txt");
    denied(&aws(&env, &key, &["s3", "ls", "s3://team-b/"]));
    denied(&aws(&env, &key, &["s3", "cp", "s3://team-b/x.txt", "-"]));
    denied(&aws(&env, &key, &["s3", "cp", f, "s3://team-b/y.txt"]));
    denied(&aws(&env, &key, &["s3", "rm", "s3://team-b/x.txt"]));
    // Not in ListBuckets either; the root key sees both.
    let ls = aws(&env, &key, &["s3api", "list-buckets"]);
    ls.assert_ok();
    let names: Vec<String> = ls.json()["Buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["team-a"]);
    let all = aws(&env, &root, &["s3api", "list-buckets"]);
    assert_eq!(all.json()["Buckets"].as_array().unwrap().len(), 2);
    // Without owner, the key cannot create or delete buckets.
    denied(&aws(
        &env,
        &key,
        &["s3api", "create-bucket", "--bucket", "team-c"],
    ));
    denied(&aws(
        &env,
        &key,
        &["s3api", "delete-bucket", "--bucket", "team-a"],
    ));
}

#[test]
fn prefix_grant_confines_reads_writes_copies_deletes_and_listings() {
    let env = TestEnv::new("access-prefix");
    let admin = env.admin();
    admin.create_bucket("shared");
    let root = root_key();
    let f = env.work("f.txt");
    std::fs::write(&f, b"payload\n").unwrap();
    let f = f.to_str().unwrap();
    for k in ["dev/a.txt", "prod/secret.txt"] {
        aws(&env, &root, &["s3", "cp", f, &format!("s3://shared/{k}")]).assert_ok();
    }
    let key = admin.create_key("dev", &[("shared", "dev/", "rwd")]);
    let api = |args: &[&str]| {
        let mut a = vec!["s3api"];
        a.extend_from_slice(args);
        aws(&env, &key, &a)
    };
    api(&[
        "get-object",
        "--bucket",
        "shared",
        "--key",
        "dev/a.txt",
        "/dev/null",
    ])
    .assert_ok();
    denied(&api(&[
        "get-object",
        "--bucket",
        "shared",
        "--key",
        "prod/secret.txt",
        "/dev/null",
    ]));
    denied(&api(&[
        "head-object",
        "--bucket",
        "shared",
        "--key",
        "prod/secret.txt",
    ]));
    api(&[
        "put-object",
        "--bucket",
        "shared",
        "--key",
        "dev/new.txt",
        "--body",
        f,
    ])
    .assert_ok();
    denied(&api(&[
        "put-object",
        "--bucket",
        "shared",
        "--key",
        "prod/new.txt",
        "--body",
        f,
    ]));
    // CopyObject: the source must be readable too, the target writable.
    denied(&api(&[
        "copy-object",
        "--bucket",
        "shared",
        "--key",
        "dev/stolen.txt",
        "--copy-source",
        "shared/prod/secret.txt",
    ]));
    denied(&api(&[
        "copy-object",
        "--bucket",
        "shared",
        "--key",
        "prod/planted.txt",
        "--copy-source",
        "shared/dev/a.txt",
    ]));
    api(&[
        "copy-object",
        "--bucket",
        "shared",
        "--key",
        "dev/copy.txt",
        "--copy-source",
        "shared/dev/a.txt",
    ])
    .assert_ok();
    // DeleteObjects: one key outside the prefix refuses the whole request.
    denied(&api(&[
        "delete-objects",
        "--bucket",
        "shared",
        "--delete",
        r#"{"Objects":[{"Key":"dev/copy.txt"},{"Key":"prod/secret.txt"}]}"#,
    ]));
    aws(
        &env,
        &root,
        &[
            "s3api",
            "head-object",
            "--bucket",
            "shared",
            "--key",
            "prod/secret.txt",
        ],
    )
    .assert_ok();
    aws(
        &env,
        &root,
        &[
            "s3api",
            "head-object",
            "--bucket",
            "shared",
            "--key",
            "dev/copy.txt",
        ],
    )
    .assert_ok();
    api(&[
        "delete-objects",
        "--bucket",
        "shared",
        "--delete",
        r#"{"Objects":[{"Key":"dev/copy.txt"}]}"#,
    ])
    .assert_ok();
    denied(&api(&[
        "delete-object",
        "--bucket",
        "shared",
        "--key",
        "prod/secret.txt",
    ]));
    // Listings: inside the prefix only.
    let l = api(&["list-objects-v2", "--bucket", "shared", "--prefix", "dev/"]);
    l.assert_ok();
    assert!(
        l.stdout.contains("dev/a.txt") && !l.stdout.contains("prod/"),
        "{}",
        l.stdout
    );
    denied(&api(&["list-objects-v2", "--bucket", "shared"]));
    denied(&api(&[
        "list-objects-v2",
        "--bucket",
        "shared",
        "--prefix",
        "prod/",
    ]));
    denied(&api(&[
        "list-objects",
        "--bucket",
        "shared",
        "--prefix",
        "d",
    ]));
    denied(&api(&["list-object-versions", "--bucket", "shared"]));
    api(&["head-bucket", "--bucket", "shared"]).assert_ok();
}

#[test]
fn expired_and_disabled_keys_are_refused_and_re_enabled_works() {
    let env = TestEnv::new("access-expiry");
    let admin = env.admin();
    admin.create_bucket("bkt");
    let v = admin.ok(
        "POST",
        "/v1/keys",
        Some(&json!({"name": "short", "expires_in_seconds": 3})),
    );
    let short = Key {
        id: v["access_key_id"].as_str().unwrap().to_owned(),
        secret: v["secret_access_key"].as_str().unwrap().to_owned(),
    };
    assert!(v["expires"].is_string(), "{v}");
    admin.grant(&short.id, "bkt", "", "r");
    aws(&env, &short, &["s3", "ls", "s3://bkt/"]).assert_ok();
    std::thread::sleep(Duration::from_secs(4));
    let out = aws(&env, &short, &["s3", "ls", "s3://bkt/"]);
    out.assert_failed();
    assert!(out.stderr.contains("InvalidAccessKeyId"), "{}", out.stderr);
    assert!(out.stderr.contains("expired"), "{}", out.stderr);

    let key = admin.create_key("toggle", &[("bkt", "", "r")]);
    aws(&env, &key, &["s3", "ls", "s3://bkt/"]).assert_ok();
    let k = admin.ok("POST", &format!("/v1/keys/{}/disable", key.id), None);
    assert_eq!(k["enabled"], false);
    let out = aws(&env, &key, &["s3", "ls", "s3://bkt/"]);
    out.assert_failed();
    assert!(out.stderr.contains("InvalidAccessKeyId"), "{}", out.stderr);
    admin.ok("POST", &format!("/v1/keys/{}/enable", key.id), None);
    aws(&env, &key, &["s3", "ls", "s3://bkt/"]).assert_ok();
    // Keys are served from a cache: a revoked grant must end access on the
    // very next request, and a new one start it.
    admin.ok(
        "DELETE",
        &format!("/v1/keys/{}/grants", key.id),
        Some(&json!({"bucket": "bkt", "prefix": ""})),
    );
    denied(&aws(&env, &key, &["s3", "ls", "s3://bkt/"]));
    admin.grant(&key.id, "bkt", "", "r");
    aws(&env, &key, &["s3", "ls", "s3://bkt/"]).assert_ok();
    // Deleted: unknown.
    let deleted = admin.call("DELETE", &format!("/v1/keys/{}", key.id), None);
    assert!(
        matches!(deleted, Ok(None)),
        "a 204 without a body: {deleted:?}"
    );
    let out = aws(&env, &key, &["s3", "ls", "s3://bkt/"]);
    assert!(out.stderr.contains("InvalidAccessKeyId"), "{}", out.stderr);
}

#[test]
fn admin_api_needs_the_token_and_is_not_on_the_s3_port() {
    let env = TestEnv::new("access-admin-auth");
    let admin = env.admin();
    let health = admin.with_token(None).ok("GET", "/v1/health", None);
    assert_eq!(health["status"].as_str(), Some("ok"), "{health}");
    let token = admin.token.clone().expect("the server's token");
    let almost = format!("{token}x");
    for (method, path) in [
        ("GET", "/v1/status"),
        ("GET", "/v1/keys"),
        ("POST", "/v1/keys"),
        ("GET", "/v1/buckets"),
        ("POST", "/v1/share"),
    ] {
        let body = (method == "POST").then(|| json!({"name": "x"}));
        for presented in [None, Some("wrong"), Some(almost.as_str())] {
            let e = admin
                .with_token(presented)
                .refused(method, path, body.as_ref());
            assert!(
                matches!(e, ApiError::TokenRefused { status: 401, .. }),
                "{method} {path} with token {presented:?}: {e:?}"
            );
            assert_eq!(e.code(), Some("Unauthorized"), "{method} {path}: {e:?}");
        }
    }
    // Nothing was created by the refused requests.
    let keys = admin.ok("GET", "/v1/keys", None);
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    // Errors are JSON with a code.
    let e = admin.refused("GET", "/v1/buckets/nope", None);
    assert_eq!(
        (e.status(), e.code()),
        (Some(404), Some("NoSuchBucket")),
        "{e:?}"
    );
    let e = admin.refused("POST", "/v1/keys", Some(&json!({"bogus": 1})));
    assert_eq!(e.status(), Some(400), "{e:?}");
    assert!(matches!(e, ApiError::Refused { .. }), "{e:?}");
    // The S3 listener answers admin paths as S3 requests (XML errors), token or not:
    // the CLI's client sees something that is not the admin API.
    let s3 = Admin::new(&env.endpoint(), Some(&token));
    for path in ["/v1/health", "/v1/keys", "/v1/status"] {
        let e = s3.refused("GET", path, None);
        assert!(
            matches!(e, ApiError::NotAdminApi { status, .. } if status >= 400),
            "{path} on the S3 port: {e:?}"
        );
    }
}

/// Starts cofferd with debug logging, uses every path that handles a secret,
/// and greps the captured log for the secrets.
#[test]
fn debug_logs_hold_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let token = "admin-token-must-not-be-logged-7c1f";
    let root_secret = "rootSecretMustNotBeLogged0000000000000042";
    let mut server = CofferServer::builder(dir.path().join("data"), dir.path().join("logs"))
        .admin_token(token)
        .env("COFFER_ROOT_ACCESS_KEY", "AKROOTLOGTEST0000001")
        .env("COFFER_ROOT_SECRET_KEY", root_secret)
        .log("trace")
        .start();
    let log_path = server.stderr_path();
    let s3_url = server.endpoint().to_owned();
    let admin = server.admin();
    assert_eq!(admin.token.as_deref(), Some(token));
    admin.create_bucket("logs");
    let key = admin.create_key("k", &[("logs", "", "rw")]);
    let body = dir.path().join("f.txt");
    std::fs::write(&body, b"x").unwrap();
    for (k, s) in [
        (&key.id, &key.secret),
        (&"AKROOTLOGTEST0000001".to_owned(), &root_secret.to_owned()),
    ] {
        let mut c = Command::new(coffer_conformance::paths::aws_v1());
        c.env_clear()
            .env("PATH", coffer_conformance::paths::CLIENT_PATH)
            .env("HOME", dir.path())
            .env("AWS_ACCESS_KEY_ID", k)
            .env("AWS_SECRET_ACCESS_KEY", s)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .args(["--endpoint-url", &s3_url, "s3", "cp"])
            .arg(&body)
            .arg("s3://logs/f.txt");
        run_cmd(c, support::TIMEOUT).assert_ok();
    }
    let share = admin.ok(
        "POST",
        "/v1/share",
        Some(&json!({"bucket": "logs", "key": "f.txt", "access_key_id": key.id, "expires_in_seconds": 60})),
    );
    let url = share["url"].as_str().unwrap();
    let mut c = Command::new("curl");
    c.args(["-sSf", url]);
    let got = run_cmd(c, support::TIMEOUT);
    got.assert_ok();
    assert_eq!(got.stdout, "x");
    // A wrong token and a wrong secret go through the refusal paths too.
    let _ = admin
        .with_token(Some("not-the-token"))
        .call("GET", "/v1/keys", None);
    let status = server.stop(Stop::Term(Duration::from_secs(20)));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.lines().count() > 10,
        "debug logging produced too little:\n{log}"
    );
    for secret in [token, root_secret, key.secret.as_str()] {
        assert!(!log.contains(secret), "a secret appears in the log");
    }
}

#[test]
fn coffer_cli_end_to_end() {
    let env = TestEnv::new("access-cli");
    let admin = env.admin();
    let token = admin.token.clone().expect("the server's token");
    let run = |args: &[&str]| {
        let mut c = coffer_cmd(&env.home());
        c.env("COFFER_ADMIN_URL", &admin.url)
            .env("COFFER_ADMIN_TOKEN", &token)
            .args(args);
        run_cmd(c, support::TIMEOUT)
    };
    run(&["bucket", "create", "cli-bucket"]).assert_ok();
    let created = run(&["--json", "key", "create", "ci-reader", "--expires", "30d"]);
    created.assert_ok();
    let k: Value = serde_json::from_str(created.stdout.trim()).expect("--json parses");
    let key = Key {
        id: k["access_key_id"].as_str().unwrap().to_owned(),
        secret: k["secret_access_key"].as_str().unwrap().to_owned(),
    };
    run(&["grant", &key.id, "cli-bucket", "--read", "--write"]).assert_ok();
    let f = env.work("f.txt");
    std::fs::write(&f, b"via cli\n").unwrap();
    aws(
        &env,
        &key,
        &["s3", "cp", f.to_str().unwrap(), "s3://cli-bucket/f.txt"],
    )
    .assert_ok();
    aws(&env, &key, &["s3", "cp", "s3://cli-bucket/f.txt", "-"]).assert_stdout_contains("via cli");
    let list = run(&["--json", "key", "list"]);
    list.assert_ok();
    let keys: Value = serde_json::from_str(list.stdout.trim()).expect("--json parses");
    assert!(
        !list.stdout.contains(&key.secret),
        "key list shows a secret"
    );
    assert!(
        keys.as_array()
            .unwrap()
            .iter()
            .any(|x| x["access_key_id"] == key.id.as_str())
    );
    let info = run(&["--json", "bucket", "info", "cli-bucket"]);
    info.assert_ok();
    let b: Value = serde_json::from_str(info.stdout.trim()).unwrap();
    assert_eq!(b["objects"], 1, "{b}");
    run(&["revoke", &key.id, "cli-bucket"]).assert_ok();
    denied(&aws(
        &env,
        &key,
        &["s3", "cp", "s3://cli-bucket/f.txt", "-"],
    ));
    run(&["status"]).assert_ok();
    let bad = {
        let mut c = coffer_cmd(&env.home());
        c.env("COFFER_ADMIN_URL", &admin.url)
            .env("COFFER_ADMIN_TOKEN", "wrong")
            .args(["bucket", "list"]);
        run_cmd(c, support::TIMEOUT)
    };
    assert_eq!(bad.status.and_then(|s| s.code()), Some(4), "{}", bad.stderr);
}
