//! The command line: every subcommand and flag of `coffer`, as clap parses them.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use clap_complete::Shell;
use coffer_admin_api::{PLAN_DEFAULT_LIMIT, PLAN_MAX_LIMIT};

use crate::duration::parse_duration;
use crate::target::{GrantTarget, ObjectTarget, parse_grant_target, parse_object_target};

/// SigV4 refuses presigned URLs valid for longer than seven days.
pub const MAX_SHARE_SECONDS: u64 = 7 * 86_400;

#[derive(Debug, Parser)]
#[command(
    name = "coffer",
    version,
    about = "Administer a Coffer server through its admin API",
    long_about = "Administer a Coffer server through its admin API.\n\n\
        The server and token come from --url / --token / --token-file, then the environment \
        (COFFER_ADMIN_URL, COFFER_ADMIN_TOKEN), then ~/.config/coffer/cli.toml (url, token_file). \
        The URL defaults to http://127.0.0.1:9001.\n\n\
        Exit codes: 0 ok, 1 the server said no (4xx), 2 usage or local configuration, \
        3 server unreachable or failing (5xx), 4 admin token refused.",
    arg_required_else_help = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Admin API base URL [env: COFFER_ADMIN_URL] [default: http://127.0.0.1:9001]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,
    /// Admin token (visible to other local users in the process list; prefer --token-file)
    /// [env: COFFER_ADMIN_TOKEN]
    #[arg(
        long,
        global = true,
        value_name = "TOKEN",
        conflicts_with = "token_file"
    )]
    pub token: Option<String>,
    /// File holding the admin token, e.g. <data-dir>/admin.token (must not be readable by group
    /// or others)
    #[arg(long, global = true, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Print the admin API's JSON instead of tables
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, inspect and delete buckets
    #[command(subcommand, arg_required_else_help = true)]
    Bucket(BucketCommand),
    /// Create, list, inspect, disable, enable and delete access keys
    #[command(subcommand, arg_required_else_help = true)]
    Key(KeyCommand),
    /// Give an access key permissions on a bucket, or on a prefix of one
    Grant(GrantArgs),
    /// Remove an access key's grant on a bucket or prefix
    Revoke(RevokeArgs),
    /// Server health, buckets, objects, logical vs stored bytes, dedup ratio
    Status,
    /// Background workers: state, steps done, last success and last error
    Workers,
    /// A bucket's lifecycle rules (set by S3 clients) and what they will do
    #[command(subcommand, arg_required_else_help = true)]
    Lifecycle(LifecycleCommand),
    /// Print a presigned GET URL for one object (for curl), signed with a chosen access key
    Share(ShareArgs),
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum BucketCommand {
    /// Create a bucket
    Create { name: String },
    /// List buckets
    List,
    /// Show a bucket and the grants on it
    Info { name: String },
    /// Delete an empty bucket
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub enum LifecycleCommand {
    /// Show a bucket's lifecycle rules: filter and actions of each
    Show { bucket: String },
    /// List what the rules will do as the bucket stands, earliest first
    Plan {
        bucket: String,
        /// List at most this many actions (the earliest); the count of all is always shown
        #[arg(
            long,
            value_name = "N",
            default_value_t = PLAN_DEFAULT_LIMIT,
            value_parser = clap::value_parser!(u64).range(1..=PLAN_MAX_LIMIT)
        )]
        limit: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an access key; its secret is printed once and cannot be shown again
    Create {
        /// A name for people, e.g. the host or environment that will use the key
        name: String,
        /// Make the key expire after this long (30d, 12h, 90m, 3600s)
        #[arg(long, value_name = "DURATION", value_parser = parse_expiry)]
        expires: Option<u64>,
    },
    /// List access keys (never their secrets)
    List,
    /// Show one access key and its grants
    Info { access_key_id: String },
    /// Refuse requests signed with this key until it is enabled again
    Disable { access_key_id: String },
    /// Accept requests signed with this key again
    Enable { access_key_id: String },
    /// Delete an access key and its grants
    Delete { access_key_id: String },
}

#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("permissions")
        .required(true)
        .multiple(true)
        .args(["read", "write", "delete", "owner"])
))]
pub struct GrantArgs {
    /// Access key id
    pub access_key_id: String,
    /// BUCKET, BUCKET/PREFIX, or `*` for every bucket
    #[arg(value_name = "BUCKET[/PREFIX]", value_parser = parse_grant_target)]
    pub target: GrantTarget,
    /// GET, HEAD, LIST
    #[arg(long)]
    pub read: bool,
    /// PUT, multipart, copy into
    #[arg(long)]
    pub write: bool,
    /// DELETE of objects and versions
    #[arg(long)]
    pub delete: bool,
    /// Change bucket settings (versioning, lifecycle, lock, ...)
    #[arg(long)]
    pub owner: bool,
    /// Remove or shorten GOVERNANCE object-lock retention when a request asks to
    #[arg(long)]
    pub bypass_governance: bool,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Access key id
    pub access_key_id: String,
    /// BUCKET, BUCKET/PREFIX, or `*`, exactly as granted
    #[arg(value_name = "BUCKET[/PREFIX]", value_parser = parse_grant_target)]
    pub target: GrantTarget,
}

#[derive(Debug, Args)]
pub struct ShareArgs {
    /// The object to share
    #[arg(value_name = "BUCKET/KEY", value_parser = parse_object_target)]
    pub object: ObjectTarget,
    /// How long the URL stays valid (at most 7d)
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_share_expiry)]
    pub expires: u64,
    /// Access key id whose secret signs the URL (it needs read on the object)
    #[arg(long = "key", value_name = "AKID")]
    pub access_key_id: String,
}

fn parse_expiry(s: &str) -> Result<u64, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn parse_share_expiry(s: &str) -> Result<u64, String> {
    let seconds = parse_expiry(s)?;
    if seconds > MAX_SHARE_SECONDS {
        return Err(format!(
            "`{s}` is longer than 7d, the most a presigned URL can be valid for"
        ));
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn plan_limit_defaults_and_is_capped() {
        let limit = |args: &[&str]| -> Result<u64, clap::Error> {
            let cli = Cli::try_parse_from([&["coffer", "lifecycle", "plan", "b"], args].concat())?;
            match cli.command {
                Command::Lifecycle(LifecycleCommand::Plan { limit, .. }) => Ok(limit),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(limit(&[]).unwrap(), PLAN_DEFAULT_LIMIT);
        assert_eq!(limit(&["--limit", "5"]).unwrap(), 5);
        assert!(limit(&["--limit", "0"]).is_err());
        assert!(limit(&["--limit", "10001"]).is_err());
    }

    #[test]
    fn share_expiry_is_capped_at_seven_days() {
        assert_eq!(parse_share_expiry("7d"), Ok(MAX_SHARE_SECONDS));
        assert!(parse_share_expiry("8d").is_err());
        assert!(parse_share_expiry("604801s").is_err());
    }
}
