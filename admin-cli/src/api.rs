//! The admin API's answers as the tables need them. `--json` prints the server's JSON as it came,
//! so these types only have to be as strict as the tables are.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::client::ApiError;

/// `GET /v1/health`.
#[derive(Debug, Deserialize)]
pub struct Health {
    pub status: String,
    #[serde(default)]
    pub version: Option<String>,
}

/// `GET /v1/status`. Counters are optional so an older or newer server still prints.
#[derive(Debug, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub uptime_seconds: Option<u64>,
    #[serde(default)]
    pub buckets: Option<u64>,
    #[serde(default)]
    pub objects: Option<u64>,
    #[serde(default)]
    pub versions: Option<u64>,
    #[serde(default)]
    pub logical_bytes: Option<u64>,
    #[serde(default)]
    pub stored_bytes: Option<u64>,
    #[serde(default)]
    pub dedup_ratio: Option<f64>,
    #[serde(default)]
    pub packs: Option<u64>,
    #[serde(default)]
    pub chunks: Option<u64>,
}

/// One grant. In a key's `grants` the key is implied; in a bucket's, the bucket is; so both
/// names are optional.
#[derive(Debug, Deserialize)]
pub struct Grant {
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub bucket: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub write: bool,
    #[serde(default)]
    pub delete: bool,
    #[serde(default)]
    pub owner: bool,
}

impl Grant {
    /// `read, write` — the permissions in words.
    pub fn permissions(&self) -> String {
        let words: Vec<&str> = [
            (self.read, "read"),
            (self.write, "write"),
            (self.delete, "delete"),
            (self.owner, "owner"),
        ]
        .into_iter()
        .filter_map(|(on, word)| on.then_some(word))
        .collect();
        if words.is_empty() {
            "none".to_owned()
        } else {
            words.join(", ")
        }
    }

    /// `rw--` — the permissions in four columns' worth of letters (read, write, delete, owner).
    pub fn letters(&self) -> String {
        [
            (self.read, 'r'),
            (self.write, 'w'),
            (self.delete, 'd'),
            (self.owner, 'o'),
        ]
        .into_iter()
        .map(|(on, c)| if on { c } else { '-' })
        .collect()
    }

    pub fn prefix(&self) -> &str {
        self.prefix.as_deref().unwrap_or("")
    }
}

/// A bucket from `GET /v1/buckets`, `GET /v1/buckets/{name}`, `POST /v1/buckets`.
#[derive(Debug, Deserialize)]
pub struct Bucket {
    pub name: String,
    /// RFC 3339 or Unix seconds: the contract does not say which.
    #[serde(default)]
    pub created: Value,
    /// A string such as `Enabled` or a boolean: the contract does not say which.
    #[serde(default)]
    pub versioning: Value,
    #[serde(default)]
    pub objects: Option<u64>,
    #[serde(default)]
    pub logical_bytes: Option<u64>,
    #[serde(default)]
    pub grants: Vec<Grant>,
}

/// An access key from `GET /v1/keys` and friends; `secret_access_key` only from `POST /v1/keys`.
#[derive(Debug, Deserialize)]
pub struct Key {
    pub access_key_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub created: Value,
    #[serde(default)]
    pub expires: Value,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub grants: Vec<Grant>,
    #[serde(default)]
    pub secret_access_key: Option<String>,
}

fn yes() -> bool {
    true
}

/// `POST /v1/share`.
#[derive(Debug, Deserialize)]
pub struct Share {
    pub url: String,
}

/// Reads an answer into `T`; a mismatch is the server breaking the contract (exit 3).
pub fn decode<T: DeserializeOwned>(base: &str, value: &Value) -> Result<T, ApiError> {
    T::deserialize(value).map_err(|e| ApiError::BadAnswer {
        url: base.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grants_render_in_words_and_letters() {
        let g: Grant =
            serde_json::from_value(json!({"bucket":"b","read":true,"delete":true})).unwrap();
        assert_eq!(g.permissions(), "read, delete");
        assert_eq!(g.letters(), "r-d-");
        assert_eq!(g.prefix(), "");
        let g: Grant = serde_json::from_value(json!({"bucket":"b","prefix":null})).unwrap();
        assert_eq!(g.permissions(), "none");
    }

    #[test]
    fn keys_decode_leniently_but_need_an_id() {
        let k: Key = decode("u", &json!({"access_key_id":"AK","extra":1})).unwrap();
        assert!(k.enabled && !k.is_admin && k.grants.is_empty());
        let e = decode::<Key>("u", &json!({"name":"x"})).unwrap_err();
        assert_eq!(e.exit_code(), 3);
    }
}
