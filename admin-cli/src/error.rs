//! Everything that can stop a command, and the exit code each maps to.

use thiserror::Error;

use crate::client::ApiError;
use crate::config::ConfigError;

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// 0 ok, 1 the server said no, 2 usage or local setup, 3 unreachable or failing server,
    /// 4 admin token refused.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => 2,
            CliError::Api(e) => e.exit_code(),
            CliError::Output(_) => 1,
        }
    }
}
