//! aws cli v2 (Debian) and v1 (pip): high-level `s3` commands, multipart, ranged GET, Content-MD5.
//!
//! Most run on the test binary's shared server, each in buckets named after its
//! cli (`-v1`/`-v2`); the HTTPS test and the one that reads the server's peak
//! memory have servers of their own.

use std::time::Instant;

use base64::Engine as _;
use coffer_conformance::clients::AwsCli;
use coffer_conformance::files::{assert_same_tree, md5_file, write_random, write_text};
use coffer_conformance::{TestEnv, coffer_test};

/// Buckets of one test on the shared server: `base-v1` or `base-v2`.
fn bucket(base: &str, cli: AwsCli) -> String {
    match cli {
        AwsCli::V1 => format!("{base}-v1"),
        AwsCli::V2 => format!("{base}-v2"),
    }
}

fn cp_sync_ls_rm(t: &TestEnv, cli: AwsCli) {
    let aws = |args: &[&str]| t.aws(cli, args);
    let b = bucket("cli-bucket", cli);
    let s3 = |path: &str| format!("s3://{b}/{path}");
    aws(&["s3", "mb", &s3("")]).assert_ok();
    aws(&["s3", "ls"]).assert_ok().assert_stdout_contains(&b);

    let src = t.work("src");
    write_text(&src.join("a.txt"), 30_000, 1, None);
    write_random(&src.join("sub/b.bin"), 3 << 20, 2);
    // Above the cli's 8 MiB multipart threshold.
    write_random(&src.join("sub/deeper/c.bin"), 20 << 20, 3);

    let a = src.join("a.txt");
    let a = a.to_str().unwrap();
    aws(&["s3", "cp", a, &s3("single/a.txt")]).assert_ok();
    let out_a = t.work("out/a.txt");
    aws(&["s3", "cp", &s3("single/a.txt"), out_a.to_str().unwrap()]).assert_ok();
    assert_eq!(md5_file(&out_a), md5_file(&src.join("a.txt")));

    aws(&["s3", "sync", src.to_str().unwrap(), &s3("tree/")])
        .assert_ok()
        .assert_stdout_contains("upload:");
    let ls = aws(&["s3", "ls", "--recursive", &s3("tree/")]);
    ls.assert_ok()
        .assert_stdout_contains("tree/a.txt")
        .assert_stdout_contains(&format!("{} tree/sub/b.bin", 3 << 20))
        .assert_stdout_contains(&format!("{} tree/sub/deeper/c.bin", 20 << 20));
    assert_eq!(ls.stdout.lines().count(), 3, "{ls}");
    // Nothing changed locally: a second sync must upload nothing (sizes and dates line up).
    aws(&["s3", "sync", src.to_str().unwrap(), &s3("tree/")])
        .assert_ok()
        .assert_stdout_lacks("upload:");

    let down = t.work("down");
    aws(&["s3", "sync", &s3("tree/"), down.to_str().unwrap()]).assert_ok();
    assert_same_tree(&src, &down);

    // Delimiter listing: two common prefixes at the top.
    aws(&["s3", "ls", &s3("")])
        .assert_ok()
        .assert_stdout_contains("PRE single/")
        .assert_stdout_contains("PRE tree/");

    aws(&["s3", "rm", &s3("single/a.txt")]).assert_ok();
    aws(&[
        "s3api",
        "head-object",
        "--bucket",
        &b,
        "--key",
        "single/a.txt",
    ])
    .assert_failed()
    .assert_output_contains("404");
    aws(&["s3", "rm", "--recursive", &s3("tree/")])
        .assert_ok()
        .assert_stdout_contains(&format!("delete: {}", s3("tree/sub/deeper/c.bin")));
    let left = aws(&["s3api", "list-objects-v2", "--bucket", &b]);
    left.assert_ok();
    // An empty listing prints nothing (v1) or a JSON without Contents (v2).
    assert!(!left.stdout.contains("\"Key\""), "objects left:\n{left}");
    aws(&["s3", "rb", &format!("s3://{b}")]).assert_ok();
    aws(&["s3", "ls"]).assert_ok().assert_stdout_lacks(&b);
}

