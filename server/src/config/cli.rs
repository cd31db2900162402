//! `cofferd`'s command line, built from [`SETTINGS`]: one flag per setting
//! that has one, plus `--config` and `--print-config`.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use toml::Value;

use super::Config;
use super::settings::{SETTINGS, Setting, get};

/// The parsed command line: the flags that were given, each with its value
/// already parsed to the type of its setting.
#[derive(Debug, Default, Clone)]
pub struct Cli {
    /// `--config PATH`: the TOML file to read.
    pub config: Option<PathBuf>,
    /// `--print-config`: print the effective configuration and exit.
    pub print_config: bool,
    pub(super) values: Vec<(&'static Setting, Value)>,
}

impl Cli {
    /// Parses the process's arguments; prints help, version or the error and
    /// exits the way clap does.
    pub fn parse() -> Cli {
        Cli::from_matches(&command().get_matches())
    }

    pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        Ok(Cli::from_matches(&command().try_get_matches_from(args)?))
    }

    fn from_matches(m: &ArgMatches) -> Cli {
        let values = SETTINGS
            .iter()
            .filter_map(|s| {
                let flag = s.flag?;
                m.get_one::<Value>(flag).map(|v| (s, v.clone()))
            })
            .collect();
        Cli {
            config: m.get_one::<PathBuf>("config").cloned(),
            print_config: m.get_flag("print-config"),
            values,
        }
    }
}

/// The clap command: `--help` lists every flag with its default.
pub fn command() -> Command {
    let defaults = Config::default().to_tree().unwrap_or_default();
    let mut cmd = Command::new("cofferd")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Coffer: S3-compatible backup storage server")
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .help("TOML config file [default: <data-dir>/cofferd.toml if it exists]"),
        )
        .arg(
            Arg::new("print-config")
                .long("print-config")
                .action(ArgAction::SetTrue)
                .help("Print the effective configuration as TOML (secrets redacted) and exit"),
        );
    for s in SETTINGS {
        let Some(flag) = s.flag else { continue };
        let kind = s.kind;
        let help = match get(&defaults, s.path) {
            Some(Value::String(d)) => format!("{} [default: {d}]", s.help),
            Some(d) => format!("{} [default: {d}]", s.help),
            None => s.help.to_owned(),
        };
        cmd = cmd.arg(
            Arg::new(flag)
                .long(flag)
                .value_name(s.value_name)
                .allow_hyphen_values(kind.is_signed())
                .value_parser(move |text: &str| kind.parse(text))
                .help(help),
        );
    }
    cmd
}
