//! Crash safety: `kill -9` during 32 concurrent PUTs; after restart every acknowledged PUT is
//! intact and nothing half-written is listed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coffer_conformance::clients::{AwsCli, CLIENT_TIMEOUT};
use coffer_conformance::coffer_test;
use coffer_conformance::files::{md5_file, walk_files, write_random};
use coffer_conformance::run_cmd;

const PUTS: usize = 32;

coffer_test!(kill_9_during_32_concurrent_puts, |t| {
    t.create_bucket("crash");
    let mut expected = BTreeMap::new();
    let mut cmds = Vec::new();
    for i in 0..PUTS {
        let key = format!("obj/{i:02}.bin");
        let f = t.work(&format!("src/{i:02}.bin"));
        // 1 to 22 MiB, so that some finish early and some are mid-body at the kill.
        write_random(&f, (1 + (i as u64 % 8) * 3) << 20, 9000 + i as u64);
        expected.insert(key.clone(), md5_file(&f));
        let mut c = t.aws_cmd(
            AwsCli::V2,
            &[
                "s3api",
                "put-object",
                "--bucket",
                "crash",
                "--key",
                &key,
                "--body",
                f.to_str().unwrap(),
            ],
        );
        // One attempt: a retry after the restart would blur what was acknowledged before the kill.
        c.env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_RETRY_MODE", "standard");
        cmds.push((key, c));
    }

    let finished = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(AtomicUsize::new(0));
    let acked_keys = Arc::new(Mutex::new(Vec::new()));
    let handles: Vec<_> = cmds
        .into_iter()
        .map(|(key, cmd)| {
            let (finished, acked, acked_keys) =
                (finished.clone(), acked.clone(), acked_keys.clone());
            std::thread::spawn(move || {
                let out = run_cmd(cmd, CLIENT_TIMEOUT);
                if out.success() && out.stdout.contains("ETag") {
                    acked_keys.lock().unwrap().push(key);
                    acked.fetch_add(1, Ordering::SeqCst);
                }
                finished.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();

    let start = Instant::now();
    while acked.load(Ordering::SeqCst) < 6
        && finished.load(Ordering::SeqCst) < PUTS
        && start.elapsed() < Duration::from_secs(300)
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    t.server.kill9();
    let acked_at_kill = acked.load(Ordering::SeqCst);
    let finished_at_kill = finished.load(Ordering::SeqCst);
    for h in handles {
        h.join().unwrap();
    }
    let acked_keys = acked_keys.lock().unwrap().clone();
    eprintln!(
        "crash: {acked_at_kill} acknowledged and {finished_at_kill} finished at the kill; {} acknowledged in all",
        acked_keys.len()
    );
    assert!(
        acked_at_kill >= 1,
        "no PUT was acknowledged before the kill: nothing to check"
    );
    assert!(
        finished_at_kill < PUTS,
        "every PUT had finished before the kill: no crash mid-write"
    );

    t.server.restart();
    let listing = t
        .aws(
            AwsCli::V2,
            &["s3api", "list-objects-v2", "--bucket", "crash"],
        )
        .assert_ok()
        .json();
    let listed: Vec<String> = listing["Contents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["Key"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for key in &acked_keys {
        assert!(
            listed.contains(key),
            "acknowledged {key} is not listed after restart"
        );
    }
    let down = t.work("down");
    t.aws(
        AwsCli::V2,
        &["s3", "sync", "s3://crash/", down.to_str().unwrap()],
    )
    .assert_ok();
    assert_eq!(
        walk_files(&down).len(),
        listed.len(),
        "sync did not fetch every listed key"
    );
    for key in &listed {
        let Some(md5) = expected.get(key) else {
            panic!("unexpected key listed after restart: {key}");
        };
        assert_eq!(
            &md5_file(&down.join(key)),
            md5,
            "{key} is listed but its bytes are wrong"
        );
    }
});
