//! Dedup and encryption seen from outside: data-dir growth and a plaintext marker scan.

use coffer_conformance::clients::AwsCli;
use coffer_conformance::coffer_test;
use coffer_conformance::files::{
    dir_size, files_containing, md5_file, walk_files, write_random, write_text,
};

coffer_test!(
    same_50mib_under_second_key_grows_data_dir_under_5_percent,
    |t| {
        const SIZE: u64 = 50 << 20;
        t.create_bucket("dedup");
        let f = t.work("dump.bin");
        write_random(&f, SIZE, 5050);
        let f_s = f.to_str().unwrap();
        let before = dir_size(&t.data_dir());
        t.aws(AwsCli::V2, &["s3", "cp", f_s, "s3://dedup/night1/dump.bin"])
            .assert_ok();
        let after_first = dir_size(&t.data_dir());
        // Random data does not compress: the first copy must really be stored.
        assert!(
            after_first - before >= SIZE * 9 / 10,
            "first upload grew the data dir by only {} bytes",
            after_first - before
        );
        t.aws(AwsCli::V2, &["s3", "cp", f_s, "s3://dedup/night2/dump.bin"])
            .assert_ok();
        let after_second = dir_size(&t.data_dir());
        let growth = after_second.saturating_sub(after_first);
        eprintln!(
            "dedup: first copy +{} bytes, second copy +{growth} bytes ({:.2} % of {SIZE})",
            after_first - before,
            growth as f64 * 100.0 / SIZE as f64
        );
        assert!(
            growth < SIZE / 20,
            "second copy grew the data dir by {growth} bytes"
        );
        for key in ["night1/dump.bin", "night2/dump.bin"] {
            let back = t.work("back.bin");
            t.aws(
                AwsCli::V2,
                &[
                    "s3",
                    "cp",
                    &format!("s3://dedup/{key}"),
                    back.to_str().unwrap(),
                ],
            )
            .assert_ok();
            assert_eq!(md5_file(&back), md5_file(&f), "{key}");
        }
    }
);

coffer_test!(plaintext_marker_never_reaches_the_data_dir, |t| {
    const MARKER: &str = "COFFER-PLAINTEXT-MARKER-5f1c2a9e77d04b";
    t.create_bucket("secret");
    // A multi-chunk text file with the marker in several places, and a tiny one that is only the marker.
    let big = t.work("notes.txt");
    write_text(&big, 6 << 20, 4711, Some(MARKER));
    let tiny = t.work("tiny.txt");
    std::fs::write(&tiny, MARKER).unwrap();
    assert!(!files_containing(&t.work(""), MARKER.as_bytes()).is_empty());
    t.aws(
        AwsCli::V2,
        &[
            "s3",
            "cp",
            big.to_str().unwrap(),
            "s3://secret/docs/notes.txt",
        ],
    )
    .assert_ok();
    t.aws(
        AwsCli::V2,
        &[
            "s3api",
            "put-object",
            "--bucket",
            "secret",
            "--key",
            "docs/tiny.txt",
            "--body",
            tiny.to_str().unwrap(),
        ],
    )
    .assert_ok();
    // Read back, so the server surely has the bytes and nothing is pending.
    let back = t.work("back.txt");
    t.aws(
        AwsCli::V2,
        &[
            "s3",
            "cp",
            "s3://secret/docs/notes.txt",
            back.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(md5_file(&back), md5_file(&big));
    // Also after a clean shutdown, when every buffer is flushed.
    t.server.terminate(std::time::Duration::from_secs(20));
    let files = walk_files(&t.data_dir());
    assert!(!files.is_empty(), "data dir is empty");
    let hits = files_containing(&t.data_dir(), MARKER.as_bytes());
    assert!(hits.is_empty(), "plaintext marker found in {hits:?}");
    // A marker cut across a chunk boundary would still leak a long piece of it.
    let half = &MARKER.as_bytes()[..MARKER.len() / 2 + 2];
    let hits = files_containing(&t.data_dir(), half);
    assert!(hits.is_empty(), "half the marker found in {hits:?}");
});
