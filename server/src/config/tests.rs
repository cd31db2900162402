//! The configuration's contract: defaults, layering, the flat file of before
//! sections, errors, redaction.

use super::*;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn cli(args: &[&str]) -> Cli {
    let mut argv = vec!["cofferd"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).unwrap()
}

#[test]
fn defaults_match_the_interface() {
    let c = Config::load(&cli(&["--data-dir", "/nonexistent/coffer"]), &env_of(&[])).unwrap();
    assert_eq!(c.s3.listen, "127.0.0.1:9000");
    assert_eq!(c.s3.region, "us-east-1");
    assert_eq!(c.server.log, "info");
    assert_eq!(
        c.engine.chunker,
        ChunkerConfig {
            min_size: 262_144,
            avg_size: 1_048_576,
            max_size: 4_194_304
        }
    );
    assert_eq!(
        Config::default().server.data_dir,
        PathBuf::from("./coffer-data")
    );
    assert!(c.s3.tls_cert.is_none() && c.s3.domain.is_none());
}

#[test]
fn every_field_has_a_serde_default() {
    let c: Config = toml::from_str("").unwrap();
    assert_eq!(c, Config::default());
    let c: Config = toml::from_str("[engine.chunker]\nmin_size = 1024\n").unwrap();
    assert_eq!(c.engine.chunker.avg_size, sections::default_chunk_avg());
}

#[test]
fn precedence_default_file_env_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "[server]\nlog = \"warn\"\n[s3]\nlisten = \"127.0.0.1:1111\"\nregion = \"file-region\"\n[engine]\nzstd_level = 5\n").unwrap();
    let file_arg = file.to_str().unwrap();

    // file over default
    let c = Config::load(&cli(&["--config", file_arg]), &env_of(&[])).unwrap();
    assert_eq!(
        (
            c.s3.listen.as_str(),
            c.s3.region.as_str(),
            c.engine.zstd_level
        ),
        ("127.0.0.1:1111", "file-region", 5)
    );
    assert_eq!(c.engine.seal_threads, 0);

    // env over file
    let env = env_of(&[
        ("COFFER_LISTEN", "127.0.0.1:2222"),
        ("COFFER_REGION", "env-region"),
        ("RUST_LOG", "debug"),
    ]);
    let c = Config::load(&cli(&["--config", file_arg]), &env).unwrap();
    assert_eq!(
        (
            c.s3.listen.as_str(),
            c.s3.region.as_str(),
            c.engine.zstd_level
        ),
        ("127.0.0.1:2222", "env-region", 5)
    );
    assert_eq!(c.server.log, "debug");

    // flag over env
    let c = Config::load(
        &cli(&["--config", file_arg, "--listen", "127.0.0.1:3333"]),
        &env,
    )
    .unwrap();
    assert_eq!(
        (c.s3.listen.as_str(), c.s3.region.as_str()),
        ("127.0.0.1:3333", "env-region")
    );

    // COFFER_LOG beats RUST_LOG; --log beats both
    let env = env_of(&[("COFFER_LOG", "trace"), ("RUST_LOG", "debug")]);
    assert_eq!(
        Config::load(&cli(&["--config", file_arg]), &env)
            .unwrap()
            .server
            .log,
        "trace"
    );
    assert_eq!(
        Config::load(&cli(&["--config", file_arg, "--log", "error"]), &env)
            .unwrap()
            .server
            .log,
        "error"
    );
}

#[test]
fn config_file_is_found_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(DEFAULT_CONFIG_FILE),
        "[s3]\nregion = \"from-data-dir\"\n",
    )
    .unwrap();
    let env = env_of(&[("COFFER_DATA_DIR", dir.path().to_str().unwrap())]);
    assert_eq!(
        Config::load(&Cli::default(), &env).unwrap().s3.region,
        "from-data-dir"
    );
}

