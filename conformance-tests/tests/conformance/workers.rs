//! `coffer workers` against a real cofferd: the supervised background workers
//! are listed, with the steps they did for real uploads.

use std::time::Duration;

use coffer_conformance::clients::AwsCli;
use coffer_conformance::files::write_random;
use coffer_conformance::{coffer_test, run_cmd};

// The shared server: its writer has done at least this test's step.
coffer_test!(coffer_workers_lists_the_running_workers, shared, |t| {
    t.create_bucket("workers-small");
    // A small body goes through the shared-pack writer: one step at least.
    let f = t.work("small.bin");
    write_random(&f, 4096, 7);
    t.aws(
        AwsCli::V2,
        &[
            "s3",
            "cp",
            f.to_str().unwrap(),
            "s3://workers-small/one.bin",
        ],
    )
    .assert_ok();

    let out = run_cmd(
        t.coffer_cmd(&["workers", "--json"]),
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

    let table = run_cmd(t.coffer_cmd(&["workers"]), Duration::from_secs(60));
    table
        .assert_ok()
        .assert_stdout_contains("NAME")
        .assert_stdout_contains("STATE")
        .assert_stdout_contains("shared-pack-writer");
});
