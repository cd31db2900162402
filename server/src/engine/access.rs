//! Access keys and grants: who may sign requests, and what each key may do.
//!
//! Keys live in the `access_keys` table (the root key's v1 record is read as
//! an admin key; keys made here are written as v2 records with name, expiry
//! and the admin flag). Secrets are sealed under the metadata key with the key
//! id bound as associated data, so they are never at rest in plaintext and a
//! sealed secret cannot be moved to another id. Grants live in their own table
//! keyed `id 00 bucket 00 prefix`, so one key's grants are a range scan.

use rand::Rng;
use rand::distributions::{Alphanumeric, Uniform};
use rand::rngs::OsRng;
use redb::{ReadableTable, TableDefinition};
use time::OffsetDateTime;

use super::Engine;
use super::error::EngineError;
use super::init::secret_context;
use super::meta::codec::{Reader, Writer};
use super::meta::records::{AccessKeyRecord, micros, time_from_micros};
use super::meta::{ACCESS_KEYS, MetaContext};

/// `id 00 bucket 00 prefix` → permissions (version byte + flags).
const GRANTS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("access_grants");

type GrantsTable = redb::ReadOnlyTable<&'static [u8], &'static [u8]>;

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
}

/// One of [`Permissions`], as an operation requires it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Write,
    Delete,
    Owner,
}

impl Permission {
    pub fn name(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Write => "write",
            Permission::Delete => "delete",
            Permission::Owner => "owner",
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
        }
    }
    pub fn any(&self) -> bool {
        self.read || self.write || self.delete || self.owner
    }
    fn encode(&self) -> Vec<u8> {
        let flags = u8::from(self.read)
            | (u8::from(self.write) << 1)
            | (u8::from(self.delete) << 2)
            | (u8::from(self.owner) << 3);
        Writer::with_version(1).u8(flags).finish()
    }
    fn decode(b: &[u8]) -> Result<Self, EngineError> {
        let mut r = Reader::new(b, "grant");
        r.version(1)?;
        let f = r.u8()?;
        Ok(Permissions {
            read: f & 1 != 0,
            write: f & 2 != 0,
            delete: f & 4 != 0,
            owner: f & 8 != 0,
        })
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

/// The stored form of a key. Version 1 (written by the first start) holds
/// only `enabled`, `created` and the secret, and only ever the root key.
struct KeyRecord {
    enabled: bool,
    created_us: i64,
    sealed_secret: Vec<u8>,
    name: String,
    expires_us: Option<i64>,
    is_admin: bool,
}

impl KeyRecord {
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_version(2);
        w.u8(u8::from(self.enabled))
            .i64(self.created_us)
            .bytes(&self.sealed_secret)
            .str(&self.name);
        match self.expires_us {
            None => w.u8(0),
            Some(t) => w.u8(1).i64(t),
        };
        w.u8(u8::from(self.is_admin)).finish()
    }

    fn decode(b: &[u8]) -> Result<Self, EngineError> {
        if b.first() == Some(&1) {
            let v1 = AccessKeyRecord::decode(b)?;
            return Ok(KeyRecord {
                enabled: v1.enabled,
                created_us: v1.created_us,
                sealed_secret: v1.sealed_secret,
                name: "root".into(),
                expires_us: None,
                is_admin: true,
            });
        }
        let mut r = Reader::new(b, "access key");
        let version = r.version(2)?;
        let enabled = r.u8()? != 0;
        let created_us = r.i64()?;
        let sealed_secret = r.bytes()?.to_vec();
        match version {
            2 => {
                let name = r.str()?;
                let expires_us = match r.u8()? {
                    0 => None,
                    _ => Some(r.i64()?),
                };
                let is_admin = r.u8()? != 0;
                Ok(KeyRecord {
                    enabled,
                    created_us,
                    sealed_secret,
                    name,
                    expires_us,
                    is_admin,
                })
            }
            _ => Err(EngineError::Meta("corrupt access key record".into())),
        }
    }

    fn info(&self, id: &str, grants: Vec<Grant>) -> AccessKeyInfo {
        AccessKeyInfo {
            access_key_id: id.to_owned(),
            name: self.name.clone(),
            created: time_from_micros(self.created_us),
            expires: self.expires_us.map(time_from_micros),
            enabled: self.enabled,
            is_admin: self.is_admin,
            grants,
        }
    }
}

fn grant_key(id: &str, bucket: &str, prefix: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + bucket.len() + prefix.len() + 2);
    k.extend_from_slice(id.as_bytes());
    k.push(0);
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(prefix.as_bytes());
    k
}

