//! A read-only key, driven by real clients against the real `cofferd`: every
//! operation of the permission table (mutating → AccessDenied, reads work),
//! `aws s3 cp` down but not up, restic `snapshots` / `restore` but not `backup`.

#[path = "access/support.rs"]
mod support;

use coffer_conformance::TestEnv;
use coffer_server::s3::permissions::RULES;
use serde_json::json;
use support::{as_key, aws, boto3, root_key};

#[test]
fn read_only_key_against_every_operation_of_the_table() {
    let env = TestEnv::new("access-ro-ops");
    let admin = env.admin();
    admin.create_bucket("ro-data");
    admin.create_bucket("ro-other");
    let key = admin.create_key("developer", &[("ro-data", "", "r")]);
    let ops: Vec<&str> = RULES.iter().map(|r| r.op).collect();
    let out = boto3(
        &env,
        "ops.py",
        &json!({
            "endpoint": env.endpoint(),
            "root": [root_key().id, root_key().secret],
            "key": [key.id, key.secret],
            "bucket": "ro-data",
            "ops": ops,
        }),
    );
    let mut failures = Vec::new();
    for rule in RULES {
        let got = out[rule.op].as_str().unwrap_or("missing");
        let want = if rule.mutating { "AccessDenied" } else { "ok" };
        if got != want {
            failures.push(format!("{}: expected {want}, got {got}", rule.op));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}\nall: {out}");
    assert_eq!(out["_object_intact"], true, "{out}");
    assert_eq!(out["_upload_intact"], true, "{out}");
    assert_eq!(out["_buckets_seen"], json!(["ro-data"]), "{out}");
}

#[test]
fn read_only_key_with_aws_cli_and_restic() {
    let env = TestEnv::new("access-ro-clients");
    let admin = env.admin();
    admin.create_bucket("dumps");
    let root = root_key();
    let key = admin.create_key("dev-env", &[("dumps", "", "r")]);

    let dump = env.work("latest.dump");
    std::fs::write(&dump, b"anonymised dump\n".repeat(1000)).unwrap();
    let d = dump.to_str().unwrap();
    aws(&env, &root, &["s3", "cp", d, "s3://dumps/db/latest.dump"]).assert_ok();
    let got = env.work("got.dump");
    aws(
        &env,
        &key,
        &[
            "s3",
            "cp",
            "s3://dumps/db/latest.dump",
            got.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(std::fs::read(&got).unwrap(), std::fs::read(&dump).unwrap());
    let up = aws(&env, &key, &["s3", "cp", d, "s3://dumps/db/evil.dump"]);
    up.assert_failed();
    assert!(up.stderr.contains("AccessDenied"), "{}", up.stderr);
    let rm = aws(&env, &key, &["s3", "rm", "s3://dumps/db/latest.dump"]);
    rm.assert_failed();
    assert!(rm.stderr.contains("AccessDenied"), "{}", rm.stderr);

    // restic: the root key makes the repository and a snapshot.
    let src = env.work("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("a.txt"), b"alpha\n").unwrap();
    std::fs::write(src.join("b.bin"), vec![7u8; 300_000]).unwrap();
    let restic = |k: &support::Key, args: &[&str]| {
        let mut c = env.client_cmd("restic");
        c.env(
            "RESTIC_REPOSITORY",
            format!("s3:{}/dumps/restic", env.endpoint()),
        )
        .env("RESTIC_PASSWORD", "coffer-test-restic-password")
        .env(
            "RESTIC_CACHE_DIR",
            env.root().join(format!("cache-{}", k.id)),
        )
        .args(args);
        coffer_conformance::run_cmd(as_key(c, k), support::TIMEOUT)
    };
    restic(&root, &["init"]).assert_ok();
    restic(&root, &["backup", src.to_str().unwrap()]).assert_ok();

    let snaps = restic(&key, &["snapshots", "--no-lock", "--json"]);
    snaps.assert_ok();
    let list: serde_json::Value = serde_json::from_str(snaps.stdout.trim()).unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{}", snaps.stdout);
    let target = env.work("restored");
    restic(
        &key,
        &[
            "restore",
            "latest",
            "--no-lock",
            "--target",
            target.to_str().unwrap(),
        ],
    )
    .assert_ok();
    let restored = coffer_conformance::files::walk_files(&target);
    let a = restored
        .iter()
        .find(|p| p.ends_with("a.txt"))
        .expect("a.txt restored");
    assert_eq!(std::fs::read(a).unwrap(), b"alpha\n");
    let b = restic(&key, &["backup", src.to_str().unwrap()]);
    b.assert_failed();
    // Still one snapshot: the failed backup left nothing behind.
    let again = restic(&root, &["snapshots", "--json"]);
    again.assert_ok();
    let list: serde_json::Value = serde_json::from_str(again.stdout.trim()).unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}
