//! rclone (provider Other, path style): copy, check, ls, delete, multipart above the cutoff.

use coffer_conformance::coffer_test;
use coffer_conformance::files::{write_random, write_text};

coffer_test!(rclone_copy_check_ls_delete, shared, |t| {
    let src = t.work("src");
    for i in 0..40u64 {
        write_text(
            &src.join(format!("dir{}/f{i}.txt", i % 4)),
            2_000 + i * 300,
            100 + i,
            None,
        );
    }
    write_random(&src.join("big/blob.bin"), 24 << 20, 150);
    let src_s = src.to_str().unwrap();

    t.rclone(&["mkdir", "coffer:rclone-bucket"]).assert_ok();
    // Multipart from 5 MiB on, so the 24 MiB file goes up in parts.
    t.rclone(&[
        "copy",
        "--s3-upload-cutoff",
        "5M",
        "--s3-chunk-size",
        "5M",
        src_s,
        "coffer:rclone-bucket/backup",
    ])
    .assert_ok();
    t.rclone(&["check", src_s, "coffer:rclone-bucket/backup"])
        .assert_ok();
    // --download compares bytes, not just hashes/sizes.
    t.rclone(&["check", "--download", src_s, "coffer:rclone-bucket/backup"])
        .assert_ok();
    let ls = t.rclone(&["ls", "coffer:rclone-bucket/backup"]);
    ls.assert_ok()
        .assert_stdout_contains(&format!("{} big/blob.bin", 24u64 << 20))
        .assert_stdout_contains("dir3/f39.txt");
    assert_eq!(ls.stdout.lines().count(), 41, "{ls}");

    // check must notice a difference.
    write_text(&src.join("dir0/f0.txt"), 2_000, 9999, None);
    t.rclone(&["check", src_s, "coffer:rclone-bucket/backup"])
        .assert_failed();

    t.rclone(&["delete", "coffer:rclone-bucket/backup/dir1"])
        .assert_ok();
    let ls = t.rclone(&["ls", "coffer:rclone-bucket/backup"]);
    ls.assert_ok().assert_stdout_lacks("dir1/");
    assert_eq!(ls.stdout.lines().count(), 31, "{ls}");
    t.rclone(&["delete", "coffer:rclone-bucket"]).assert_ok();
    let ls = t.rclone(&["ls", "coffer:rclone-bucket"]);
    ls.assert_ok();
    assert!(ls.stdout.trim().is_empty(), "{ls}");
    t.rclone(&["rmdir", "coffer:rclone-bucket"]).assert_ok();
    t.rclone(&["lsd", "coffer:"])
        .assert_ok()
        .assert_stdout_lacks("rclone-bucket");
});
