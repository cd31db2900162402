//! cofferd, the Coffer daemon: reads the configuration, sets up logging and
//! the runtime, and runs the app root (`coffer_server::app`) until
//! SIGTERM/SIGINT, then shuts it down cleanly.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use coffer_server::app::{App, AppSettings};
use coffer_server::config::{Cli, Config};

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
        return say(&config.to_toml_redacted().context("--print-config")?)
            .context("writing to stdout");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(coffer_server::blocking_pool::MAX_THREADS)
        .build()
        .context("starting the runtime")?;
    runtime.block_on(run(config))
}

async fn run(config: Config) -> anyhow::Result<()> {
    let shutdown = shutdown_signal()?;
    let settings = AppSettings::default();
    let app = App::start(&config, settings, &mut say).await?;
    shutdown.await;
    app.shutdown().await;
    Ok(())
}

/// Start-up lines go to stdout, flushed at once: a harness waits for them.
fn say(lines: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{lines}")?;
    out.flush()
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