#[test]
fn explicit_missing_file_and_unknown_keys_are_errors() {
    assert!(matches!(
        Config::load(&cli(&["--config", "/nonexistent/c.toml"]), &env_of(&[])),
        Err(ConfigError::Read { .. })
    ));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, "lsten = \"x\"\n").unwrap();
    assert!(matches!(
        Config::load(&cli(&["--config", file.to_str().unwrap()]), &env_of(&[])),
        Err(ConfigError::Parse { .. })
    ));
}

#[test]
fn bad_env_values_name_the_variable() {
    let err = Config::load(&Cli::default(), &env_of(&[("COFFER_ZSTD_LEVEL", "high")])).unwrap_err();
    assert!(err.to_string().contains("COFFER_ZSTD_LEVEL"), "{err}");
}

#[test]
fn empty_env_values_count_as_unset() {
    let c = Config::load(
        &cli(&["--data-dir", "/nonexistent"]),
        &env_of(&[("COFFER_LISTEN", "")]),
    )
    .unwrap();
    assert_eq!(c.s3.listen, "127.0.0.1:9000");
}

#[test]
fn root_key_from_env_is_redacted_in_debug() {
    let env = env_of(&[
        ("COFFER_ROOT_ACCESS_KEY", "AKIDTEST"),
        ("COFFER_ROOT_SECRET_KEY", "supersecretvalue"),
    ]);
    let c = Config::load(&cli(&["--data-dir", "/nonexistent"]), &env).unwrap();
    assert_eq!(c.engine.root_access_key.as_deref(), Some("AKIDTEST"));
    assert!(!format!("{c:?}").contains("supersecretvalue"));
    assert_eq!(
        c.engine_options().root_secret_key.as_deref(),
        Some("supersecretvalue")
    );
    // One without the other is refused.
    let env = env_of(&[("COFFER_ROOT_ACCESS_KEY", "AKIDTEST")]);
    assert!(Config::load(&cli(&["--data-dir", "/nonexistent"]), &env).is_err());
}

#[test]
fn invalid_values_are_refused() {
    let none = env_of(&[]);
    assert!(Config::load(&cli(&["--data-dir", "/x", "--listen", "nowhere"]), &none).is_err());
    assert!(Config::load(&cli(&["--data-dir", "/x", "--zstd-level", "0"]), &none).is_err());
    assert!(Config::load(&cli(&["--data-dir", "/x", "--clock-speedup", "0"]), &none).is_err());
    assert!(
        Config::load(
            &cli(&["--data-dir", "/x", "--chunk-min-size", "9000000"]),
            &none
        )
        .is_err()
    );
    assert!(Config::load(&cli(&["--data-dir", "/x", "--tls-cert", "/c.pem"]), &none).is_err());
}

#[test]
fn a_read_buffer_too_small_for_two_chunks_is_refused() {
    let load = |env: &[(&str, &str)]| Config::load(&cli(&["--data-dir", "/x"]), &env_of(env));
    // Twice the default 4 MiB max_size plus 64 KiB is the least accepted.
    let least = (2 * 4_194_304 + 65_536).to_string();
    let short = (2 * 4_194_304 + 65_535).to_string();
    let err = load(&[("COFFER_READ_BUFFER_BYTES", &short)]).unwrap_err();
    assert!(
        err.to_string()
            .contains("read_buffer_bytes must be at least twice"),
        "{err}"
    );
    let c = load(&[("COFFER_READ_BUFFER_BYTES", &least)]).unwrap();
    assert_eq!(c.engine_read_buffer_bytes(), 2 * 4_194_304 + 65_536);
    // A smaller chunker needs a smaller budget.
    let c = load(&[
        ("COFFER_READ_BUFFER_BYTES", "1000000"),
        ("COFFER_CHUNK_MIN_SIZE", "1024"),
        ("COFFER_CHUNK_AVG_SIZE", "4096"),
        ("COFFER_CHUNK_MAX_SIZE", "16384"),
    ])
    .unwrap();
    assert_eq!(c.engine_read_buffer_bytes(), 1_000_000);
    assert_eq!(
        load(&[]).unwrap().engine_read_buffer_bytes(),
        256 << 20,
        "the default"
    );
}