fn parse_grant_key(k: &[u8], v: &[u8]) -> Result<Grant, EngineError> {
    let corrupt = || EngineError::Meta("corrupt grant key".into());
    let mut parts = k.splitn(3, |b| *b == 0);
    let _id = parts.next().ok_or_else(corrupt)?;
    let bucket = parts.next().ok_or_else(corrupt)?;
    let prefix = parts.next().ok_or_else(corrupt)?;
    Ok(Grant {
        bucket: String::from_utf8(bucket.to_vec()).map_err(|_| corrupt())?,
        prefix: String::from_utf8(prefix.to_vec()).map_err(|_| corrupt())?,
        permissions: Permissions::decode(v)?,
    })
}

/// Grants of one key, from any table handle that can be range-scanned.
fn grants_of(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    id: &str,
) -> Result<Vec<Grant>, EngineError> {
    let mut start = id.as_bytes().to_vec();
    start.push(0);
    let mut end = id.as_bytes().to_vec();
    end.push(1);
    let mut out = Vec::new();
    for item in t
        .range::<&[u8]>(start.as_slice()..end.as_slice())
        .ctx("scan grants")?
    {
        let (k, v) = item.ctx("scan grants")?;
        out.push(parse_grant_key(k.value(), v.value())?);
    }
    Ok(out)
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
    fn open_grants_read(txn: &redb::ReadTransaction) -> Result<Option<GrantsTable>, EngineError> {
        match txn.open_table(GRANTS) {
            Ok(t) => Ok(Some(t)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(EngineError::Meta(format!("open grants: {e}"))),
        }
    }

    fn read_key(&self, id: &str) -> AccessResult<(KeyRecord, Vec<Grant>)> {
        let txn = self.inner.db.begin_read().ctx("begin read")?;
        let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
        let rec = match t.get(id).ctx("read access key")? {
            Some(v) => KeyRecord::decode(v.value())?,
            None => return Err(AccessError::NoSuchAccessKey(id.to_owned())),
        };
        let grants = match Self::open_grants_read(&txn)? {
            Some(g) => grants_of(&g, id)?,
            None => Vec::new(),
        };
        Ok((rec, grants))
    }

    /// Looks a key up for signature verification: unknown, disabled, expired
    /// (by the engine clock) or active with its secret.
    pub fn authenticate(&self, id: &str) -> Result<KeyAuth, EngineError> {
        let txn = self.inner.db.begin_read().ctx("begin read")?;
        let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
        let Some(v) = t.get(id).ctx("read access key")? else {
            return Ok(KeyAuth::Unknown);
        };
        let rec = KeyRecord::decode(v.value())?;
        if !rec.enabled {
            return Ok(KeyAuth::Disabled);
        }
        if rec.expires_us.is_some_and(|e| micros(self.now()) >= e) {
            return Ok(KeyAuth::Expired);
        }
        let plain =
            coffer_repo::open_metadata(&self.inner.keys, &secret_context(id), &rec.sealed_secret)?;
        String::from_utf8(plain)
            .map(|secret| KeyAuth::Active { secret })
            .map_err(|_| EngineError::Meta("access key secret is not UTF-8".into()))
    }

    /// The grants (and admin flag) authorisation checks a request against;
    /// `None` for an unknown key.
    pub fn key_access(&self, id: &str) -> Result<Option<KeyAccess>, EngineError> {
        match self.read_key(id) {
            Ok((rec, grants)) => Ok(Some(KeyAccess {
                access_key_id: id.to_owned(),
                is_admin: rec.is_admin,
                grants,
            })),
            Err(AccessError::NoSuchAccessKey(_)) => Ok(None),
            Err(AccessError::Engine(e)) => Err(e),
            Err(e) => Err(EngineError::Internal(e.to_string())),
        }
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
        let txn = self.inner.db.begin_write().ctx("begin create key")?;
        let id = {
            let mut t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
            // 18 characters of 36 make a collision practically impossible;
            // checking keeps an id from ever being reused for someone else.
            let mut id = new_key_id();
            while t.get(id.as_str()).ctx("read access key")?.is_some() {
                id = new_key_id();
            }
            let sealed = coffer_repo::seal_metadata(
                &self.inner.keys,
                &secret_context(&id),
                secret.as_bytes(),
            )
            .map_err(EngineError::from)?;
            let rec = KeyRecord {
                enabled: true,
                created_us: micros(now),
                sealed_secret: sealed,
                name: name.to_owned(),
                expires_us: expires.map(micros),
                is_admin,
            };
            t.insert(id.as_str(), rec.encode().as_slice())
                .ctx("insert access key")?;
            id
        };
        txn.commit().ctx("commit create key")?;
        let info = self.access_key(&id)?;
        Ok(NewAccessKey {
            info,
            secret_access_key: secret,
        })
    }

    pub fn access_key(&self, id: &str) -> AccessResult<AccessKeyInfo> {
        let (rec, grants) = self.read_key(id)?;
        Ok(rec.info(id, grants))
    }

    pub fn list_access_keys(&self) -> AccessResult<Vec<AccessKeyInfo>> {
        let txn = self.inner.db.begin_read().ctx("begin read")?;
        let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
        let g = Self::open_grants_read(&txn)?;
        let mut out = Vec::new();
        for item in t.iter().ctx("scan access keys")? {
            let (k, v) = item.ctx("scan access keys")?;
            let id = k.value();
            let grants = match &g {
                Some(g) => grants_of(g, id)?,
                None => Vec::new(),
            };
            out.push(KeyRecord::decode(v.value())?.info(id, grants));
        }
        Ok(out)
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
        let txn = self.inner.db.begin_write().ctx("begin enable key")?;
        {
            let mut t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
            let mut rec = match t.get(id).ctx("read access key")? {
                Some(v) => KeyRecord::decode(v.value())?,
                None => return Err(AccessError::NoSuchAccessKey(id.to_owned())),
            };
            rec.enabled = enabled;
            t.insert(id, rec.encode().as_slice())
                .ctx("write access key")?;
        }
        txn.commit().ctx("commit enable key")?;
        self.access_key(id)
    }

    /// Deletes a key and all its grants.
    pub fn delete_access_key(&self, id: &str) -> AccessResult<()> {
        let txn = self.inner.db.begin_write().ctx("begin delete key")?;
        {
            let mut t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
            if t.remove(id).ctx("remove access key")?.is_none() {
                return Err(AccessError::NoSuchAccessKey(id.to_owned()));
            }
            let mut g = txn.open_table(GRANTS).ctx("open grants")?;
            let keys: Vec<Vec<u8>> = grants_of(&g, id)?
                .iter()
                .map(|gr| grant_key(id, &gr.bucket, &gr.prefix))
                .collect();
            for k in keys {
                g.remove(k.as_slice()).ctx("remove grant")?;
            }
        }
        txn.commit().ctx("commit delete key")?;
        Ok(())
    }

    /// Adds a grant, replacing one for the same bucket and prefix.
    pub fn put_grant(&self, id: &str, grant: &Grant) -> AccessResult<AccessKeyInfo> {
        check_grant_scope(&grant.bucket, &grant.prefix)?;
        let txn = self.inner.db.begin_write().ctx("begin grant")?;
        {
            let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
            if t.get(id).ctx("read access key")?.is_none() {
                return Err(AccessError::NoSuchAccessKey(id.to_owned()));
            }
            let mut g = txn.open_table(GRANTS).ctx("open grants")?;
            g.insert(
                grant_key(id, &grant.bucket, &grant.prefix).as_slice(),
                grant.permissions.encode().as_slice(),
            )
            .ctx("write grant")?;
        }
        txn.commit().ctx("commit grant")?;
        self.access_key(id)
    }

    /// Removes the grant for exactly this bucket and prefix.
    pub fn remove_grant(
        &self,
        id: &str,
        bucket: &str,
        prefix: &str,
    ) -> AccessResult<AccessKeyInfo> {
        let txn = self.inner.db.begin_write().ctx("begin revoke")?;
        {
            let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
            if t.get(id).ctx("read access key")?.is_none() {
                return Err(AccessError::NoSuchAccessKey(id.to_owned()));
            }
            let mut g = txn.open_table(GRANTS).ctx("open grants")?;
            if g.remove(grant_key(id, bucket, prefix).as_slice())
                .ctx("remove grant")?
                .is_none()
            {
                return Err(AccessError::NoSuchGrant);
            }
        }
        txn.commit().ctx("commit revoke")?;
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
    fn records_round_trip_and_v1_is_the_root_admin() {
        let rec = KeyRecord {
            enabled: false,
            created_us: 7,
            sealed_secret: vec![1, 2, 3],
            name: "dev".into(),
            expires_us: Some(99),
            is_admin: false,
        };
        let back = KeyRecord::decode(&rec.encode()).unwrap();
        assert_eq!(
            (back.enabled, back.created_us, back.name.as_str()),
            (false, 7, "dev")
        );
        assert_eq!(
            (back.expires_us, back.is_admin, back.sealed_secret),
            (Some(99), false, vec![1, 2, 3])
        );
        let v1 = Writer::with_version(1).u8(1).i64(5).bytes(&[9]).finish();
        let root = KeyRecord::decode(&v1).unwrap();
        assert!(root.is_admin && root.enabled && root.expires_us.is_none());
        assert!(KeyRecord::decode(&[3, 0]).is_err());
        assert!(KeyRecord::decode(&[]).is_err());
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
