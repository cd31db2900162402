//! cofferd's start-up contract: first-start output, master key file, restart, SIGTERM.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use coffer_conformance::clients::AwsCli;
use coffer_conformance::files::{md5_file, write_random};
use coffer_conformance::{ACCESS_KEY, SECRET_KEY, coffer_test};

coffer_test!(
    first_start_prints_the_key_id_not_a_supplied_secret_and_data_survives_restart,
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
        // The harness supplies the secret (COFFER_ROOT_SECRET_KEY): it must not be
        // echoed into stdout, where service managers keep it in their logs.
        assert!(
            !lines.contains(SECRET_KEY),
            "supplied root secret printed:\n{lines}"
        );
        assert!(
            lines.contains("coffer: root secret access key: as configured (not printed)"),
            "{lines}"
        );
        let key = data.join("master.key");
        let mode = std::fs::metadata(&key)
            .expect("master.key exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "master.key mode {mode:o}");
        // The kit's reader of those lines (the server's own) sees the same.
        let first = t
            .server
            .startup()
            .first_start
            .clone()
            .expect("a first start");
        assert_eq!(first.data_dir, data);
        assert_eq!(first.master_key_file, key);
        assert_eq!(first.root_access_key, ACCESS_KEY);
        assert_eq!(
            first.root_secret_key, None,
            "a supplied secret reads as not printed"
        );
        assert_eq!(
            t.server.startup().admin_token_file.as_deref(),
            Some(t.server.admin_token_file().as_path())
        );

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
        assert_eq!(t.server.startup().first_start, None);
        assert_eq!(t.server.startup().admin_token_file, None);

        let back = t.work("f.back");
        t.aws(
            AwsCli::V2,
            &["s3", "cp", "s3://persist/f.bin", back.to_str().unwrap()],
        )
        .assert_ok();
        assert_eq!(md5_file(&back), md5_file(&f));
    }
);

coffer_test!(log_never_holds_the_secret, shared, |t| {
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

/// Runs the real `cofferd` with only `env` set (no server is expected to stay up).
fn cofferd(args: &[&str], env: &[(&str, &str)]) -> coffer_conformance::CmdOutput {
    let mut cmd = coffer_conformance::bare_cofferd();
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    coffer_conformance::run_cmd(cmd, Duration::from_secs(30))
}

#[test]
fn print_config_shows_the_layered_config_redacted_and_opens_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("cofferd.toml");
    std::fs::write(
        &file,
        "[s3]\nregion = \"file-region\"\nlisten = \"127.0.0.1:7000\"\n\n[engine]\nzstd_level = 9\n",
    )
    .unwrap();
    let token = "print-config-admin-token-value";
    let out = cofferd(
        &[
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--print-config",
        ],
        &[
            ("COFFER_DATA_DIR", data.to_str().unwrap()),
            ("COFFER_ROOT_ACCESS_KEY", ACCESS_KEY),
            ("COFFER_ROOT_SECRET_KEY", SECRET_KEY),
            ("COFFER_ADMIN_TOKEN", token),
            ("COFFER_CLOCK_SPEEDUP", "86400"),
            ("COFFER_ZSTD_LEVEL", "4"),
        ],
    );
    out.assert_ok();
    for section in [
        "[server]",
        "[s3]",
        "[admin]",
        "[[storage.stores]]",
        "[engine]",
        "[engine.chunker]",
    ] {
        out.assert_stdout_contains(section);
    }
    // file < env < flag, each where the setting lives now
    out.assert_stdout_contains("region = \"file-region\"")
        .assert_stdout_contains("listen = \"127.0.0.1:0\"")
        .assert_stdout_contains("zstd_level = 4")
        .assert_stdout_contains("clock_speedup = 86400.0")
        .assert_stdout_contains(&format!("data_dir = \"{}\"", data.display()))
        .assert_stdout_contains(&format!("root_access_key = \"{ACCESS_KEY}\""))
        .assert_stdout_contains("<redacted>")
        .assert_stdout_lacks(SECRET_KEY)
        .assert_stdout_lacks(token);
    assert!(!out.stderr.contains(SECRET_KEY) && !out.stderr.contains(token));
    assert!(
        !data.exists(),
        "--print-config created the data directory:\n{out}"
    );
}

#[test]
fn bad_config_files_stop_the_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("cofferd.toml");
    let env = [("COFFER_DATA_DIR", data.to_str().unwrap())];
    let args = [
        "--config",
        file.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ];

    std::fs::write(&file, "[s3]\nlsten = \"127.0.0.1:0\"\n").unwrap();
    let out = cofferd(&args, &env);
    out.assert_failed();
    assert!(
        out.stderr.contains("unknown field `lsten`") && out.stderr.contains("in `s3`"),
        "{out}"
    );

    std::fs::write(&file, "[[storage.stores]]\nname = \"up\"\nkind = \"s3\"\n").unwrap();
    let out = cofferd(&args, &env);
    out.assert_failed();
    assert!(out.stderr.contains("not built yet"), "{out}");

    let out = cofferd(
        &args,
        &[
            ("COFFER_DATA_DIR", data.to_str().unwrap()),
            ("COFFER_CLOCK_SPEEDUP", "fast"),
        ],
    );
    out.assert_failed();
    assert!(out.stderr.contains("COFFER_CLOCK_SPEEDUP"), "{out}");

    let out = cofferd(
        &args,
        &[
            ("COFFER_DATA_DIR", data.to_str().unwrap()),
            ("COFFER_CLOCK_START", "yesterday"),
        ],
    );
    out.assert_failed();
    assert!(out.stderr.contains("clock_start"), "{out}");
    assert!(!data.exists(), "a refused start created the data directory");
}