#[cfg(unix)]
#[test]
fn world_readable_tls_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&key, "k").unwrap();
    std::fs::write(&cert, "c").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let args = [
        "--data-dir",
        "/x",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let err = Config::load(&cli(&args), &env_of(&[])).unwrap_err();
    assert!(
        matches!(err, ConfigError::KeyReadableByEveryone { mode: 0o644, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Config::load(&cli(&args), &env_of(&[])).is_ok());
}

#[test]
fn log_filter_silences_s3s_and_rustls_sni_warnings_unless_asked() {
    let mut c = Config::default();
    assert_eq!(c.log_filter(), "info,s3s=off,rustls::msgs::handshake=error");
    c.server.log = "info,s3s=debug,rustls=warn".into();
    assert_eq!(c.log_filter(), "info,s3s=debug,rustls=warn");
}

fn load_file(text: &str) -> Result<Config, ConfigError> {
    load_file_with(text, &[], &env_of(&[]))
}

fn load_file_with(
    text: &str,
    args: &[&str],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, text).unwrap();
    let mut argv = vec!["--config", file.to_str().unwrap()];
    argv.extend_from_slice(args);
    Config::load(&cli(&argv), env)
}

/// Today's keys in the layout they had before sections, as an existing
/// deployment's `cofferd.toml` has them.
const FLAT_FILE: &str = r#"
data_dir = "/srv/coffer"
listen = "0.0.0.0:9100"
region = "eu-west-3"
domain = "s3.example.com"
admin_listen = "127.0.0.1:9200"
admin_token = "flat-admin-token"
root_access_key = "AKIDFLAT"
root_secret_key = "flat-root-secret"
zstd_level = 7
seal_threads = 3
clock_speedup = 2.5
log = "debug"

[chunker]
min_size = 1024
avg_size = 4096
max_size = 16384
"#;

const SECTIONED_FILE: &str = r#"
[server]
data_dir = "/srv/coffer"
log = "debug"

[s3]
listen = "0.0.0.0:9100"
region = "eu-west-3"
domain = "s3.example.com"

[admin]
listen = "127.0.0.1:9200"
token = "flat-admin-token"

[engine]
root_access_key = "AKIDFLAT"
root_secret_key = "flat-root-secret"
zstd_level = 7
seal_threads = 3
clock_speedup = 2.5

[engine.chunker]
min_size = 1024
avg_size = 4096
max_size = 16384
"#;

#[test]
fn a_flat_file_of_before_sections_loads_as_its_sectioned_form_with_one_warning() {
    let flat = load_file(FLAT_FILE).unwrap();
    let sectioned = load_file(SECTIONED_FILE).unwrap();
    assert_eq!(
        flat.to_tree().unwrap(),
        sectioned.to_tree().unwrap(),
        "the flat file maps onto the sectioned one"
    );
    assert_eq!(flat.admin_token(), Some("flat-admin-token"));
    assert_eq!(
        flat.engine_options().root_secret_key.as_deref(),
        Some("flat-root-secret")
    );
    assert_eq!(flat.engine.chunker.avg_size, 4096);
    assert_eq!(flat.warnings().len(), 1, "{:?}", flat.warnings());
    let w = &flat.warnings()[0];
    assert!(w.contains("deprecated"), "{w}");
    assert!(w.contains("listen → [s3] listen"), "{w}");
    assert!(
        w.contains("chunker.min_size → [engine.chunker] min_size"),
        "{w}"
    );
    assert!(
        sectioned.warnings().is_empty(),
        "{:?}",
        sectioned.warnings()
    );
}

#[test]
fn a_setting_given_both_flat_and_sectioned_is_refused() {
    let err = load_file("listen = \"127.0.0.1:1\"\n[s3]\nlisten = \"127.0.0.1:2\"\n").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
    assert!(err.to_string().contains("`listen`"), "{err}");
}

#[test]
fn unknown_keys_name_the_key_and_its_section() {
    let err = load_file("[s3]\nlsten = \"127.0.0.1:1\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConfigError::Parse { .. }), "{msg}");
    assert!(msg.contains("lsten") && msg.contains("s3"), "{msg}");

    let err = load_file("[engine.chunker]\nmean_size = 5\n").unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("mean_size") && msg.contains("chunker"),
        "{msg}"
    );

    let err = load_file("[workers]\ngc_interval = 5\n").unwrap_err();
    assert!(err.to_string().contains("gc_interval"), "{err}");

    let err = load_file("[[storage.stores]]\nname = \"a\"\nbucket = \"b\"\n").unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("bucket") && msg.contains("stores"), "{msg}");
}

