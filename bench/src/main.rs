//! coffer-bench: S3 load generator and side-by-side comparison of Coffer with its peers.

mod cli;
mod driver;
mod dumps;
mod latency;
mod null_server;
mod page_cache;
mod payload;
mod pool;
mod procfs;
mod report;
mod results;
mod s3_client;
mod scenarios;
mod servers;
mod xml;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        cli::Command::Run(args) => runtime.block_on(driver::run(*args)),
        cli::Command::NullServer { listen } => runtime.block_on(null_server::serve(listen)),
    }
}
