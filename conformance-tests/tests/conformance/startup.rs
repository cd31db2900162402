//! cofferd's start-up contract: first-start output, master key file, restart, SIGTERM.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use coffer_conformance::clients::AwsCli;
use coffer_conformance::files::{md5_file, write_random};
use coffer_conformance::{ACCESS_KEY, SECRET_KEY, coffer_test};

coffer_test!(
    first_start_prints_credentials_once_and_data_survives_restart,
    |t| {
        let lines = t.server.startup_lines().join("\n");
        let data = t.data_dir();
        assert!(
            lines.contains(&format!(
                "coffer: initialised a new repository in {}",
                data.display()
            )),
            "{lines}"
        );
        assert!(lines.contains("master key file"), "{lines}");
        assert!(
            lines.contains(&format!("coffer: root access key id: {ACCESS_KEY}")),
            "{lines}"
        );
        assert!(
            lines.contains(&format!("coffer: root secret access key: {SECRET_KEY}")),
            "{lines}"
        );
        let key = data.join("master.key");
        let mode = std::fs::metadata(&key)
            .expect("master.key exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "master.key mode {mode:o}");

        t.create_bucket("persist");
        let f = t.work("f.bin");
        write_random(&f, 3 << 20, 77);
        t.aws(
            AwsCli::V2,
            &["s3", "cp", f.to_str().unwrap(), "s3://persist/f.bin"],
        )
        .assert_ok();

        let status = t.server.terminate(Duration::from_secs(20));
        assert!(
            status.is_some_and(|s| s.success()),
            "SIGTERM should exit 0, got {status:?}"
        );
        t.server.restart();
        let lines = t.server.startup_lines().join("\n");
        assert!(
            !lines.contains(SECRET_KEY),
            "secret printed again on restart:\n{lines}"
        );
        assert!(!lines.contains("initialised a new repository"), "{lines}");

        let back = t.work("f.back");
        t.aws(
            AwsCli::V2,
            &["s3", "cp", "s3://persist/f.bin", back.to_str().unwrap()],
        )
        .assert_ok();
        assert_eq!(md5_file(&back), md5_file(&f));
    }
);

coffer_test!(log_never_holds_the_secret, |t| {
    t.create_bucket("quiet");
    t.aws(
        AwsCli::V2,
        &["s3api", "list-objects-v2", "--bucket", "quiet"],
    )
    .assert_ok();
    let log = std::fs::read_to_string(t.server.stderr_path()).unwrap_or_default();
    assert!(!log.is_empty(), "no request log at all");
    assert!(!log.contains(SECRET_KEY), "secret in the server log");
});
