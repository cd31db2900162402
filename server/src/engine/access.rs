//! Access keys and grants: who may sign requests, and what each key may do.
//!
//! Keys and grants are stored by `meta::access_keys` (the root key's v1
//! record reads as an admin key). Secrets are sealed under the metadata key
//! with the key id bound as associated data, so they are never at rest in
//! plaintext and a sealed secret cannot be moved to another id.

use std::sync::Arc;

use rand::Rng;
use rand::distributions::{Alphanumeric, Uniform};
use rand::rngs::OsRng;
use time::OffsetDateTime;

use super::Engine;
use super::error::EngineError;
use super::init::secret_context;
use super::key_cache::CachedKey;
use super::meta::access_keys::{self, KeyRecord};
use super::meta::codec::{micros, time_from_micros};

/// The bucket name that stands for every bucket in a grant.
pub const ALL_BUCKETS: &str = "*";

/// What an access-key operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    #[error("no such access key: {0}")]
    NoSuchAccessKey(String),
    #[error("no such grant")]
    NoSuchGrant,
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

pub type AccessResult<T> = Result<T, AccessError>;

/// The four permissions a grant can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Permissions {
    pub read: bool,
    pub write: bool,
    pub delete: bool,
    /// May change bucket settings, create and delete the bucket.
    pub owner: bool,
    /// May remove or shorten GOVERNANCE retention when a request asks to
    /// (`x-amz-bypass-governance-retention: true`); nothing else bypasses it.
    pub bypass_governance: bool,
}

/// One of [`Permissions`], as an operation requires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Write,
    Delete,
    Owner,
    BypassGovernance,
}

impl Permission {
    pub fn name(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Delete => "delete",
            Permission::Owner => "owner",
            Permission::BypassGovernance => "bypass-governance",
        }
    }
}

impl Permissions {
    pub fn has(&self, p: Permission) -> bool {
        match p {
            Permission::Read => self.read,
            Permission::Write => self.write,
            Permission::Delete => self.delete,
            Permission::Owner => self.owner,
            Permission::BypassGovernance => self.bypass_governance,
        }
    }
    pub fn any(&self) -> bool {
        self.read || self.write || self.delete || self.owner || self.bypass_governance
    }
}

/// A key's permissions on a bucket (or every bucket), optionally only below a key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// A bucket name or [`ALL_BUCKETS`].
    pub bucket: String,
    /// Empty for the whole bucket.
    pub prefix: String,
    pub permissions: Permissions,
}

impl Grant {
    pub fn covers_bucket(&self, bucket: &str) -> bool {
        self.bucket == ALL_BUCKETS || self.bucket == bucket
    }
}

/// An access key as the admin API shows it (never the secret).
#[derive(Debug, Clone)]
pub struct AccessKeyInfo {
    pub access_key_id: String,
    pub name: String,
    pub created: OffsetDateTime,
    pub expires: Option<OffsetDateTime>,
    pub enabled: bool,
    pub is_admin: bool,
    pub grants: Vec<Grant>,
}

/// A freshly created key: the only moment its secret leaves the engine.
#[derive(Clone)]
pub struct NewAccessKey {
    pub info: AccessKeyInfo,
    pub secret_access_key: String,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("info", &self.info)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// The outcome of looking a key up to verify a signature.
#[derive(Clone)]
pub enum KeyAuth {
    Unknown,
    Disabled,
    Expired,
    Active { secret: String },
}

impl std::fmt::Debug for KeyAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyAuth::Unknown => "Unknown",
            KeyAuth::Disabled => "Disabled",
            KeyAuth::Expired => "Expired",
            KeyAuth::Active { .. } => "Active(<redacted>)",
        })
    }
}

/// What authorisation needs to know about a signing key.
#[derive(Debug, Clone)]
pub struct KeyAccess {
    pub access_key_id: String,
    pub is_admin: bool,
    pub grants: Vec<Grant>,
}

impl KeyAccess {
    /// Whether `perm` is granted on `key` of `bucket`.
    pub fn allows_object(&self, bucket: &str, key: &str, perm: Permission) -> bool {
        self.is_admin
            || self.grants.iter().any(|g| {
                g.covers_bucket(bucket) && key.starts_with(&g.prefix) && g.permissions.has(perm)
            })
    }

    /// Whether `perm` is granted on the whole of `bucket` (no prefix restriction).
    pub fn allows_bucket(&self, bucket: &str, perm: Permission) -> bool {
        self.is_admin
            || self
                .grants
                .iter()
                .any(|g| g.covers_bucket(bucket) && g.prefix.is_empty() && g.permissions.has(perm))
    }

    /// Whether `perm` is granted on some part of `bucket` (any prefix).
    pub fn allows_some_of(&self, bucket: &str, perm: Permission) -> bool {
        self.is_admin
            || self
                .grants
                .iter()
                .any(|g| g.covers_bucket(bucket) && g.permissions.has(perm))
    }

    /// Whether the key may see `bucket` at all (ListBuckets).
    pub fn sees_bucket(&self, bucket: &str) -> bool {
        self.is_admin
            || self
                .grants
                .iter()
                .any(|g| g.covers_bucket(bucket) && g.permissions.any())
    }
}

