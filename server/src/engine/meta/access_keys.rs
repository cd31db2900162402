//! The access-key tables: `access_keys` (key id → [`KeyRecord`], the secret
//! sealed) and `access_grants` (`id 00 bucket 00 prefix` → permissions), so
//! one key's grants are a range scan.
//!
//! Key record versions: v1 (`enabled u8, created_us i64, sealed secret`,
//! written by the first start of early releases, only ever for the root key)
//! reads as an admin key named "root"; v2 adds `name, expiry, admin flag`.
//! Grant values: v1 = one byte of permission flags.

use redb::{ReadableTable, TableDefinition};

use super::codec::{Reader, Writer};
use super::hook::Change;
use super::txn::{ReadTxn, Txn};
use super::{Bin, MetaContext, Named};
use crate::engine::access::{Grant, Permissions};
use crate::engine::error::EngineResult;

pub(crate) const ACCESS_KEYS: Named = TableDefinition::new("access_keys");
pub(crate) const GRANTS: Bin = TableDefinition::new("access_grants");

/// The stored form of a key. Version 1 (written by the first start) holds
/// only `enabled`, `created` and the secret, and only ever the root key.
#[derive(Debug, Clone)]
pub(crate) struct KeyRecord {
    pub enabled: bool,
    pub created_us: i64,
    /// The secret, sealed under the metadata key (never stored in plaintext).
    pub sealed_secret: Vec<u8>,
    pub name: String,
    pub expires_us: Option<i64>,
    pub is_admin: bool,
}

impl KeyRecord {
    pub fn encode(&self) -> Vec<u8> {
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

    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "access key");
        let version = r.version(2)?;
        let enabled = r.u8()? != 0;
        let created_us = r.i64()?;
        let sealed_secret = r.bytes()?.to_vec();
        match version {
            1 => Ok(KeyRecord {
                enabled,
                created_us,
                sealed_secret,
                name: "root".into(),
                expires_us: None,
                is_admin: true,
            }),
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
            _ => Err(super::error::corrupt("access key")),
        }
    }
}

fn encode_permissions(p: &Permissions) -> Vec<u8> {
    let flags = u8::from(p.read)
        | (u8::from(p.write) << 1)
        | (u8::from(p.delete) << 2)
        | (u8::from(p.owner) << 3)
        | (u8::from(p.bypass_governance) << 4);
    Writer::with_version(1).u8(flags).finish()
}

fn decode_permissions(b: &[u8]) -> EngineResult<Permissions> {
    let mut r = Reader::new(b, "grant");
    r.version(1)?;
    let f = r.u8()?;
    Ok(Permissions {
        read: f & 1 != 0,
        write: f & 2 != 0,
        delete: f & 4 != 0,
        owner: f & 8 != 0,
        bypass_governance: f & 16 != 0,
    })
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

fn parse_grant(k: &[u8], v: &[u8]) -> EngineResult<Grant> {
    let corrupt = || super::error::corrupt("grant key");
    let mut parts = k.splitn(3, |b| *b == 0);
    let _id = parts.next().ok_or_else(corrupt)?;
    let bucket = parts.next().ok_or_else(corrupt)?;
    let prefix = parts.next().ok_or_else(corrupt)?;
    Ok(Grant {
        bucket: String::from_utf8(bucket.to_vec()).map_err(|_| corrupt())?,
        prefix: String::from_utf8(prefix.to_vec()).map_err(|_| corrupt())?,
        permissions: decode_permissions(v)?,
    })
}

/// Grants of one key, from any table handle that can be range-scanned.
fn scan_grants(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    id: &str,
) -> EngineResult<Vec<Grant>> {
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
        out.push(parse_grant(k.value(), v.value())?);
    }
    Ok(out)
}

// ---- reads

pub(crate) fn get(txn: &ReadTxn, id: &str) -> EngineResult<Option<KeyRecord>> {
    let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
    match t.get(id).ctx("read access key")? {
        Some(v) => Ok(Some(KeyRecord::decode(v.value())?)),
        None => Ok(None),
    }
}

pub(crate) fn grants(txn: &ReadTxn, id: &str) -> EngineResult<Vec<Grant>> {
    scan_grants(&txn.open_table(GRANTS).ctx("open grants")?, id)
}

