//! Where the admin API is and which token to send: flags, then environment, then
//! `~/.config/coffer/cli.toml`, each setting resolved on its own.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::cli::GlobalArgs;

/// Where cofferd's admin listener is when nothing says otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9001";

/// Problems with the local setup; all are usage errors (exit 2), none reach the server.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    ConfigParse { path: PathBuf, message: String },
    #[error("cannot read admin token file {path}: {source}")]
    TokenFileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "refusing admin token file {path}: it is accessible by group or others (mode {mode:04o}); \
         run `chmod 600 {path}`"
    )]
    TokenFileExposed { path: PathBuf, mode: u32 },
    #[error("the admin token from {from} is empty")]
    TokenEmpty { from: String },
    #[error("the admin token from {from} holds characters an HTTP header cannot carry")]
    TokenInvalid { from: String },
    #[error(
        "no admin token: pass --token-file <data-dir>/admin.token, set COFFER_ADMIN_TOKEN, \
         or set token_file in {config}"
    )]
    NoToken { config: String },
    #[error("admin API URL `{url}` (from {from}) is not usable: {reason}")]
    BadUrl {
        url: String,
        from: String,
        reason: &'static str,
    },
}

/// The process environment, gathered once so resolution can be tested without touching it.
#[derive(Debug, Default, Clone)]
pub struct Environment {
    pub admin_url: Option<String>,
    pub admin_token: Option<String>,
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
}

impl Environment {
    pub fn from_process() -> Self {
        // An empty variable is treated as unset, as shells make `VAR= coffer …` easy to type.
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Environment {
            admin_url: var("COFFER_ADMIN_URL"),
            admin_token: var("COFFER_ADMIN_TOKEN"),
            home: var("HOME").map(PathBuf::from),
            xdg_config_home: var("XDG_CONFIG_HOME").map(PathBuf::from),
        }
    }

    /// `$XDG_CONFIG_HOME/coffer/cli.toml`, else `~/.config/coffer/cli.toml`.
    pub fn config_path(&self) -> Option<PathBuf> {
        let base = match (&self.xdg_config_home, &self.home) {
            (Some(xdg), _) if xdg.is_absolute() => xdg.clone(),
            (_, Some(home)) => home.join(".config"),
            _ => return None,
        };
        Some(base.join("coffer").join("cli.toml"))
    }
}

/// `cli.toml`. No inline token on purpose: the token lives in a 0600 file, not in a config
/// file people copy around.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    url: Option<String>,
    token_file: Option<PathBuf>,
}

/// Where to send requests and with which token.
#[derive(Debug)]
pub struct Settings {
    /// Base URL without a trailing `/`.
    pub url: String,
    pub token: String,
}

/// Resolves the URL and the token, each from the first of flag, environment, config file.
pub fn resolve(flags: &GlobalArgs, env: &Environment) -> Result<Settings, ConfigError> {
    // The config file is read only when a flag or variable left something open, so a broken
    // file does not get in the way of explicit settings.
    let config_path = env.config_path();
    let token_from_outside =
        flags.token.is_some() || flags.token_file.is_some() || env.admin_token.is_some();
    let need_file = (flags.url.is_none() && env.admin_url.is_none()) || !token_from_outside;
    let file = match (&config_path, need_file) {
        (Some(path), true) => load_config(path)?,
        _ => ConfigFile::default(),
    };

    let (url, url_from) = if let Some(url) = &flags.url {
        (url.clone(), "--url".to_owned())
    } else if let Some(url) = &env.admin_url {
        (url.clone(), "COFFER_ADMIN_URL".to_owned())
    } else if let (Some(url), Some(path)) = (&file.url, &config_path) {
        (url.clone(), path.display().to_string())
    } else {
        (DEFAULT_URL.to_owned(), "the default".to_owned())
    };
    let url = check_url(&url, &url_from)?;

    let token = if let Some(token) = &flags.token {
        check_token(token, "--token")?
    } else if let Some(path) = &flags.token_file {
        read_token_file(path)?
    } else if let Some(token) = &env.admin_token {
        check_token(token, "COFFER_ADMIN_TOKEN")?
    } else if let (Some(path), Some(config)) = (&file.token_file, &config_path) {
        read_token_file(&relative_to(path, config, env.home.as_deref()))?
    } else {
        let config = config_path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "~/.config/coffer/cli.toml".to_owned());
        return Err(ConfigError::NoToken { config });
    };
    Ok(Settings { url, token })
}

fn load_config(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(source) => {
            return Err(ConfigError::ConfigRead {
                path: path.to_owned(),
                source,
            });
        }
    };
    toml::from_str(&text).map_err(|e| ConfigError::ConfigParse {
        path: path.to_owned(),
        // toml's message spans several lines with a source excerpt; one line is enough here.
        message: e.message().to_owned(),
    })
}

/// `~/x` is expanded; a relative path is taken from the config file's directory.
fn relative_to(path: &Path, config: &Path, home: Option<&Path>) -> PathBuf {
    if let (Ok(rest), Some(home)) = (path.strip_prefix("~"), home) {
        return home.join(rest);
    }
    if path.is_absolute() {
        return path.to_owned();
    }
    config
        .parent()
        .map(|dir| dir.join(path))
        .unwrap_or_else(|| path.to_owned())
}

fn check_url(url: &str, from: &str) -> Result<String, ConfigError> {
    let bad = |reason| ConfigError::BadUrl {
        url: url.to_owned(),
        from: from.to_owned(),
        reason,
    };
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| bad("it must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() {
        return Err(bad("it has no host"));
    }
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad(
            "it must be a plain base URL such as http://127.0.0.1:9001",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn check_token(token: &str, from: &str) -> Result<String, ConfigError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(ConfigError::TokenEmpty {
            from: from.to_owned(),
        });
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError::TokenInvalid {
            from: from.to_owned(),
        });
    }
    Ok(token.to_owned())
}