fn key_info(rec: &KeyRecord, id: &str, grants: Vec<Grant>) -> AccessKeyInfo {
    AccessKeyInfo {
        access_key_id: id.to_owned(),
        name: rec.name.clone(),
        created: time_from_micros(rec.created_us),
        expires: rec.expires_us.map(time_from_micros),
        enabled: rec.enabled,
        is_admin: rec.is_admin,
        grants,
    }
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    let dist = Uniform::from(0..alphabet.len());
    (0..len)
        .map(|_| char::from(alphabet[OsRng.sample(dist)]))
        .collect()
}

/// `AK` + 18 upper-case letters and digits, as AWS key ids look.
fn new_key_id() -> String {
    format!(
        "AK{}",
        random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 18)
    )
}

/// 40 characters from the OS CSPRNG (≈ 238 bits).
fn new_secret() -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

fn check_name(name: &str) -> AccessResult<()> {
    if name.len() > 128 || name.chars().any(char::is_control) {
        return Err(AccessError::InvalidArgument(
            "a key name is at most 128 characters, without control characters".into(),
        ));
    }
    Ok(())
}

fn check_grant_scope(bucket: &str, prefix: &str) -> AccessResult<()> {
    if bucket != ALL_BUCKETS && !super::bucket_name::is_valid(bucket) {
        return Err(AccessError::InvalidArgument(format!(
            "{bucket:?} is neither a valid bucket name nor \"*\""
        )));
    }
    if prefix.len() > 1024 {
        return Err(AccessError::InvalidArgument(
            "a grant prefix is at most 1024 bytes".into(),
        ));
    }
    Ok(())
}

impl Engine {
    fn read_key(&self, id: &str) -> AccessResult<(KeyRecord, Vec<Grant>)> {
        let txn = self.inner.meta.read()?;
        let rec = access_keys::get(&txn, id)?
            .ok_or_else(|| AccessError::NoSuchAccessKey(id.to_owned()))?;
        Ok((rec, access_keys::grants(&txn, id)?))
    }

    /// A key as signed requests use it: from the key cache, or read (record,
    /// grants, secret opened) in one snapshot and cached. `None` for an
    /// unknown key.
    fn cached_key(&self, id: &str) -> Result<Option<Arc<CachedKey>>, EngineError> {
        let cache = &self.inner.key_cache;
        if let Some(key) = cache.get(id) {
            return Ok(Some(key));
        }
        // Read before the snapshot begins: see `key_cache`.
        let generation = cache.generation();
        let txn = self.inner.meta.read()?;
        let Some(rec) = access_keys::get(&txn, id)? else {
            return Ok(None);
        };
        let grants = access_keys::grants(&txn, id)?;
        drop(txn);
        let plain =
            coffer_repo::open_metadata(&self.inner.keys, &secret_context(id), &rec.sealed_secret)?;
        let secret = String::from_utf8(plain)
            .map_err(|_| super::meta::error::corrupt("access key secret"))?;
        let key = Arc::new(CachedKey {
            enabled: rec.enabled,
            expires_us: rec.expires_us,
            is_admin: rec.is_admin,
            secret,
            grants,
        });
        cache.put(id, generation, key.clone());
        Ok(Some(key))
    }

    /// Looks a key up for signature verification: unknown, disabled, expired
    /// (by the engine clock) or active with its secret.
    pub fn authenticate(&self, id: &str) -> Result<KeyAuth, EngineError> {
        let Some(key) = self.cached_key(id)? else {
            return Ok(KeyAuth::Unknown);
        };
        if !key.enabled {
            return Ok(KeyAuth::Disabled);
        }
        if key.expires_us.is_some_and(|e| micros(self.now()) >= e) {
            return Ok(KeyAuth::Expired);
        }
        Ok(KeyAuth::Active {
            secret: key.secret.clone(),
        })
    }

    /// The grants (and admin flag) authorisation checks a request against;
    /// `None` for an unknown key.
    pub fn key_access(&self, id: &str) -> Result<Option<KeyAccess>, EngineError> {
        Ok(self.cached_key(id)?.map(|key| KeyAccess {
            access_key_id: id.to_owned(),
            is_admin: key.is_admin,
            grants: key.grants.clone(),
        }))
    }