fn multipart_200mib(t: &TestEnv, cli: AwsCli) {
    let b = bucket("big", cli);
    const SIZE: u64 = 200 << 20;
    t.create_bucket(&b);
    let src = t.work("big.bin");
    write_random(&src, SIZE, 200);
    let started = Instant::now();
    t.aws(
        cli,
        &[
            "s3",
            "cp",
            src.to_str().unwrap(),
            &format!("s3://{b}/dump/big.bin"),
        ],
    )
    .assert_ok();
    let up = started.elapsed();
    let head = t
        .aws(
            cli,
            &[
                "s3api",
                "head-object",
                "--bucket",
                &b,
                "--key",
                "dump/big.bin",
            ],
        )
        .assert_ok()
        .json();
    assert_eq!(head["ContentLength"].as_u64(), Some(SIZE), "{head}");
    // The cli uses 8 MiB parts: 25 of them, so the ETag is the multipart form "<md5>-25".
    let etag = head["ETag"].as_str().unwrap_or_default();
    assert!(
        etag.ends_with("-25\""),
        "multipart ETag expected, got {etag}"
    );
    let dst = t.work("big.back");
    let started = Instant::now();
    t.aws(
        cli,
        &[
            "s3",
            "cp",
            &format!("s3://{b}/dump/big.bin"),
            dst.to_str().unwrap(),
        ],
    )
    .assert_ok();
    let down = started.elapsed();
    assert_eq!(md5_file(&dst), md5_file(&src));
    let mib = (SIZE >> 20) as f64;
    eprintln!(
        "{cli:?} 200 MiB multipart: up {:.1} MiB/s, down {:.1} MiB/s",
        mib / up.as_secs_f64(),
        mib / down.as_secs_f64()
    );
}

