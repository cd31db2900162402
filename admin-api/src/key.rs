//! Access keys: `GET /v1/keys`, `POST /v1/keys` and the per-key endpoints.

use serde::{Deserialize, Serialize};

use crate::{Grant, Timestamp};

/// An access key as answers carry it; `secret_access_key` only in the answer to
/// `POST /v1/keys`, the one time the secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub access_key_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub created: Option<Timestamp>,
    /// `null` for a key that never expires.
    #[serde(default)]
    pub expires: Option<Timestamp>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub grants: Vec<Grant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

fn yes() -> bool {
    true
}

/// `POST /v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    /// Left out for a key that never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_seconds: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_decode_leniently_but_need_an_id() {
        let k: Key = serde_json::from_value(json!({"access_key_id":"AK","extra":1})).unwrap();
        assert!(k.enabled && !k.is_admin && k.grants.is_empty());
        assert_eq!((k.created, k.expires), (None, None));
        assert!(serde_json::from_value::<Key>(json!({"name":"x"})).is_err());
    }

    #[test]
    fn the_secret_is_left_out_unless_there_is_one() {
        let k: Key = serde_json::from_value(json!({"access_key_id":"AK"})).unwrap();
        let v = serde_json::to_value(&k).unwrap();
        assert!(v.get("secret_access_key").is_none(), "{v}");
        assert_eq!(v["expires"], json!(null));
    }

    #[test]
    fn create_key_leaves_out_a_missing_expiry() {
        let req = CreateKey {
            name: "laptop".into(),
            expires_in_seconds: None,
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"name":"laptop"})
        );
        assert!(serde_json::from_value::<CreateKey>(json!({"bogus":1})).is_err());
    }
}