fn read_token_file(path: &Path) -> Result<String, ConfigError> {
    let read_err = |source| ConfigError::TokenFileRead {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // As ssh does for private keys: anyone else who can read it holds the server.
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(ConfigError::TokenFileExposed {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let text = std::fs::read_to_string(path).map_err(read_err)?;
    check_token(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn flags() -> GlobalArgs {
        GlobalArgs {
            url: None,
            token: None,
            token_file: None,
            json: false,
        }
    }

    fn private_file(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    #[test]
    fn flags_beat_environment_beat_config() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".config/coffer");
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("cli.toml"),
            "url = \"http://file:1\"\ntoken_file = \"tok\"\n",
        )
        .unwrap();
        private_file(&dir.join("tok"), "from-file\n");
        let mut env = Environment {
            home: Some(home.path().to_owned()),
            ..Default::default()
        };

        let s = resolve(&flags(), &env).unwrap();
        assert_eq!(
            (s.url.as_str(), s.token.as_str()),
            ("http://file:1", "from-file")
        );

        env.admin_url = Some("http://env:2/".into());
        env.admin_token = Some("from-env".into());
        let s = resolve(&flags(), &env).unwrap();
        assert_eq!(
            (s.url.as_str(), s.token.as_str()),
            ("http://env:2", "from-env")
        );

        let mut f = flags();
        f.url = Some("https://flag:3/prefix/".into());
        f.token = Some("from-flag".into());
        let s = resolve(&f, &env).unwrap();
        assert_eq!(
            (s.url.as_str(), s.token.as_str()),
            ("https://flag:3/prefix", "from-flag")
        );

        let mut f = flags();
        f.token_file = Some(dir.join("tok"));
        let s = resolve(&f, &env).unwrap();
        assert_eq!(
            s.token, "from-file",
            "--token-file beats COFFER_ADMIN_TOKEN"
        );
    }

    #[test]
    fn default_url_and_missing_token() {
        let home = tempfile::tempdir().unwrap();
        let env = Environment {
            home: Some(home.path().to_owned()),
            admin_token: Some("t".into()),
            ..Default::default()
        };
        assert_eq!(resolve(&flags(), &env).unwrap().url, DEFAULT_URL);
        let env = Environment {
            home: Some(home.path().to_owned()),
            ..Default::default()
        };
        assert!(matches!(
            resolve(&flags(), &env),
            Err(ConfigError::NoToken { .. })
        ));
    }

    #[test]
    fn xdg_config_home_is_honoured() {
        let env = Environment {
            home: Some("/home/a".into()),
            xdg_config_home: Some("/xdg".into()),
            ..Default::default()
        };
        assert_eq!(
            env.config_path().unwrap(),
            Path::new("/xdg/coffer/cli.toml")
        );
        let env = Environment {
            home: Some("/home/a".into()),
            xdg_config_home: Some("relative".into()),
            ..Default::default()
        };
        assert_eq!(
            env.config_path().unwrap(),
            Path::new("/home/a/.config/coffer/cli.toml")
        );
    }

    #[test]
    fn config_file_errors_are_reported_with_the_path() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".config/coffer");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("cli.toml"), "token = \"inline\"\n").unwrap();
        let env = Environment {
            home: Some(home.path().to_owned()),
            ..Default::default()
        };
        let err = resolve(&flags(), &env).unwrap_err();
        assert!(matches!(err, ConfigError::ConfigParse { .. }), "{err}");
        assert!(err.to_string().contains("cli.toml"), "{err}");
        // Explicit settings do not need the file, so its breakage does not matter.
        let mut f = flags();
        f.url = Some("http://x:1".into());
        f.token = Some("t".into());
        assert!(resolve(&f, &env).is_ok());
    }

    #[test]
    fn token_file_paths_expand_home_and_config_dir() {
        let cfg = Path::new("/etc/x/cli.toml");
        let home = Path::new("/home/a");
        assert_eq!(
            relative_to(Path::new("~/t"), cfg, Some(home)),
            Path::new("/home/a/t")
        );
        assert_eq!(
            relative_to(Path::new("t"), cfg, Some(home)),
            Path::new("/etc/x/t")
        );
        assert_eq!(
            relative_to(Path::new("/abs/t"), cfg, Some(home)),
            Path::new("/abs/t")
        );
    }

    #[cfg(unix)]
    #[test]
    fn exposed_token_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.token");
        fs::write(&path, "secret").unwrap();
        for mode in [0o644, 0o640, 0o604, 0o620] {
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
            let err = read_token_file(&path).unwrap_err();
            assert!(
                matches!(err, ConfigError::TokenFileExposed { .. }),
                "{mode:o}: {err}"
            );
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert_eq!(read_token_file(&path).unwrap(), "secret");
    }

    #[test]
    fn tokens_are_checked() {
        assert_eq!(check_token(" abc\n", "x").unwrap(), "abc");
        assert!(matches!(
            check_token(" \n", "x"),
            Err(ConfigError::TokenEmpty { .. })
        ));
        assert!(matches!(
            check_token("a b", "x"),
            Err(ConfigError::TokenInvalid { .. })
        ));
    }

    #[test]
    fn urls_are_checked() {
        assert_eq!(check_url("http://h:1/", "x").unwrap(), "http://h:1");
        assert!(check_url("h:1", "x").is_err());
        assert!(check_url("ftp://h", "x").is_err());
        assert!(check_url("http:///x", "x").is_err());
        assert!(check_url("http://h/?a", "x").is_err());
    }
}