#[test]
fn every_setting_is_reachable_from_its_env_variables_and_its_flag() {
    for s in settings::SETTINGS {
        let sample = match s.kind {
            settings::Kind::Str | settings::Kind::Secret => "sample-text",
            settings::Kind::Path => "/sample/path",
            settings::Kind::I32
            | settings::Kind::U32
            | settings::Kind::U64
            | settings::Kind::Usize => "12345",
            settings::Kind::F64 => "12345.5",
        };
        let expected = s.kind.parse(sample).unwrap();
        for name in s.env {
            let mut tree = Table::new();
            for (s, v) in env_layer(&env_of(&[(name, sample)])).unwrap() {
                settings::set(&mut tree, s.path, v);
            }
            let c = Config::deserialize(Value::Table(tree))
                .unwrap_or_else(|e| panic!("{name} sets no field: {e}"));
            let got = settings::get(&c.to_tree().unwrap(), s.path).cloned();
            let want = if s.kind == settings::Kind::Secret {
                Value::String(REDACTED.to_owned())
            } else {
                expected.clone()
            };
            assert_eq!(got, Some(want), "{name} → {}", s.dotted());
        }
        if let Some(flag) = s.flag {
            let flag = format!("--{flag}");
            let parsed = cli(&[&flag, sample]);
            assert_eq!(parsed.values.len(), 1, "{flag}");
            assert!(std::ptr::eq(parsed.values[0].0, s), "{flag}");
            assert_eq!(parsed.values[0].1, expected, "{flag}");
        }
    }
}

#[test]
fn every_variable_and_flag_of_before_sections_still_exists() {
    let envs: Vec<&str> = settings::SETTINGS
        .iter()
        .flat_map(|s| s.env.iter().copied())
        .collect();
    for name in [
        "COFFER_DATA_DIR",
        "COFFER_LISTEN",
        "COFFER_TLS_CERT",
        "COFFER_TLS_KEY",
        "COFFER_REGION",
        "COFFER_DOMAIN",
        "COFFER_ROOT_ACCESS_KEY",
        "COFFER_ROOT_SECRET_KEY",
        "COFFER_ADMIN_LISTEN",
        "COFFER_ADMIN_TOKEN",
        "COFFER_LOG",
        "RUST_LOG",
        "COFFER_ZSTD_LEVEL",
        "COFFER_SEAL_THREADS",
        "COFFER_CLOCK_SPEEDUP",
        "COFFER_CHUNK_MIN_SIZE",
        "COFFER_CHUNK_AVG_SIZE",
        "COFFER_CHUNK_MAX_SIZE",
    ] {
        assert!(envs.contains(&name), "{name} is gone");
    }
    for flag in [
        "--data-dir",
        "--listen",
        "--tls-cert",
        "--tls-key",
        "--region",
        "--domain",
        "--admin-listen",
        "--log",
        "--zstd-level",
        "--seal-threads",
        "--clock-speedup",
        "--chunk-min-size",
        "--chunk-avg-size",
        "--chunk-max-size",
    ] {
        let value = if flag == "--zstd-level" { "-1" } else { "1" };
        assert!(
            Cli::try_parse_from(["cofferd", flag, value]).is_ok(),
            "{flag} is gone"
        );
    }
    let c = Config::load(
        &cli(&["--data-dir", "/x"]),
        &env_of(&[("COFFER_CLOCK_SPEEDUP", "86400")]),
    )
    .unwrap();
    assert_eq!(c.engine_options().clock_speedup, 86400.0);
    assert_eq!(c.engine_options().clock_start, None);
    let c = Config::load(
        &cli(&["--data-dir", "/x"]),
        &env_of(&[("COFFER_CLOCK_START", "2024-01-01T00:00:00Z")]),
    )
    .unwrap();
    assert_eq!(
        c.engine_options().clock_start,
        Some(time::macros::datetime!(2024-01-01 0:00 UTC))
    );
}

