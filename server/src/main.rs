//! cofferd, the Coffer daemon: reads the configuration, opens (or on first
//! start creates) the repository, prints the start-up lines harnesses parse
//! (docs/configuration.md), and serves S3 until SIGTERM/SIGINT.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use coffer_server::admin::{AdminListener, AdminState, token};
use coffer_server::config::{Cli, Config, Store};
use coffer_server::engine::{Engine, InitReport};
use coffer_server::listener::Listener;
use coffer_server::s3::build_service;

/// Errors are printed as one line (`cofferd: <what>: <cause>`), without the
/// backtrace `anyhow` would add when `RUST_BACKTRACE` is set.
fn main() -> ExitCode {
    // Before the runtime starts any thread.
    coffer_server::malloc_arenas::cap();
    match start() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cofferd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn start() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli, &|name| std::env::var(name).ok()).context("configuration")?;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(config.log_filter()).context("log filter")?,
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    if cli.print_config {
        // Nothing is bound or opened: this is safe beside a running server.
        return say(&config.to_toml_redacted().context("--print-config")?);
    }
    refuse_unwired_settings(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run(config))
}

async fn run(config: Config) -> anyhow::Result<()> {
    let shutdown = shutdown_signal()?;
    // Bind first: a busy port should not leave a freshly created repository behind.
    let listener = Listener::bind(&config).await?;
    let admin_addr = config.admin_listen_addr();
    let admin_listener = AdminListener::bind(&admin_addr)
        .await
        .with_context(|| format!("binding the admin API to {admin_addr}"))?;
    let (engine, init) = Engine::open(config.engine_options())
        .await
        .with_context(|| format!("opening the repository in {}", config.data_dir().display()))?;
    if let Some(init) = init {
        print_first_start(&init)?;
    }
    let admin_token =
        token::load_or_create(config.data_dir(), config.admin_token()).context("admin token")?;
    if let Some(path) = &admin_token.created {
        say(&format!("coffer: admin token file {}", path.display()))?;
    }
    let engine = Arc::new(engine);
    let admin_state = Arc::new(AdminState {
        engine: Arc::clone(&engine),
        token: admin_token.token,
        s3_url: listener.url(),
        region: config.region().to_owned(),
        started: std::time::Instant::now(),
    });
    let service = build_service(engine, &config.s3_options());
    // Before the S3 line: harnesses stop reading stdout once they saw that one.
    say(&format!(
        "coffer: admin API listening on {}",
        admin_listener.url()
    ))?;
    say(&format!("coffer: S3 listening on {}", listener.url()))?;
    let admin = tokio::spawn(admin_listener.serve(admin_state, std::future::pending()));
    tracing::info!(addr = %listener.local_addr(), data_dir = %config.data_dir().display(), "cofferd started");
    listener.serve(service, shutdown).await;
    admin.abort();
    tracing::info!("cofferd stopped");
    Ok(())
}

/// Settings declared in the config whose consumers are not built yet: the
/// engine still keeps the repository in the data directory itself, the admin
/// listener has no TLS and neither listener a header-read timeout. Rather
/// than silently ignore them, a value other than the default is refused.
/// Each check goes when its setting gets its consumer.
fn refuse_unwired_settings(config: &Config) -> anyhow::Result<()> {
    let stores = config.stores().context("configuration")?;
    if !matches!(stores.as_slice(), [Store::Local { path, .. }] if path == config.data_dir()) {
        anyhow::bail!(
            "configuration: [storage] stores: this build keeps the repository in one local \
             store in the data directory ({}); other store lists are not supported yet",
            config.data_dir().display()
        );
    }
    if config.admin_tls().is_some() {
        anyhow::bail!(
            "configuration: [admin] tls_cert/tls_key: this build serves the admin API over \
             plain HTTP only"
        );
    }
    let default = Config::default();
    if config.s3_header_read_timeout() != default.s3_header_read_timeout()
        || config.admin_header_read_timeout() != default.admin_header_read_timeout()
    {
        anyhow::bail!(
            "configuration: header_read_timeout_secs: this build cannot change the \
             header-read timeout yet"
        );
    }
    Ok(())
}

/// Printed once, on the start that created the repository; never again.
fn print_first_start(init: &InitReport) -> anyhow::Result<()> {
    say(&format!(
        "coffer: initialised a new repository in {}\n\
         coffer: master key file {} — BACK IT UP: without it nothing stored can be read\n\
         coffer: root access key id: {}\n\
         coffer: root secret access key: {}",
        init.data_dir.display(),
        init.master_key_file.display(),
        init.root_access_key,
        init.root_secret_key
    ))
}

/// Start-up lines go to stdout, flushed at once: a harness waits for them.
fn say(lines: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{lines}").context("writing to stdout")?;
    out.flush().context("writing to stdout")
}

/// Registers the handlers at once (a signal during start-up is not lost and
/// does not kill the process half-initialised); the future completes on the
/// first SIGTERM or SIGINT.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("watching SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("watching SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("shutdown signal received");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutdown signal received");
        })
    }
}
