//! `[storage]`: the list of stores that hold the repository's objects.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::ConfigError;

/// `[storage]`: where the repository's objects live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// The stores, as `[[storage.stores]]` tables; by default one local store
    /// named `local` in the data directory.
    #[serde(default = "default_stores")]
    pub stores: Vec<StoreConfig>,
}

/// One `[[storage.stores]]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Name of the store, unique in the list; recorded with what it holds.
    pub name: String,
    /// What kind of store it is.
    #[serde(default)]
    pub kind: StoreKind,
    /// Directory of a `local` store; defaults to the data directory.
    #[serde(default)]
    pub path: Option<PathBuf>,
}

/// The kinds of store a config can name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// A directory on this machine.
    #[default]
    Local,
    /// An S3 bucket: accepted by the parser so the error can say it is not
    /// built yet, instead of "unknown variant".
    S3,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::Local => "local",
            StoreKind::S3 => "s3",
        }
    }
}

/// A store as the server opens it: its defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    Local { name: String, path: PathBuf },
}

impl Store {
    pub fn name(&self) -> &str {
        match self {
            Store::Local { name, .. } => name,
        }
    }
}

/// The name of the store in the default list: the one that pack records
/// written before stores had names refer to, so it is the engine's constant.
pub const DEFAULT_STORE_NAME: &str = crate::engine::DEFAULT_STORE;

fn default_stores() -> Vec<StoreConfig> {
    vec![StoreConfig {
        name: DEFAULT_STORE_NAME.to_owned(),
        kind: StoreKind::Local,
        path: None,
    }]
}

impl Default for StorageSection {
    fn default() -> Self {
        StorageSection {
            stores: default_stores(),
        }
    }
}

impl StorageSection {
    /// Checks the list and fills in each store's defaults.
    pub fn resolve(&self, data_dir: &Path) -> Result<Vec<Store>, ConfigError> {
        if self.stores.is_empty() {
            return Err(ConfigError::Invalid(
                "[storage] stores must list at least one store".to_owned(),
            ));
        }
        let mut stores: Vec<Store> = Vec::with_capacity(self.stores.len());
        for s in &self.stores {
            if s.name.is_empty() {
                return Err(ConfigError::Invalid(
                    "[[storage.stores]] name must not be empty".to_owned(),
                ));
            }
            if stores.iter().any(|seen| seen.name() == s.name) {
                return Err(ConfigError::Invalid(format!(
                    "[[storage.stores]] name {:?} is used twice; store names must be unique",
                    s.name
                )));
            }
            match s.kind {
                StoreKind::Local => stores.push(Store::Local {
                    name: s.name.clone(),
                    path: s.path.clone().unwrap_or_else(|| data_dir.to_owned()),
                }),
                StoreKind::S3 => {
                    return Err(ConfigError::StoreKindNotBuilt {
                        name: s.name.clone(),
                        kind: s.kind.as_str(),
                    });
                }
            }
        }
        Ok(stores)
    }
}
