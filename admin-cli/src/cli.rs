//! The command line: every subcommand and flag of `coffer`, as clap parses them.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};
use clap_complete::Shell;
use coffer_admin_api::{
    PLAN_DEFAULT_LIMIT, PLAN_MAX_LIMIT, RETENTION_PLAN_DEFAULT_LIMIT, RETENTION_PLAN_MAX_LIMIT,
};

use crate::duration::parse_duration;
use crate::target::{
    GrantTarget, ObjectTarget, RuleTarget, parse_grant_target, parse_object_target,
    parse_rule_target,
};

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
    /// A bucket's retention rules (restic's forget policy, applied hourly) and what they keep
    #[command(subcommand, arg_required_else_help = true)]
    Retention(RetentionCommand),
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

/// The ids of the `--keep-*` options in [`PolicyArgs`], for the groups that
/// require one of them (clap names an argument after its field).
const KEEP_ARGS: [&str; 12] = [
    "keep_last",
    "keep_hourly",
    "keep_daily",
    "keep_weekly",
    "keep_monthly",
    "keep_yearly",
    "keep_within",
    "keep_within_hourly",
    "keep_within_daily",
    "keep_within_weekly",
    "keep_within_monthly",
    "keep_within_yearly",
];
const GROUPING_ARGS: [&str; 2] = ["per_key", "series"];

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Set the rule for a bucket or prefix, replacing the one it had
    #[command(
        long_about = "Set the rule for a bucket or prefix, replacing the one it had.\n\n\
            The options are restic's `forget` ones, with its meaning (restic 0.14), periods \
            in UTC. A key is governed by the rule with the longest prefix that matches it. \
            The `retention` worker applies the rules every hour; what a policy lets go is \
            removed through the normal delete paths, and versions under object lock are \
            kept until their lock allows it. `coffer retention plan` shows what a rule \
            would keep before it is set.",
        group(ArgGroup::new("grouping").required(true).args(GROUPING_ARGS)),
        group(ArgGroup::new("keep").required(true).multiple(true).args(KEEP_ARGS))
    )]
    Set {
        /// BUCKET for the whole bucket, BUCKET/PREFIX for the keys under PREFIX
        #[arg(value_name = "BUCKET[/PREFIX]", value_parser = parse_rule_target)]
        target: RuleTarget,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Show a bucket's retention rules: prefix, grouping and what each keeps
    Show { bucket: String },
    /// Remove the rule for a bucket (BUCKET) or a prefix (BUCKET/PREFIX)
    Remove {
        /// BUCKET for the whole bucket's rule, BUCKET/PREFIX for that prefix's
        #[arg(value_name = "BUCKET[/PREFIX]", value_parser = parse_rule_target)]
        target: RuleTarget,
    },
    /// List what the rules keep and remove, and why, as restic's `forget --dry-run` does
    #[command(
        long_about = "List what the rules keep and remove, and why, as restic's \
            `forget --dry-run` does.\n\n\
            Without --keep-* options, the stored rules: all of them for BUCKET, the one for \
            exactly PREFIX for BUCKET/PREFIX (BUCKET/ for the whole bucket's rule alone). \
            With --keep-* options (and --per-key or --series), the rule they make for \
            BUCKET[/PREFIX], as if it were set; nothing is stored.",
        group(ArgGroup::new("grouping").args(GROUPING_ARGS).requires("keep")),
        group(
            ArgGroup::new("keep")
                .multiple(true)
                .args(KEEP_ARGS)
                .requires("grouping")
        )
    )]
    Plan {
        /// BUCKET, BUCKET/ or BUCKET/PREFIX (see above)
        #[arg(value_name = "BUCKET[/PREFIX]", value_parser = parse_rule_target)]
        target: RuleTarget,
        /// List at most this many backups (rule by rule, in key order); the counts are of all
        #[arg(
            long,
            value_name = "N",
            default_value_t = RETENTION_PLAN_DEFAULT_LIMIT,
            value_parser = clap::value_parser!(u64).range(1..=RETENTION_PLAN_MAX_LIMIT)
        )]
        limit: u64,
        #[command(flatten)]
        policy: PolicyArgs,
    },
}

