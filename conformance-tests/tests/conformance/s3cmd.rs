//! s3cmd: mb/put/get/ls/del, single-part and multipart.

use coffer_conformance::clients::AwsCli;
use coffer_conformance::coffer_test;
use coffer_conformance::files::{md5_file, write_random, write_text};

coffer_test!(s3cmd_put_get_ls_del_multipart, shared, |t| {
    t.s3cmd(&["mb", "s3://s3cmd-bucket"]).assert_ok();
    let small = t.work("small.txt");
    let big = t.work("big.bin");
    write_text(&small, 50_000, 21, None);
    // 5 MiB chunks (set in the config): four parts.
    write_random(&big, 18 << 20, 22);
    t.s3cmd(&[
        "put",
        small.to_str().unwrap(),
        "s3://s3cmd-bucket/docs/small.txt",
    ])
    .assert_ok();
    t.s3cmd(&[
        "put",
        "--progress",
        big.to_str().unwrap(),
        "s3://s3cmd-bucket/data/big.bin",
    ])
    .assert_ok()
    .assert_output_contains("part 4 of 4");
    let head = t
        .aws(
            AwsCli::V2,
            &[
                "s3api",
                "head-object",
                "--bucket",
                "s3cmd-bucket",
                "--key",
                "data/big.bin",
            ],
        )
        .assert_ok()
        .json();
    let etag = head["ETag"].as_str().unwrap_or_default();
    assert!(
        etag.ends_with("-4\""),
        "multipart ETag expected, got {etag}"
    );
    t.s3cmd(&["ls", "s3://s3cmd-bucket/"])
        .assert_ok()
        .assert_stdout_contains("DIR")
        .assert_stdout_contains("s3://s3cmd-bucket/docs/")
        .assert_stdout_contains("s3://s3cmd-bucket/data/");
    t.s3cmd(&["ls", "--recursive", "s3://s3cmd-bucket"])
        .assert_ok()
        .assert_stdout_contains("s3://s3cmd-bucket/docs/small.txt")
        .assert_stdout_contains("s3://s3cmd-bucket/data/big.bin");
    let small_back = t.work("small.back");
    let big_back = t.work("big.back");
    t.s3cmd(&[
        "get",
        "s3://s3cmd-bucket/docs/small.txt",
        small_back.to_str().unwrap(),
    ])
    .assert_ok();
    t.s3cmd(&[
        "get",
        "s3://s3cmd-bucket/data/big.bin",
        big_back.to_str().unwrap(),
    ])
    .assert_ok();
    assert_eq!(md5_file(&small_back), md5_file(&small));
    assert_eq!(md5_file(&big_back), md5_file(&big));

    t.s3cmd(&["del", "s3://s3cmd-bucket/docs/small.txt"])
        .assert_ok();
    t.s3cmd(&["ls", "--recursive", "s3://s3cmd-bucket"])
        .assert_ok()
        .assert_stdout_lacks("small.txt")
        .assert_stdout_contains("big.bin");
    t.s3cmd(&["del", "s3://s3cmd-bucket/data/big.bin"])
        .assert_ok();
    t.s3cmd(&["rb", "s3://s3cmd-bucket"]).assert_ok();
    t.s3cmd(&["ls"])
        .assert_ok()
        .assert_stdout_lacks("s3cmd-bucket");
});