#[test]
fn secrets_have_no_flag() {
    for s in settings::SETTINGS {
        if s.kind == settings::Kind::Secret {
            assert!(s.flag.is_none(), "{} has a flag", s.dotted());
        }
    }
}

#[test]
fn each_setting_is_declared_once() {
    let all = settings::SETTINGS;
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            assert_ne!(a.path, b.path, "{} declared twice", a.dotted());
            assert!(
                a.flag.is_none() || a.flag != b.flag,
                "flag {:?} used twice",
                a.flag
            );
            assert!(
                a.env.iter().all(|n| !b.env.contains(n)),
                "a variable of {} is also {}'s",
                a.dotted(),
                b.dotted()
            );
        }
    }
}

#[test]
fn the_default_store_list_is_one_local_store_in_the_data_dir() {
    let c = Config::load(&cli(&["--data-dir", "/srv/c"]), &env_of(&[])).unwrap();
    assert_eq!(
        c.stores().unwrap(),
        vec![Store::Local {
            name: "local".to_owned(),
            path: PathBuf::from("/srv/c")
        }]
    );
    let c = load_file(
        "[[storage.stores]]\nname = \"disk\"\n\n[[storage.stores]]\nname = \"other\"\nkind = \"local\"\npath = \"/mnt/b\"\n",
    )
    .unwrap();
    assert_eq!(
        c.stores().unwrap(),
        vec![
            Store::Local {
                name: "disk".to_owned(),
                path: PathBuf::from("./coffer-data")
            },
            Store::Local {
                name: "other".to_owned(),
                path: PathBuf::from("/mnt/b")
            },
        ]
    );
}

