//! restic 0.14: init, two backups, check --read-data, restore + byte compare, forget --prune, check.

use std::path::Path;

use coffer_conformance::coffer_test;
use coffer_conformance::files::{assert_same_tree, walk_files, write_random, write_text};

/// 2,100 small text files in 30 directories and a few large random ones.
fn generate_tree(src: &Path) {
    for i in 0..2_100u64 {
        let len = 200 + (i * 7919) % 20_000;
        write_text(
            &src.join(format!("d{:02}/file{i:04}.txt", i % 30)),
            len,
            1_000 + i,
            None,
        );
    }
    write_random(&src.join("large/a.bin"), 40 << 20, 1);
    write_random(&src.join("large/b.bin"), 15 << 20, 2);
    write_random(&src.join("large/c.bin"), 6 << 20, 3);
    write_text(&src.join("large/log.txt"), 5 << 20, 4, None);
}

/// Changes some files, adds some, removes some, grows a large one.
fn change_tree(src: &Path) {
    for i in (0..2_100u64).step_by(40) {
        write_text(
            &src.join(format!("d{:02}/file{i:04}.txt", i % 30)),
            3_000,
            50_000 + i,
            None,
        );
    }
    for i in 0..100u64 {
        write_text(
            &src.join(format!("new/n{i:03}.txt")),
            500 + i * 10,
            60_000 + i,
            None,
        );
    }
    for i in (1..2_100u64).step_by(100) {
        std::fs::remove_file(src.join(format!("d{:02}/file{i:04}.txt", i % 30))).unwrap();
    }
    write_random(&src.join("large/b.bin"), 17 << 20, 22);
}

coffer_test!(restic_backup_check_restore_forget_prune, shared, |t| {
    t.create_bucket("restic-bucket");
    let repo = "restic-bucket/repo";
    let src = t.work("src");
    generate_tree(&src);
    assert!(walk_files(&src).len() >= 2_000);
    let src_s = src.to_str().unwrap();

    t.restic(repo, &["init"])
        .assert_ok()
        .assert_stdout_contains("created restic repository");
    t.restic(repo, &["backup", "--host", "ci", src_s])
        .assert_ok();
    change_tree(&src);
    t.restic(repo, &["backup", "--host", "ci", src_s])
        .assert_ok()
        .assert_stdout_contains("snapshot");
    let snaps = t.restic(repo, &["snapshots", "--json"]).assert_ok().json();
    assert_eq!(snaps.as_array().map(Vec::len), Some(2), "{snaps}");

    t.restic(repo, &["check", "--read-data"])
        .assert_ok()
        .assert_stdout_contains("no errors were found");

    let out = t.work("restored");
    t.restic(
        repo,
        &["restore", "latest", "--target", out.to_str().unwrap()],
    )
    .assert_ok();
    // restic restores under the absolute path it backed up.
    let restored = out.join(src.strip_prefix("/").unwrap());
    assert_same_tree(&src, &restored);

    t.restic(repo, &["forget", "--keep-last", "1", "--prune"])
        .assert_ok();
    let snaps = t.restic(repo, &["snapshots", "--json"]).assert_ok().json();
    assert_eq!(snaps.as_array().map(Vec::len), Some(1), "{snaps}");
    t.restic(repo, &["check", "--read-data"])
        .assert_ok()
        .assert_stdout_contains("no errors were found");
});
