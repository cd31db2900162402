//! `coffer completions SHELL`: a completion script for bash, zsh, fish, elvish or powershell.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::CliError;
use crate::output;

pub fn run(shell: Shell) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "coffer", &mut script);
    output::print(&String::from_utf8_lossy(&script))?;
    Ok(())
}