#[test]
fn a_flat_config_file_of_before_sections_still_starts_with_a_deprecation_warning() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Found in the data directory, as a deployment of before sections has it.
    std::fs::write(
        data.join("cofferd.toml"),
        "zstd_level = 6\nseal_threads = 2\ndomain = \"s3.example.test\"\n\n[chunker]\nmin_size = 65536\n",
    )
    .unwrap();
    let out = cofferd(
        &["--print-config"],
        &[("COFFER_DATA_DIR", data.to_str().unwrap())],
    );
    out.assert_ok()
        .assert_stdout_contains("zstd_level = 6")
        .assert_stdout_contains("seal_threads = 2")
        .assert_stdout_contains("domain = \"s3.example.test\"")
        .assert_stdout_contains("min_size = 65536");
    assert!(out.stderr.contains("deprecated"), "{out}");

    let mut server = coffer_conformance::CofferServer::start(coffer_conformance::ServerOptions {
        data_dir: data.clone(),
        log_dir: dir.path().join("logs"),
        tls: None,
    });
    let log = std::fs::read_to_string(server.stderr_path()).unwrap_or_default();
    assert_eq!(
        log.matches("deprecated").count(),
        1,
        "one deprecation warning:\n{log}"
    );
    assert!(log.contains("zstd_level → [engine] zstd_level"), "{log}");
    let status = server.terminate(Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

/// A failover list is not built yet: a list of two stores is refused, not
/// half-used, and the refused start creates nothing.
#[test]
fn a_list_of_two_stores_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("stores.toml");
    std::fs::write(
        &file,
        format!(
            "[[storage.stores]]\nname = \"primary\"\npath = \"{0}/a\"\n\n\
             [[storage.stores]]\nname = \"fallback\"\npath = \"{0}/b\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let out = cofferd(
        &[
            "--config",
            file.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[("COFFER_DATA_DIR", data.to_str().unwrap())],
    );
    out.assert_failed();
    assert!(out.stderr.contains("[storage] stores"), "{out}");
    assert!(out.stderr.contains("a list of 2"), "{out}");
    assert!(!data.exists(), "a refused start created the data directory");
    assert!(!dir.path().join("a").exists() && !dir.path().join("b").exists());
}

/// One local store outside the data directory holds the repository (its
/// config and packs); the data directory keeps the master key and metadata.
#[test]
fn a_local_store_elsewhere_holds_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let store = dir.path().join("store");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("cofferd.toml"),
        format!(
            "[[storage.stores]]\nname = \"disk\"\npath = \"{}\"\n",
            store.display()
        ),
    )
    .unwrap();
    let opts = || coffer_conformance::ServerOptions {
        data_dir: data.clone(),
        log_dir: dir.path().join("logs"),
        tls: None,
    };
    let mut server = coffer_conformance::CofferServer::start(opts());
    assert!(
        store.join("config").join("repo").is_file(),
        "config in the store"
    );
    assert!(data.join("master.key").is_file() && data.join("meta.redb").is_file());
    assert!(
        !data.join("config").exists(),
        "no config in the data directory"
    );
    let status = server.terminate(Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    // And it opens again from there.
    let mut server = coffer_conformance::CofferServer::start(opts());
    server.assert_alive();
    let status = server.terminate(Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

/// Without the kit's root key the first start generates one, prints it once
/// (read with the server's own reader) and it signs; a graceful restart prints
/// no secret.
#[test]
fn without_a_given_root_key_one_is_generated_and_printed_once() {
    let mut t =
        coffer_conformance::TestEnv::with_server("generated-root", |b| b.generated_root_key());
    let first = t
        .server
        .startup()
        .first_start
        .clone()
        .expect("a first start");
    assert_ne!(first.root_access_key, ACCESS_KEY);
    let secret = first
        .root_secret_key
        .clone()
        .expect("a generated secret is printed");
    assert!(secret.len() >= 30, "{first:?}");
    assert!(
        t.server
            .startup_lines()
            .iter()
            .any(|l| l == coffer_server::startup_lines::SAVE_ROOT_SECRET),
        "the generated secret is followed by the line saying to save it"
    );
    let signed = |t: &coffer_conformance::TestEnv| {
        let mut c = t.aws_cmd(AwsCli::V2, &["s3api", "list-buckets"]);
        c.env("AWS_ACCESS_KEY_ID", &first.root_access_key)
            .env("AWS_SECRET_ACCESS_KEY", &secret);
        coffer_conformance::run_cmd(c, coffer_conformance::clients::CLIENT_TIMEOUT)
    };
    signed(&t).assert_ok();
    let status = t
        .server
        .restart_after(coffer_conformance::Stop::Term(Duration::from_secs(20)));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert_eq!(t.server.startup().first_start, None);
    let lines = t.server.startup_lines().join("\n");
    assert!(!lines.contains(&secret), "{lines}");
    signed(&t).assert_ok();
}
