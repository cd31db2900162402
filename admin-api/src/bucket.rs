//! Buckets: `GET /v1/buckets`, `POST /v1/buckets`, `GET /v1/buckets/{name}`.

use serde::{Deserialize, Serialize};

use crate::{Grant, Timestamp};

/// A bucket's versioning state, as S3 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Unversioned => "Unversioned",
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }
}

/// A bucket with its current objects and their logical (uploaded) bytes;
/// `grants` only in `GET /v1/buckets/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    #[serde(default)]
    pub created: Option<Timestamp>,
    #[serde(default)]
    pub versioning: Option<Versioning>,
    #[serde(default)]
    pub objects: Option<u64>,
    #[serde(default)]
    pub logical_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
}

/// `POST /v1/buckets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBucket {
    pub name: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versioning_is_the_s3_word() {
        for v in [
            Versioning::Unversioned,
            Versioning::Enabled,
            Versioning::Suspended,
        ] {
            assert_eq!(serde_json::to_value(v).unwrap(), json!(v.as_str()));
        }
    }

    #[test]
    fn grants_are_left_out_of_listings() {
        let b: Bucket = serde_json::from_value(json!({"name":"b"})).unwrap();
        assert_eq!(b.grants, None);
        let v = serde_json::to_value(&b).unwrap();
        assert!(v.get("grants").is_none(), "{v}");
    }
}