#[test]
fn bad_store_lists_are_refused() {
    let err = load_file("[[storage.stores]]\nname = \"up\"\nkind = \"s3\"\n").unwrap_err();
    assert!(
        matches!(err, ConfigError::StoreKindNotBuilt { kind: "s3", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("not built yet"), "{err}");
    assert!(err.to_string().contains("#13"), "{err}");

    let err = load_file("[[storage.stores]]\nname = \"a\"\n[[storage.stores]]\nname = \"a\"\n")
        .unwrap_err();
    assert!(err.to_string().contains("unique"), "{err}");

    let err = load_file("[storage]\nstores = []\n").unwrap_err();
    assert!(err.to_string().contains("at least one"), "{err}");

    let err = load_file("[[storage.stores]]\nname = \"a\"\nkind = \"tape\"\n").unwrap_err();
    assert!(err.to_string().contains("tape"), "{err}");

    let err = load_file("[[storage.stores]]\nkind = \"local\"\n").unwrap_err();
    assert!(err.to_string().contains("name"), "{err}");
}

#[test]
fn admin_tls_and_header_timeouts() {
    let c = Config::load(&cli(&["--data-dir", "/x"]), &env_of(&[])).unwrap();
    assert_eq!(c.s3_header_read_timeout(), Duration::from_secs(30));
    assert_eq!(c.admin_header_read_timeout(), Duration::from_secs(30));
    assert!(c.admin_tls().is_none() && c.s3_tls().is_none());

    let c = load_file_with(
        "[admin]\nheader_read_timeout_secs = 5\n",
        &["--header-read-timeout-secs", "7"],
        &env_of(&[]),
    )
    .unwrap();
    assert_eq!(c.admin_header_read_timeout(), Duration::from_secs(5));
    assert_eq!(c.s3_header_read_timeout(), Duration::from_secs(7));
    assert!(load_file("[s3]\nheader_read_timeout_secs = 0\n").is_err());

    let err = Config::load(
        &cli(&["--data-dir", "/x", "--admin-tls-cert", "/c.pem"]),
        &env_of(&[]),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("[admin] tls_cert and tls_key"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn world_readable_admin_tls_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&key, "k").unwrap();
    std::fs::write(&cert, "c").unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = env_of(&[
        ("COFFER_ADMIN_TLS_CERT", cert.to_str().unwrap()),
        ("COFFER_ADMIN_TLS_KEY", key.to_str().unwrap()),
    ]);
    let err = Config::load(&cli(&["--data-dir", "/x"]), &env).unwrap_err();
    assert!(
        matches!(err, ConfigError::KeyReadableByEveryone { mode: 0o644, .. }),
        "{err}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = Config::load(&cli(&["--data-dir", "/x"]), &env).unwrap();
    assert_eq!(
        c.admin_tls(),
        Some(TlsFiles {
            cert: &cert,
            key: &key
        })
    );
}

#[test]
fn printed_config_redacts_secrets_and_loads_back() {
    let c = load_file(FLAT_FILE).unwrap();
    let printed = c.to_toml_redacted().unwrap();
    for secret in ["flat-admin-token", "flat-root-secret"] {
        assert!(!printed.contains(secret), "{secret} printed:\n{printed}");
        assert!(!format!("{c:?}").contains(secret), "{secret} in Debug");
    }
    assert!(printed.contains(REDACTED), "{printed}");
    for section in [
        "[server]",
        "[s3]",
        "[admin]",
        "[[storage.stores]]",
        "[engine]",
        "[engine.chunker]",
    ] {
        assert!(printed.contains(section), "{section} missing:\n{printed}");
    }
    assert!(printed.contains("path = \"/srv/coffer\""), "{printed}");
    let back = load_file(&printed).unwrap();
    assert!(back.warnings().is_empty(), "printed form is sectioned");
    let mut expected = c.to_tree().unwrap();
    let mut got = back.to_tree().unwrap();
    // The printed store path is the default made explicit.
    for t in [&mut expected, &mut got] {
        settings::take(t, &["storage"]);
    }
    assert_eq!(got, expected);
    assert_eq!(back.admin_token(), Some(REDACTED));
}

#[test]
fn docs_list_every_setting_with_its_variables_and_flag() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/configuration.md");
    let docs = std::fs::read_to_string(&path).unwrap();
    for s in settings::SETTINGS {
        let key = format!("`{}`", s.path[s.path.len() - 1]);
        assert!(
            docs.contains(&key),
            "{key} ({}) not in the docs",
            s.dotted()
        );
        for name in s.env {
            assert!(
                docs.contains(&format!("`{name}`")),
                "{name} not in the docs"
            );
        }
        if let Some(flag) = s.flag {
            assert!(
                docs.contains(&format!("`--{flag} ")),
                "--{flag} not in the docs"
            );
        }
    }
    for section in [
        "[server]",
        "[s3]",
        "[admin]",
        "[storage]",
        "[engine]",
        "[workers]",
    ] {
        assert!(docs.contains(section), "{section} not in the docs");
    }
}
