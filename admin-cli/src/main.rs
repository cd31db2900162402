//! coffer, the admin CLI: talks to the admin API of cofferd (buckets, keys, grants, status,
//! presigned URLs).

mod api;
mod cli;
mod client;
mod commands;
mod config;
mod duration;
mod error;
mod human;
mod output;
mod target;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits 2 (0 for --help and --version).
    let cli = cli::Cli::parse();
    match commands::run(cli, &config::Environment::from_process()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("coffer: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
