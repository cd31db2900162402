//! The admin API's JSON shapes (/work/notes/admin_api.md, docs/admin-cli.md).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::engine::access::{AccessKeyInfo, Grant, Permissions};
use crate::engine::{BucketInfo, VersioningState};

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[derive(Debug, Serialize)]
pub struct GrantJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    pub bucket: String,
    pub prefix: String,
    pub read: bool,
    pub write: bool,
    pub delete: bool,
    pub owner: bool,
}

impl GrantJson {
    pub fn new(g: &Grant, access_key_id: Option<String>) -> Self {
        GrantJson {
            access_key_id,
            bucket: g.bucket.clone(),
            prefix: g.prefix.clone(),
            read: g.permissions.read,
            write: g.permissions.write,
            delete: g.permissions.delete,
            owner: g.permissions.owner,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct KeyJson {
    pub access_key_id: String,
    pub name: String,
    pub created: String,
    pub expires: Option<String>,
    pub enabled: bool,
    pub is_admin: bool,
    pub grants: Vec<GrantJson>,
    /// Only in the answer to `POST /v1/keys`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<String>,
}

impl KeyJson {
    pub fn new(k: &AccessKeyInfo) -> Self {
        KeyJson {
            access_key_id: k.access_key_id.clone(),
            name: k.name.clone(),
            created: rfc3339(k.created),
            expires: k.expires.map(rfc3339),
            enabled: k.enabled,
            is_admin: k.is_admin,
            grants: k.grants.iter().map(|g| GrantJson::new(g, None)).collect(),
            secret_access_key: None,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct BucketJson {
    pub name: String,
    pub created: String,
    pub versioning: &'static str,
    pub objects: u64,
    pub logical_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<GrantJson>>,
}

impl BucketJson {
    pub fn new(b: &BucketInfo, objects: u64, logical_bytes: u64) -> Self {
        BucketJson {
            name: b.name.clone(),
            created: rfc3339(b.created),
            versioning: match b.versioning {
                VersioningState::Unversioned => "Unversioned",
                VersioningState::Enabled => "Enabled",
                VersioningState::Suspended => "Suspended",
            },
            objects,
            logical_bytes,
            grants: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBucket {
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutGrant {
    pub bucket: String,
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

impl PutGrant {
    pub fn grant(&self) -> Grant {
        Grant {
            bucket: self.bucket.clone(),
            prefix: self.prefix.clone().unwrap_or_default(),
            permissions: Permissions {
                read: self.read,
                write: self.write,
                delete: self.delete,
                owner: self.owner,
            },
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveGrant {
    pub bucket: String,
    #[serde(default)]
    pub prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Share {
    pub bucket: String,
    pub key: String,
    pub access_key_id: String,
    pub expires_in_seconds: u64,
}
