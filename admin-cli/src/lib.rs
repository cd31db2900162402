//! coffer, the admin CLI, as a library: the binary (src/main.rs) is a thin shell
//! over [`run`], and [`client`] (with the wire types in [`api`]) is the admin API
//! client the test kit (`coffer-conformance`) drives a real cofferd with, so tests
//! talk to the server exactly as the CLI does.

pub mod api;
mod cli;
pub mod client;
mod commands;
mod config;
mod duration;
mod error;
mod human;
mod output;
mod target;

use std::process::ExitCode;

use clap::Parser;

/// Parses the process's arguments, runs the command and returns its exit code
/// (the contract in `coffer --help`).
pub fn run() -> ExitCode {
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
