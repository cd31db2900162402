//! duplicity 0.8 through its boto3 backend: full backup, verify (also with data), restore.

use coffer_conformance::coffer_test;
use coffer_conformance::files::{assert_same_tree, write_random, write_text};

coffer_test!(duplicity_full_verify_restore, shared, |t| {
    t.create_bucket("dup-bucket");
    let src = t.work("src");
    for i in 0..60u64 {
        write_text(
            &src.join(format!("d{}/f{i}.txt", i % 5)),
            1_000 + i * 700,
            300 + i,
            None,
        );
    }
    write_random(&src.join("big.bin"), 12 << 20, 360);
    let src_s = src.to_str().unwrap();
    let url = "boto3+s3://dup-bucket/dup";

    t.duplicity(&["full", src_s, url]).assert_ok();
    t.duplicity(&["verify", "--compare-data", url, src_s])
        .assert_ok();
    t.duplicity(&["collection-status", url])
        .assert_ok()
        .assert_stdout_contains("Full");
    let out = t.work("restored");
    t.duplicity(&["restore", url, out.to_str().unwrap()])
        .assert_ok();
    assert_same_tree(&src, &out);

    // verify must notice a changed file.
    write_text(&src.join("d0/f0.txt"), 1_000, 4242, None);
    t.duplicity(&["verify", "--compare-data", url, src_s])
        .assert_failed();
});
