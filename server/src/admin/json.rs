//! From the engine's types to the admin API's wire types (`coffer-admin-api`,
//! the crate the `coffer` CLI decodes with) and back for request bodies.

use coffer_admin_api as api;

use crate::engine::access::{AccessKeyInfo, Grant, Permissions};
use crate::engine::{BucketInfo, VersioningState};

/// A grant as answers carry it; `access_key_id` only in a bucket's grants.
pub fn grant(g: &Grant, access_key_id: Option<String>) -> api::Grant {
    api::Grant {
        access_key_id,
        bucket: g.bucket.clone(),
        prefix: g.prefix.clone(),
        read: g.permissions.read,
        write: g.permissions.write,
        delete: g.permissions.delete,
        owner: g.permissions.owner,
        bypass_governance: g.permissions.bypass_governance,
    }
}

/// An access key without its secret.
pub fn key(k: &AccessKeyInfo) -> api::Key {
    api::Key {
        access_key_id: k.access_key_id.clone(),
        name: k.name.clone(),
        created: Some(api::Timestamp::rfc3339(k.created)),
        expires: k.expires.map(api::Timestamp::rfc3339),
        enabled: k.enabled,
        is_admin: k.is_admin,
        grants: k.grants.iter().map(|g| grant(g, None)).collect(),
        secret_access_key: None,
    }
}

/// A bucket with its usage; grants are added by `GET /v1/buckets/{name}` only.
pub fn bucket(b: &BucketInfo, objects: u64, logical_bytes: u64) -> api::Bucket {
    api::Bucket {
        name: b.name.clone(),
        created: Some(api::Timestamp::rfc3339(b.created)),
        versioning: Some(match b.versioning {
            VersioningState::Unversioned => api::Versioning::Unversioned,
            VersioningState::Enabled => api::Versioning::Enabled,
            VersioningState::Suspended => api::Versioning::Suspended,
        }),
        objects: Some(objects),
        logical_bytes: Some(logical_bytes),
        grants: None,
    }
}

/// The grant a `POST /v1/keys/{id}/grants` body asks for.
pub fn grant_of(req: &api::PutGrant) -> Grant {
    Grant {
        bucket: req.bucket.clone(),
        prefix: req.prefix.clone().unwrap_or_default(),
        permissions: Permissions {
            read: req.read,
            write: req.write,
            delete: req.delete,
            owner: req.owner,
            bypass_governance: req.bypass_governance,
        },
    }
}

#[cfg(test)]
mod tests {
    //! The server's encoding, pinned as it was before the wire types were shared,
    //! and read back with the types the CLI decodes with.

    use super::*;
    use serde_json::{Value, json};
    use time::macros::datetime;

    fn info() -> AccessKeyInfo {
        AccessKeyInfo {
            access_key_id: "AKDEV".into(),
            name: "dev".into(),
            created: datetime!(2026-11-20 10:00:00 UTC),
            expires: None,
            enabled: true,
            is_admin: false,
            grants: vec![Grant {
                bucket: "dumps".into(),
                prefix: "latest/".into(),
                permissions: Permissions {
                    read: true,
                    write: false,
                    delete: true,
                    owner: false,
                    bypass_governance: false,
                },
            }],
        }
    }

    /// Encodes as the handlers do (through a `Value`), then decodes as the CLI does.
    fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &T) -> (Value, T) {
        let wire = serde_json::to_value(v).unwrap();
        let text = serde_json::to_string(&wire).unwrap();
        let back: T = serde_json::from_str(&text).unwrap();
        (wire, back)
    }

    #[test]
    fn keys_encode_as_before_and_decode_to_the_same_key() {
        let mut k = key(&info());
        let (wire, back) = round_trip(&k);
        assert_eq!(
            wire,
            json!({"access_key_id": "AKDEV", "name": "dev", "created": "2026-11-20T10:00:00Z",
                   "expires": null, "enabled": true, "is_admin": false,
                   "grants": [{"bucket": "dumps", "prefix": "latest/", "read": true,
                               "write": false, "delete": true, "owner": false}]})
        );
        assert_eq!(back, k);
        // The answer to POST /v1/keys, the one with the secret.
        k.secret_access_key = Some("s3cr3t".into());
        let mut expiring = info();
        expiring.expires = Some(datetime!(2026-12-20 10:00:00 UTC));
        k.expires = key(&expiring).expires;
        let (wire, back) = round_trip(&k);
        assert_eq!(wire["secret_access_key"], json!("s3cr3t"));
        assert_eq!(wire["expires"], json!("2026-12-20T10:00:00Z"));
        assert_eq!(back, k);
        assert_eq!(
            back.expires.and_then(|t| t.instant()),
            Some(datetime!(2026-12-20 10:00:00 UTC))
        );
    }

    #[test]
    fn buckets_encode_as_before_and_decode_to_the_same_bucket() {
        let b = BucketInfo {
            name: "backups".into(),
            created: datetime!(2026-11-20 10:00:00 UTC),
            versioning: VersioningState::Suspended,
        };
        let listed = bucket(&b, 3, 512);
        let (wire, back) = round_trip(&listed);
        assert_eq!(
            wire,
            json!({"name": "backups", "created": "2026-11-20T10:00:00Z",
                   "versioning": "Suspended", "objects": 3, "logical_bytes": 512})
        );
        assert_eq!(back, listed);
        let mut detailed = listed;
        detailed.grants = Some(vec![grant(&info().grants[0], Some("AKDEV".into()))]);
        let (wire, back) = round_trip(&detailed);
        assert_eq!(
            wire["grants"],
            json!([{"access_key_id": "AKDEV", "bucket": "dumps", "prefix": "latest/",
                    "read": true, "write": false, "delete": true, "owner": false}])
        );
        assert_eq!(back, detailed);
    }

    #[test]
    fn put_grant_bodies_become_engine_grants() {
        let req: api::PutGrant =
            serde_json::from_value(json!({"bucket": "dumps", "read": true})).unwrap();
        let g = grant_of(&req);
        assert_eq!((g.bucket.as_str(), g.prefix.as_str()), ("dumps", ""));
        assert!(g.permissions.read && !g.permissions.write);
        assert!(
            serde_json::from_value::<api::PutGrant>(json!({"bucket": "b", "bogus": 1})).is_err()
        );
    }
}
