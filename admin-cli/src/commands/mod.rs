//! Runs a parsed command line: resolves the server, then hands over to one command group.

mod bucket;
mod completions;
mod grant;
mod key;
mod lifecycle;
mod retention;
mod share;
mod status;
mod workers;

use crate::cli::{Cli, Command};
use crate::client::AdminClient;
use crate::config::{self, Environment};
use crate::error::CliError;
use crate::output;

/// What every command that talks to the server gets.
#[derive(Debug)]
pub struct Context {
    pub client: AdminClient,
    pub json: bool,
}

impl Context {
    /// Prints `--json` output or the people's version, whichever was asked for.
    pub fn emit(
        &self,
        json: &serde_json::Value,
        human: impl FnOnce() -> String,
    ) -> Result<(), CliError> {
        let text = if self.json {
            output::json(json)
        } else {
            human()
        };
        output::print(&text).map_err(CliError::from)
    }
}

pub fn run(cli: Cli, env: &Environment) -> Result<(), CliError> {
    // Completions need no server, so they must work before anything is configured.
    if let Command::Completions { shell } = cli.command {
        return completions::run(shell);
    }
    let settings = config::resolve(&cli.global, env)?;
    let ctx = Context {
        client: AdminClient::new(&settings.url, Some(settings.token)),
        json: cli.global.json,
    };
    match cli.command {
        Command::Bucket(cmd) => bucket::run(&ctx, cmd),
        Command::Key(cmd) => key::run(&ctx, cmd),
        Command::Grant(args) => grant::grant(&ctx, args),
        Command::Revoke(args) => grant::revoke(&ctx, args),
        Command::Status => status::run(&ctx),
        Command::Share(args) => share::run(&ctx, args),
        Command::Workers => workers::run(&ctx),
        Command::Lifecycle(cmd) => lifecycle::run(&ctx, cmd),
        Command::Retention(cmd) => retention::run(&ctx, cmd),
        Command::Completions { .. } => Ok(()),
    }
}