/// Every key with its grants, in id order.
pub(crate) fn list(txn: &ReadTxn) -> EngineResult<Vec<(String, KeyRecord, Vec<Grant>)>> {
    let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
    let g = txn.open_table(GRANTS).ctx("open grants")?;
    let mut out = Vec::new();
    for item in t.iter().ctx("scan access keys")? {
        let (k, v) = item.ctx("scan access keys")?;
        let id = k.value();
        out.push((
            id.to_owned(),
            KeyRecord::decode(v.value())?,
            scan_grants(&g, id)?,
        ));
    }
    Ok(out)
}

// ---- writes

pub(crate) fn get_rw(txn: &Txn<'_>, id: &str) -> EngineResult<Option<KeyRecord>> {
    let t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
    match t.get(id).ctx("read access key")? {
        Some(v) => Ok(Some(KeyRecord::decode(v.value())?)),
        None => Ok(None),
    }
}

pub(crate) fn put(txn: &Txn<'_>, id: &str, rec: &KeyRecord) -> EngineResult<()> {
    let mut t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
    t.insert(id, rec.encode().as_slice())
        .ctx("write access key")?;
    txn.record(Change::AccessKeyChanged {
        access_key_id: id.to_owned(),
    });
    Ok(())
}

/// Deletes a key and its grants; `false` when there was no such key.
pub(crate) fn remove(txn: &Txn<'_>, id: &str) -> EngineResult<bool> {
    let mut t = txn.open_table(ACCESS_KEYS).ctx("open access_keys")?;
    if t.remove(id).ctx("remove access key")?.is_none() {
        return Ok(false);
    }
    let mut g = txn.open_table(GRANTS).ctx("open grants")?;
    let grants = scan_grants(&g, id)?;
    for gr in &grants {
        g.remove(grant_key(id, &gr.bucket, &gr.prefix).as_slice())
            .ctx("remove grant")?;
        txn.record(Change::GrantChanged {
            access_key_id: id.to_owned(),
            bucket: gr.bucket.clone(),
            prefix: gr.prefix.clone(),
        });
    }
    txn.record(Change::AccessKeyChanged {
        access_key_id: id.to_owned(),
    });
    Ok(true)
}

/// Adds a grant, replacing one for the same bucket and prefix.
pub(crate) fn put_grant(txn: &Txn<'_>, id: &str, grant: &Grant) -> EngineResult<()> {
    let mut g = txn.open_table(GRANTS).ctx("open grants")?;
    g.insert(
        grant_key(id, &grant.bucket, &grant.prefix).as_slice(),
        encode_permissions(&grant.permissions).as_slice(),
    )
    .ctx("write grant")?;
    txn.record(Change::GrantChanged {
        access_key_id: id.to_owned(),
        bucket: grant.bucket.clone(),
        prefix: grant.prefix.clone(),
    });
    Ok(())
}

/// Removes exactly this grant; `false` when there was none.
pub(crate) fn remove_grant(
    txn: &Txn<'_>,
    id: &str,
    bucket: &str,
    prefix: &str,
) -> EngineResult<bool> {
    let mut g = txn.open_table(GRANTS).ctx("open grants")?;
    if g.remove(grant_key(id, bucket, prefix).as_slice())
        .ctx("remove grant")?
        .is_none()
    {
        return Ok(false);
    }
    txn.record(Change::GrantChanged {
        access_key_id: id.to_owned(),
        bucket: bucket.to_owned(),
        prefix: prefix.to_owned(),
    });
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // Exactly what the first start of earlier releases wrote for the root key.
        let v1 = Writer::with_version(1).u8(1).i64(5).bytes(&[9]).finish();
        let root = KeyRecord::decode(&v1).unwrap();
        assert!(root.is_admin && root.enabled && root.expires_us.is_none());
        assert_eq!(
            (root.created_us, root.sealed_secret, root.name.as_str()),
            (5, vec![9], "root")
        );
        assert!(KeyRecord::decode(&[3, 0]).is_err());
        assert!(KeyRecord::decode(&[]).is_err());
    }

    #[test]
    fn permissions_round_trip() {
        for bits in 0u8..32 {
            let p = Permissions {
                read: bits & 1 != 0,
                write: bits & 2 != 0,
                delete: bits & 4 != 0,
                owner: bits & 8 != 0,
                bypass_governance: bits & 16 != 0,
            };
            assert_eq!(decode_permissions(&encode_permissions(&p)).unwrap(), p);
        }
    }
}
