//! Grants: an access key's permissions on a bucket, or on a prefix in it.

use serde::{Deserialize, Deserializer, Serialize};

/// One grant as answers carry it. In a key's `grants` the key is implied and
/// `access_key_id` is left out; in a bucket's `grants` it names the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// `*` for every bucket.
    #[serde(default)]
    pub bucket: String,
    /// Empty for the whole bucket; `null` is read as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub prefix: String,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub write: bool,
    #[serde(default)]
    pub delete: bool,
    #[serde(default)]
    pub owner: bool,
    /// May bypass GOVERNANCE retention when a request asks to.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bypass_governance: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

impl Grant {
    /// `read, write` — the permissions in words; `none` when there are none.
    pub fn permissions(&self) -> String {
        let words: Vec<&str> = [
            (self.read, "read"),
            (self.write, "write"),
            (self.delete, "delete"),
            (self.owner, "owner"),
            (self.bypass_governance, "bypass-governance"),
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

    /// `rw--` — the permissions as four letters (read, write, delete, owner).
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
}

/// `POST /v1/keys/{id}/grants`: sets (replaces) the key's grant on a bucket and prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutGrant {
    pub bucket: String,
    /// Left out (or empty) for the whole bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub write: bool,
    #[serde(default)]
    pub delete: bool,
    #[serde(default)]
    pub owner: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub bypass_governance: bool,
}

/// `DELETE /v1/keys/{id}/grants`: removes the key's grant on a bucket and prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveGrant {
    pub bucket: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
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
        assert_eq!(g.prefix, "");
        let g: Grant = serde_json::from_value(json!({"bucket":"b","prefix":null})).unwrap();
        assert_eq!(g.permissions(), "none");
        assert_eq!(g.prefix, "");
    }

    #[test]
    fn requests_leave_out_an_absent_prefix_and_refuse_unknown_fields() {
        let put = PutGrant {
            bucket: "b".into(),
            prefix: None,
            read: true,
            write: false,
            delete: false,
            owner: false,
            bypass_governance: false,
        };
        // Unset, the bypass is left out: requests read as before it existed.
        assert_eq!(
            serde_json::to_value(&put).unwrap(),
            json!({"bucket":"b","read":true,"write":false,"delete":false,"owner":false})
        );
        let bypass = PutGrant {
            bypass_governance: true,
            ..put
        };
        assert_eq!(
            serde_json::to_value(&bypass).unwrap()["bypass_governance"],
            json!(true)
        );
        assert!(serde_json::from_value::<RemoveGrant>(json!({"bucket":"b","x":1})).is_err());
        let rm: RemoveGrant = serde_json::from_value(json!({"bucket":"b"})).unwrap();
        assert_eq!(rm.prefix, None);
    }
}