    /// Creates a key with a random id and secret; `expires_in` from the engine clock.
    pub fn create_access_key(
        &self,
        name: &str,
        expires_in: Option<time::Duration>,
        is_admin: bool,
    ) -> AccessResult<NewAccessKey> {
        check_name(name)?;
        let now = self.now();
        let expires = match expires_in {
            None => None,
            Some(d) if d.is_positive() => Some(now.checked_add(d).ok_or_else(|| {
                AccessError::InvalidArgument("expiry is too far in the future".into())
            })?),
            Some(_) => {
                return Err(AccessError::InvalidArgument(
                    "expires_in_seconds must be positive".into(),
                ));
            }
        };
        let secret = new_secret();
        let keys = &self.inner.keys;
        let id = self
            .inner
            .meta
            .write::<_, EngineError>("create access key", |txn| {
                // 18 characters of 36 make a collision practically impossible;
                // checking keeps an id from ever being reused for someone else.
                let mut id = new_key_id();
                while access_keys::get_rw(txn, &id)?.is_some() {
                    id = new_key_id();
                }
                let sealed =
                    coffer_repo::seal_metadata(keys, &secret_context(&id), secret.as_bytes())?;
                let rec = KeyRecord {
                    enabled: true,
                    created_us: micros(now),
                    sealed_secret: sealed,
                    name: name.to_owned(),
                    expires_us: expires.map(micros),
                    is_admin,
                };
                access_keys::put(txn, &id, &rec)?;
                Ok(id)
            })?;
        let info = self.access_key(&id)?;
        Ok(NewAccessKey {
            info,
            secret_access_key: secret,
        })
    }

    pub fn access_key(&self, id: &str) -> AccessResult<AccessKeyInfo> {
        let (rec, grants) = self.read_key(id)?;
        Ok(key_info(&rec, id, grants))
    }

    pub fn list_access_keys(&self) -> AccessResult<Vec<AccessKeyInfo>> {
        let txn = self.inner.meta.read()?;
        Ok(access_keys::list(&txn)?
            .into_iter()
            .map(|(id, rec, grants)| key_info(&rec, &id, grants))
            .collect())
    }

    /// Every grant on `bucket` (including `*` grants), with the key it belongs to.
    pub fn grants_on_bucket(&self, bucket: &str) -> AccessResult<Vec<(String, Grant)>> {
        Ok(self
            .list_access_keys()?
            .into_iter()
            .flat_map(|k| {
                let id = k.access_key_id;
                k.grants
                    .into_iter()
                    .filter(|g| g.covers_bucket(bucket))
                    .map(move |g| (id.clone(), g))
            })
            .collect())
    }

    pub fn set_access_key_enabled(&self, id: &str, enabled: bool) -> AccessResult<AccessKeyInfo> {
        self.inner
            .meta
            .write::<_, AccessError>("enable access key", |txn| {
                let Some(mut rec) = access_keys::get_rw(txn, id)? else {
                    return Err(AccessError::NoSuchAccessKey(id.to_owned()));
                };
                rec.enabled = enabled;
                access_keys::put(txn, id, &rec)?;
                Ok(())
            })?;
        self.access_key(id)
    }

    /// Deletes a key and all its grants.
    pub fn delete_access_key(&self, id: &str) -> AccessResult<()> {
        if self
            .inner
            .meta
            .write::<_, EngineError>("delete access key", |txn| access_keys::remove(txn, id))?
        {
            Ok(())
        } else {
            Err(AccessError::NoSuchAccessKey(id.to_owned()))
        }
    }

    /// Adds a grant, replacing one for the same bucket and prefix.
    pub fn put_grant(&self, id: &str, grant: &Grant) -> AccessResult<AccessKeyInfo> {
        check_grant_scope(&grant.bucket, &grant.prefix)?;
        self.inner
            .meta
            .write::<_, AccessError>("put grant", |txn| {
                if access_keys::get_rw(txn, id)?.is_none() {
                    return Err(AccessError::NoSuchAccessKey(id.to_owned()));
                }
                access_keys::put_grant(txn, id, grant)?;
                Ok(())
            })?;
        self.access_key(id)
    }

    /// Removes the grant for exactly this bucket and prefix.
    pub fn remove_grant(
        &self,
        id: &str,
        bucket: &str,
        prefix: &str,
    ) -> AccessResult<AccessKeyInfo> {
        self.inner
            .meta
            .write::<_, AccessError>("remove grant", |txn| {
                if access_keys::get_rw(txn, id)?.is_none() {
                    return Err(AccessError::NoSuchAccessKey(id.to_owned()));
                }
                if !access_keys::remove_grant(txn, id, bucket, prefix)? {
                    return Err(AccessError::NoSuchGrant);
                }
                Ok(())
            })?;
        self.access_key(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_secrets_have_the_documented_shape() {
        let id = new_key_id();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AK"));
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        );
        let s = new_secret();
        assert_eq!(s.len(), 40);
        assert_ne!(s, new_secret());
    }

    #[test]
    fn prefix_grants_cover_only_their_prefix() {
        let ka = KeyAccess {
            access_key_id: "AK".into(),
            is_admin: false,
            grants: vec![Grant {
                bucket: "b".into(),
                prefix: "dev/".into(),
                permissions: Permissions {
                    read: true,
                    ..Default::default()
                },
            }],
        };
        assert!(ka.allows_object("b", "dev/x", Permission::Read));
        assert!(!ka.allows_object("b", "prod/x", Permission::Read));
        assert!(!ka.allows_object("b", "dev/x", Permission::Write));
        assert!(!ka.allows_object("c", "dev/x", Permission::Read));
        assert!(!ka.allows_bucket("b", Permission::Read));
        assert!(ka.allows_some_of("b", Permission::Read));
        assert!(ka.sees_bucket("b") && !ka.sees_bucket("c"));
    }
}