/// What one backup is, and restic's `forget` options. Which of them are
/// required differs between `set` and `plan`, so the groups are declared
/// there, not here.
#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
#[group(skip)]
#[command(next_help_heading = "Policy")]
pub struct PolicyArgs {
    /// Each version of a key is one backup (a versioned bucket, one key overwritten by each
    /// backup); what goes is removed by version id
    #[arg(long)]
    pub per_key: bool,
    /// Each object under the prefix is one backup of one series (a new key per backup); what
    /// goes is removed as DeleteObject does (a delete marker where versioned)
    #[arg(long)]
    pub series: bool,
    /// Keep the N newest backups
    #[arg(long, value_name = "N")]
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the N latest hours that have one
    #[arg(long, value_name = "N")]
    pub keep_hourly: Option<u32>,
    /// Keep the newest backup of each of the N latest days that have one
    #[arg(long, value_name = "N")]
    pub keep_daily: Option<u32>,
    /// Keep the newest backup of each of the N latest ISO weeks that have one
    #[arg(long, value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// Keep the newest backup of each of the N latest months that have one
    #[arg(long, value_name = "N")]
    pub keep_monthly: Option<u32>,
    /// Keep the newest backup of each of the N latest years that have one
    #[arg(long, value_name = "N")]
    pub keep_yearly: Option<u32>,
    /// Keep every backup newer than SPAN before the newest one (restic's spans: 2y5m7d3h)
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub keep_within: Option<String>,
    /// Keep the newest backup of each hour within SPAN of the newest one
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub keep_within_hourly: Option<String>,
    /// Keep the newest backup of each day within SPAN of the newest one
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub keep_within_daily: Option<String>,
    /// Keep the newest backup of each ISO week within SPAN of the newest one
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub keep_within_weekly: Option<String>,
    /// Keep the newest backup of each month within SPAN of the newest one
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub keep_within_monthly: Option<String>,
    /// Keep the newest backup of each year within SPAN of the newest one
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub keep_within_yearly: Option<String>,
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

/// A restic span (`2y5m7d3h`: numbers each followed by y, m, d or h), checked
/// here so that a typo is a usage error naming the option; the server reads it.
fn parse_span(s: &str) -> Result<String, String> {
    let bad = || {
        format!("`{s}` is not a span: numbers each followed by y, m, d or h (e.g. 7d, 2y5m7d3h)")
    };
    if s.is_empty() {
        return Err(bad());
    }
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        // No digits, or more than the server's u32 holds.
        let number = rest[..digits].parse::<u32>().is_ok();
        match rest[digits..].chars().next() {
            Some('y' | 'm' | 'd' | 'h') if number => rest = &rest[digits + 1..],
            _ => return Err(bad()),
        }
    }
    Ok(s.to_owned())
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

    fn retention(args: &[&str]) -> Result<RetentionCommand, clap::Error> {
        let cli = Cli::try_parse_from([&["coffer", "retention"], args].concat())?;
        match cli.command {
            Command::Retention(cmd) => Ok(cmd),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn retention_set_needs_one_grouping_and_a_keep_option() {
        match retention(&[
            "set",
            "b/db/",
            "--series",
            "--keep-last",
            "2",
            "--keep-within-daily",
            "1m",
        ])
        .unwrap()
        {
            RetentionCommand::Set { target, policy } => {
                assert_eq!((target.bucket.as_str(), target.prefix()), ("b", "db/"));
                assert_eq!(
                    policy,
                    PolicyArgs {
                        series: true,
                        keep_last: Some(2),
                        keep_within_daily: Some("1m".into()),
                        ..PolicyArgs::default()
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        let kind = |args: &[&str]| retention(args).unwrap_err().kind();
        use clap::error::ErrorKind;
        assert_eq!(
            kind(&["set", "b", "--keep-last", "1"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["set", "b", "--per-key"]),
            ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            kind(&["set", "b", "--per-key", "--series", "--keep-last", "1"]),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(
            kind(&["set", "b", "--series", "--keep-within", "7x"]),
            ErrorKind::ValueValidation
        );
        assert_eq!(
            kind(&["set", "*", "--series", "--keep-last", "1"]),
            ErrorKind::ValueValidation
        );
    }

    #[test]
    fn retention_plan_limit_defaults_and_is_capped() {
        let limit = |args: &[&str]| -> Result<u64, clap::Error> {
            match retention(&[&["plan", "b"], args].concat())? {
                RetentionCommand::Plan { limit, .. } => Ok(limit),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(limit(&[]).unwrap(), RETENTION_PLAN_DEFAULT_LIMIT);
        assert_eq!(limit(&["--limit", "5"]).unwrap(), 5);
        assert_eq!(
            limit(&["--limit", &RETENTION_PLAN_MAX_LIMIT.to_string()]).unwrap(),
            RETENTION_PLAN_MAX_LIMIT
        );
        assert!(limit(&["--limit", "0"]).is_err());
        assert!(limit(&["--limit", &(RETENTION_PLAN_MAX_LIMIT + 1).to_string()]).is_err());
    }

    #[test]
    fn retention_plan_takes_a_rule_only_whole() {
        // No options: the stored rules. Keep options need a grouping, and the other way round.
        match retention(&["plan", "b/"]).unwrap() {
            RetentionCommand::Plan { target, policy, .. } => {
                assert_eq!(target.prefix, Some(String::new()));
                assert_eq!(policy, PolicyArgs::default());
            }
            other => panic!("{other:?}"),
        }
        assert!(retention(&["plan", "b", "--per-key", "--keep-daily", "7"]).is_ok());
        assert!(retention(&["plan", "b", "--keep-daily", "7"]).is_err());
        assert!(retention(&["plan", "b", "--series"]).is_err());
    }

    #[test]
    fn spans_are_restics() {
        for ok in ["7d", "1y6m", "2y5m7d3h", "0h", "3h2d"] {
            assert_eq!(parse_span(ok), Ok(ok.to_owned()));
        }
        for bad in ["", "7", "d", "7x", "7d ", "1.5d", "99999999999d", "7D"] {
            assert!(parse_span(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn share_expiry_is_capped_at_seven_days() {
        assert_eq!(parse_share_expiry("7d"), Ok(MAX_SHARE_SECONDS));
        assert!(parse_share_expiry("8d").is_err());
        assert!(parse_share_expiry("604801s").is_err());
    }
}