fn ranged_get(t: &TestEnv, cli: AwsCli) {
    let b = bucket("ranges", cli);
    t.create_bucket(&b);
    let src = t.work("r.bin");
    write_random(&src, 1 << 20, 7);
    let body = std::fs::read(&src).unwrap();
    t.aws(
        cli,
        &[
            "s3api",
            "put-object",
            "--bucket",
            &b,
            "--key",
            "r.bin",
            "--body",
            src.to_str().unwrap(),
        ],
    )
    .assert_ok();

    let part = t.work("part");
    let got = t
        .aws(
            cli,
            &[
                "s3api",
                "get-object",
                "--bucket",
                &b,
                "--key",
                "r.bin",
                "--range",
                "bytes=1000-1999",
                part.to_str().unwrap(),
            ],
        )
        .assert_ok()
        .json();
    assert_eq!(got["ContentLength"].as_u64(), Some(1000), "{got}");
    assert_eq!(
        got["ContentRange"].as_str(),
        Some("bytes 1000-1999/1048576"),
        "{got}"
    );
    assert_eq!(std::fs::read(&part).unwrap(), &body[1000..2000]);

    // A range across the 256 KiB minimum chunk size and to the end.
    let got = t
        .aws(
            cli,
            &[
                "s3api",
                "get-object",
                "--bucket",
                &b,
                "--key",
                "r.bin",
                "--range",
                "bytes=262000-",
                part.to_str().unwrap(),
            ],
        )
        .assert_ok()
        .json();
    assert_eq!(
        got["ContentLength"].as_u64(),
        Some((1 << 20) - 262000),
        "{got}"
    );
    assert_eq!(std::fs::read(&part).unwrap(), &body[262000..]);

    // Suffix range: the last 500 bytes.
    t.aws(
        cli,
        &[
            "s3api",
            "get-object",
            "--bucket",
            &b,
            "--key",
            "r.bin",
            "--range",
            "bytes=-500",
            part.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(std::fs::read(&part).unwrap(), &body[body.len() - 500..]);

    t.aws(
        cli,
        &[
            "s3api",
            "get-object",
            "--bucket",
            &b,
            "--key",
            "r.bin",
            "--range",
            "bytes=2000000-",
            part.to_str().unwrap(),
        ],
    )
    .assert_failed()
    .assert_output_contains("InvalidRange");
}

fn content_md5(t: &TestEnv, cli: AwsCli) {
    let b = bucket("md5", cli);
    t.create_bucket(&b);
    let v1 = t.work("v1.txt");
    let v2 = t.work("v2.txt");
    write_text(&v1, 100_000, 11, None);
    write_text(&v2, 100_000, 12, None);
    let b64 = |p: &std::path::Path| {
        let hex = md5_file(p);
        base64::engine::general_purpose::STANDARD.encode(hex::decode(hex).unwrap())
    };
    let put = |body: &std::path::Path, key: &str, md5: &str| {
        t.aws(
            cli,
            &[
                "s3api",
                "put-object",
                "--bucket",
                &b,
                "--key",
                key,
                "--body",
                body.to_str().unwrap(),
                "--content-md5",
                md5,
            ],
        )
    };
    let etag = put(&v1, "k", &b64(&v1)).assert_ok().json()["ETag"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(etag, format!("\"{}\"", md5_file(&v1)));

    // The MD5 of v1 sent with v2's body: rejected, and v1 stays the current version.
    put(&v2, "k", &b64(&v1))
        .assert_failed()
        .assert_output_contains("BadDigest");
    let head = t
        .aws(cli, &["s3api", "head-object", "--bucket", &b, "--key", "k"])
        .assert_ok()
        .json();
    assert_eq!(head["ETag"].as_str(), Some(etag.as_str()), "{head}");
    let back = t.work("back");
    t.aws(
        cli,
        &[
            "s3api",
            "get-object",
            "--bucket",
            &b,
            "--key",
            "k",
            back.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(md5_file(&back), md5_file(&v1));

    // A new key with a wrong MD5: nothing is stored.
    put(&v2, "fresh", &b64(&v1))
        .assert_failed()
        .assert_output_contains("BadDigest");
    t.aws(
        cli,
        &["s3api", "head-object", "--bucket", &b, "--key", "fresh"],
    )
    .assert_failed()
    .assert_output_contains("404");
}

coffer_test!(aws_v2_cp_sync_ls_rm, shared, |t| {
    cp_sync_ls_rm(&t, AwsCli::V2)
});
coffer_test!(aws_v1_cp_sync_ls_rm, shared, |t| {
    cp_sync_ls_rm(&t, AwsCli::V1)
});
coffer_test!(aws_v2_multipart_200mib, shared, |t| {
    multipart_200mib(&t, AwsCli::V2)
});
coffer_test!(aws_v1_multipart_200mib, shared, |t| {
    multipart_200mib(&t, AwsCli::V1)
});
coffer_test!(aws_v2_ranged_get, shared, |t| {
    ranged_get(&t, AwsCli::V2)
});
coffer_test!(aws_v1_ranged_get, shared, |t| {
    ranged_get(&t, AwsCli::V1)
});
coffer_test!(aws_v2_content_md5, shared, |t| {
    content_md5(&t, AwsCli::V2)
});
coffer_test!(aws_v1_content_md5, shared, |t| {
    content_md5(&t, AwsCli::V1)
});
coffer_test!(aws_v2_over_https, tls, |t| {
    t.create_bucket("tls");
    let f = t.work("f.bin");
    write_random(&f, 5 << 20, 5);
    t.aws(
        AwsCli::V2,
        &["s3", "cp", f.to_str().unwrap(), "s3://tls/f.bin"],
    )
    .assert_ok();
    let back = t.work("f.back");
    t.aws(
        AwsCli::V2,
        &["s3", "cp", "s3://tls/f.bin", back.to_str().unwrap()],
    )
    .assert_ok();
    assert_eq!(md5_file(&back), md5_file(&f));
});

// A single 192 MiB PUT and GET must stream: the server's peak memory stays well below the object size.
coffer_test!(aws_v2_single_put_192mib_is_streamed, |t| {
    const SIZE: u64 = 192 << 20;
    t.create_bucket("stream");
    let f = t.work("one.bin");
    write_random(&f, SIZE, 192);
    t.aws(
        AwsCli::V2,
        &[
            "s3api",
            "put-object",
            "--bucket",
            "stream",
            "--key",
            "one.bin",
            "--body",
            f.to_str().unwrap(),
        ],
    )
    .assert_ok();
    let back = t.work("one.back");
    t.aws(
        AwsCli::V2,
        &[
            "s3api",
            "get-object",
            "--bucket",
            "stream",
            "--key",
            "one.bin",
            back.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(md5_file(&back), md5_file(&f));
    let peak = t.server.peak_rss_bytes().expect("VmHWM of cofferd");
    eprintln!(
        "single 192 MiB PUT+GET: cofferd peak RSS {} MiB",
        peak >> 20
    );
    assert!(
        peak < SIZE * 3 / 4,
        "cofferd peaked at {} MiB for a {} MiB object",
        peak >> 20,
        SIZE >> 20
    );
});

// The nightly dump script: `pg_dump | aws s3 cp - s3://…` streams from stdin (size unknown up front),
// overwriting the same key in a versioned bucket.
fn dump_from_stdin(t: &TestEnv, cli: AwsCli) {
    let b = bucket("pipe", cli);
    t.create_bucket(&b);
    t.enable_versioning(cli, &b);
    let mut md5s = Vec::new();
    for night in 0..2u64 {
        let dump = t.work(&format!("dump{night}.sql"));
        write_text(&dump, 20 << 20, 500 + night, None);
        let stdin = std::fs::File::open(&dump).unwrap();
        coffer_conformance::command::run_cmd_with_stdin(
            t.aws_cmd(cli, &["s3", "cp", "-", &format!("s3://{b}/db/dump.sql")]),
            stdin.into(),
            coffer_conformance::clients::CLIENT_TIMEOUT,
        )
        .assert_ok();
        md5s.push(md5_file(&dump));
    }
    let back = t.work("dump.back");
    t.aws(
        cli,
        &[
            "s3",
            "cp",
            &format!("s3://{b}/db/dump.sql"),
            back.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(md5_file(&back), md5s[1]);
    let versions = t
        .aws(
            cli,
            &[
                "s3api",
                "list-object-versions",
                "--bucket",
                &b,
                "--prefix",
                "db/",
            ],
        )
        .assert_ok()
        .json();
    let list = versions["Versions"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{versions}");
    let old = list
        .iter()
        .find(|v| v["IsLatest"] == false)
        .expect("a non-current version");
    let old_id = old["VersionId"].as_str().unwrap();
    t.aws(
        cli,
        &[
            "s3api",
            "get-object",
            "--bucket",
            &b,
            "--key",
            "db/dump.sql",
            "--version-id",
            old_id,
            back.to_str().unwrap(),
        ],
    )
    .assert_ok();
    assert_eq!(md5_file(&back), md5s[0]);
}

coffer_test!(aws_v2_dump_from_stdin_versioned, shared, |t| {
    dump_from_stdin(&t, AwsCli::V2)
});
coffer_test!(aws_v1_dump_from_stdin_versioned, shared, |t| {
    dump_from_stdin(&t, AwsCli::V1)
});

// KMS encryption is not built, and object lock exists only on buckets
// created with it: asking for either elsewhere must fail with AWS's errors,
// never answer 200 and leave the client believing its backup is protected
// (as `create-bucket --object-lock-enabled-for-bucket` and a PUT with
// `--object-lock-mode GOVERNANCE` used to, enabling nothing).
fn regression_unenforced_protections_were_accepted(t: &TestEnv, cli: AwsCli) {
    let aws = |args: &[&str]| t.aws(cli, args);
    let locked = bucket("lock-asked", cli);
    aws(&[
        "s3api",
        "create-bucket",
        "--bucket",
        &locked,
        "--object-lock-enabled-for-bucket",
    ])
    .assert_ok();
    aws(&[
        "s3api",
        "get-object-lock-configuration",
        "--bucket",
        &locked,
    ])
    .assert_ok()
    .assert_output_contains("Enabled");

    let b = bucket("unenforced", cli);
    t.create_bucket(&b);
    let f = t.work("dump.sql");
    write_text(&f, 10_000, 9, None);
    let body = f.to_str().unwrap();
    let put = |extra: &[&str]| {
        let mut args = vec![
            "s3api",
            "put-object",
            "--bucket",
            &b,
            "--key",
            "db/dump.sql",
            "--body",
            body,
        ];
        args.extend_from_slice(extra);
        aws(&args)
    };
    put(&[
        "--object-lock-mode",
        "GOVERNANCE",
        "--object-lock-retain-until-date",
        "2030-01-01T00:00:00Z",
    ])
    .assert_failed()
    .assert_output_contains("InvalidRequest")
    .assert_output_contains("Object Lock");
    put(&["--object-lock-legal-hold-status", "ON"])
        .assert_failed()
        .assert_output_contains("InvalidRequest");
    put(&["--server-side-encryption", "aws:kms"])
        .assert_failed()
        .assert_output_contains("NotImplemented");
    // Nothing of the refused writes was stored.
    aws(&[
        "s3api",
        "head-object",
        "--bucket",
        &b,
        "--key",
        "db/dump.sql",
    ])
    .assert_failed();
    // What Coffer does do is accepted: every object is AES-256 encrypted.
    put(&["--server-side-encryption", "AES256"]).assert_ok();
    aws(&[
        "s3",
        "cp",
        body,
        &format!("s3://{b}/db/cp.sql"),
        "--sse",
        "aws:kms",
    ])
    .assert_failed();
}

coffer_test!(
    aws_v2_regression_unenforced_protections_were_accepted,
    shared,
    |t| { regression_unenforced_protections_were_accepted(&t, AwsCli::V2) }
);
coffer_test!(
    aws_v1_regression_unenforced_protections_were_accepted,
    shared,
    |t| { regression_unenforced_protections_were_accepted(&t, AwsCli::V1) }
);
