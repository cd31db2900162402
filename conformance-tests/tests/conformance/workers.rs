//! `coffer workers` against a real cofferd: the supervised background workers
//! are listed, with the steps they did for real uploads.

use std::process::Command;
use std::time::Duration;

use coffer_conformance::clients::AwsCli;
use coffer_conformance::files::write_random;
use coffer_conformance::{TestEnv, coffer_test, paths, run_cmd};

/// `coffer` is built next to `cofferd` (`cargo build -p coffer-admin --bins`).
fn coffer_cmd(t: &TestEnv, args: &[&str]) -> Command {
    let bin = paths::cofferd_bin().with_file_name("coffer");
    assert!(
        bin.exists(),
        "coffer binary not found at {} (build it with `cargo build -p coffer-admin --bins`)",
        bin.display()
    );
    let admin = t
        .server
        .startup_lines()
        .iter()
        .find_map(|l| l.strip_prefix("coffer: admin API listening on "))
        .expect("admin line among the start-up lines")
        .trim()
        .to_owned();
    let mut c = t.client_cmd(bin);
    c.arg("--url")
        .arg(admin)
        .arg("--token-file")
        .arg(t.data_dir().join("admin.token"))
        .args(args);
    c
}

coffer_test!(coffer_workers_lists_the_running_workers, |t| {
    t.create_bucket("small");
    // A small body goes through the shared-pack writer: one step at least.
    let f = t.work("small.bin");
    write_random(&f, 4096, 7);
    t.aws(
        AwsCli::V2,
        &["s3", "cp", f.to_str().unwrap(), "s3://small/one.bin"],
    )
    .assert_ok();

    let out = run_cmd(
        coffer_cmd(&t, &["workers", "--json"]),
        Duration::from_secs(60),
    );
    out.assert_ok();
    let json = out.json();
    let workers = json.as_array().expect("an array of workers");
    let writer = workers
        .iter()
        .find(|w| w["name"] == "shared-pack-writer")
        .unwrap_or_else(|| panic!("no shared-pack-writer in {json}"));
    assert!(
        writer["state"] == "idle" || writer["state"] == "running",
        "{writer}"
    );
    assert!(writer["steps"].as_u64().unwrap_or(0) >= 1, "{writer}");
    assert_eq!(writer["errors"], 0, "{writer}");
    assert!(writer["last_success"].is_string(), "{writer}");

    let table = run_cmd(coffer_cmd(&t, &["workers"]), Duration::from_secs(60));
    table
        .assert_ok()
        .assert_stdout_contains("NAME")
        .assert_stdout_contains("STATE")
        .assert_stdout_contains("shared-pack-writer");
});
