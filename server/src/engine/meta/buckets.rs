//! The `buckets` table (name → [`BucketRecord`]) and the `bucket_settings`
//! table (`bucket 00 setting name` → versioned value), where per-bucket
//! configuration (lifecycle, object lock, policy…) is stored without a new
//! table or mechanism each.

use redb::{ReadableTable, TableDefinition};

use super::codec::{Reader, Writer, time_from_micros};
use super::hook::Change;
use super::seal::Place;
use super::txn::{ReadTxn, Txn};
use super::{Bin, MetaContext, Named, keys};
use crate::engine::error::{EngineError, EngineResult};
use crate::engine::types::{BucketInfo, VersioningState};

pub(crate) const BUCKETS: Named = TableDefinition::new("buckets");
pub(crate) const BUCKET_SETTINGS: Bin = TableDefinition::new("bucket_settings");

#[derive(Debug, Clone)]
pub(crate) struct BucketRecord {
    pub created_us: i64,
    pub versioning: VersioningState,
}

impl BucketRecord {
    pub fn encode(&self) -> Vec<u8> {
        let v = match self.versioning {
            VersioningState::Unversioned => 0,
            VersioningState::Enabled => 1,
            VersioningState::Suspended => 2,
        };
        Writer::with_version(1).i64(self.created_us).u8(v).finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "bucket");
        r.version(1)?;
        let created_us = r.i64()?;
        let versioning = match r.u8()? {
            0 => VersioningState::Unversioned,
            1 => VersioningState::Enabled,
            2 => VersioningState::Suspended,
            _ => return Err(super::error::corrupt("bucket")),
        };
        Ok(BucketRecord {
            created_us,
            versioning,
        })
    }
    pub fn info(&self, name: &str) -> BucketInfo {
        BucketInfo {
            name: name.to_owned(),
            created: time_from_micros(self.created_us),
            versioning: self.versioning,
        }
    }
}

fn decode_in(
    v: Option<redb::AccessGuard<'_, &'static [u8]>>,
    name: &str,
) -> EngineResult<BucketRecord> {
    match v {
        Some(v) => BucketRecord::decode(v.value()),
        None => Err(EngineError::NoSuchBucket(name.to_owned())),
    }
}

/// A bucket's record (`NoSuchBucket` when it does not exist).
pub(crate) fn get(txn: &ReadTxn, name: &str) -> EngineResult<BucketRecord> {
    let t = txn.open_table(BUCKETS).ctx("open buckets")?;
    decode_in(t.get(name).ctx("read bucket")?, name)
}

/// The same, inside a write transaction.
pub(crate) fn get_rw(txn: &Txn<'_>, name: &str) -> EngineResult<BucketRecord> {
    let t = txn.open_table(BUCKETS).ctx("open buckets")?;
    decode_in(t.get(name).ctx("read bucket")?, name)
}

pub(crate) fn list(txn: &ReadTxn) -> EngineResult<Vec<BucketInfo>> {
    let t = txn.open_table(BUCKETS).ctx("open buckets")?;
    let mut out = Vec::new();
    for item in t.iter().ctx("scan buckets")? {
        let (k, v) = item.ctx("scan buckets")?;
        out.push(BucketRecord::decode(v.value())?.info(k.value()));
    }
    Ok(out)
}

pub(crate) fn create(txn: &Txn<'_>, name: &str, created_us: i64) -> EngineResult<()> {
    let mut t = txn.open_table(BUCKETS).ctx("open buckets")?;
    if t.get(name).ctx("read bucket")?.is_some() {
        return Err(EngineError::BucketAlreadyOwnedByYou(name.to_owned()));
    }
    let rec = BucketRecord {
        created_us,
        versioning: VersioningState::Unversioned,
    };
    t.insert(name, rec.encode().as_slice())
        .ctx("insert bucket")?;
    txn.record(Change::BucketCreated {
        bucket: name.to_owned(),
    });
    Ok(())
}

/// Whether a table keyed `bucket 00 …` holds anything of `bucket`.
fn holds_any(txn: &Txn<'_>, table: Bin, bucket: &str) -> EngineResult<bool> {
    let prefix = keys::bucket_prefix(bucket);
    let t = txn.open_table(table).ctx("open table")?;
    let mut it = t.range::<&[u8]>(prefix.as_slice()..).ctx("scan bucket")?;
    match it.next() {
        Some(first) => {
            let (k, _) = first.ctx("scan bucket")?;
            Ok(k.value().starts_with(&prefix))
        }
        None => Ok(false),
    }
}

/// The index keys of a table's rows under a bucket (`bucket 00 …`).
pub(crate) fn bucket_rows(txn: &Txn<'_>, table: Bin, bucket: &str) -> EngineResult<Vec<Vec<u8>>> {
    let prefix = keys::bucket_prefix(bucket);
    let t = txn.open_table(table).ctx("open table")?;
    let range = match keys::prefix_successor(&prefix) {
        Some(end) => t.range::<&[u8]>(prefix.as_slice()..end.as_slice()),
        None => t.range::<&[u8]>(prefix.as_slice()..),
    }
    .ctx("scan bucket")?;
    range
        .map(|item| Ok(item.ctx("scan bucket")?.0.value().to_vec()))
        .collect()
}

/// `BucketNotEmpty` while the bucket holds any version or delete marker.
pub(crate) fn check_no_versions(txn: &Txn<'_>, name: &str) -> EngineResult<()> {
    get_rw(txn, name)?;
    if holds_any(txn, super::versions::VERSIONS, name)? {
        return Err(EngineError::BucketNotEmpty(name.to_owned()));
    }
    Ok(())
}

/// Deletes an empty bucket and its settings (`BucketNotEmpty` while any
/// version, delete marker or multipart upload remains).
pub(crate) fn delete(txn: &Txn<'_>, name: &str) -> EngineResult<()> {
    get_rw(txn, name)?;
    for table in [super::versions::VERSIONS, super::uploads::UPLOADS] {
        if holds_any(txn, table, name)? {
            return Err(EngineError::BucketNotEmpty(name.to_owned()));
        }
    }
    {
        let stale = bucket_rows(txn, BUCKET_SETTINGS, name)?;
        let mut s = txn
            .open_table(BUCKET_SETTINGS)
            .ctx("open bucket_settings")?;
        for k in stale {
            s.remove(k.as_slice()).ctx("remove bucket setting")?;
        }
    }
    let mut t = txn.open_table(BUCKETS).ctx("open buckets")?;
    t.remove(name).ctx("remove bucket")?;
    txn.record(Change::BucketDeleted {
        bucket: name.to_owned(),
    });
    Ok(())
}

/// `Unversioned` cannot be set again once a bucket was versioned (as in S3).
pub(crate) fn set_versioning(
    txn: &Txn<'_>,
    name: &str,
    state: VersioningState,
) -> EngineResult<()> {
    let mut rec = get_rw(txn, name)?;
    if state == VersioningState::Unversioned {
        if rec.versioning == VersioningState::Unversioned {
            return Ok(());
        }
        return Err(EngineError::InvalidArgument(
            "versioning cannot be turned off, only suspended".into(),
        ));
    }
    rec.versioning = state;
    let mut t = txn.open_table(BUCKETS).ctx("open buckets")?;
    t.insert(name, rec.encode().as_slice())
        .ctx("write bucket")?;
    txn.record(Change::BucketSettingChanged {
        bucket: name.to_owned(),
        setting: "versioning".into(),
    });
    Ok(())
}

// ---- bucket settings: `bucket 00 setting name` → v1: the setting's own bytes

fn setting_key(bucket: &str, setting: &str) -> Vec<u8> {
    let mut k = keys::bucket_prefix(bucket);
    k.extend_from_slice(setting.as_bytes());
    k
}

/// A bucket setting's stored value (its owner decodes and versions the
/// payload itself), or `None` when it was never set.
pub(crate) fn setting(txn: &ReadTxn, bucket: &str, setting: &str) -> EngineResult<Option<Vec<u8>>> {
    let t = txn
        .open_table(BUCKET_SETTINGS)
        .ctx("open bucket_settings")?;
    setting_in(&t, bucket, setting)
}

fn setting_in<T: ReadableTable<&'static [u8], &'static [u8]>>(
    t: &T,
    bucket: &str,
    setting: &str,
) -> EngineResult<Option<Vec<u8>>> {
    match t
        .get(setting_key(bucket, setting).as_slice())
        .ctx("read bucket setting")?
    {
        Some(v) => {
            let mut r = Reader::new(v.value(), "bucket setting");
            r.version(1)?;
            Ok(Some(r.bytes()?.to_vec()))
        }
        None => Ok(None),
    }
}

/// Sets (`Some`) or clears (`None`) a setting of an existing bucket.
pub(crate) fn put_setting(
    txn: &Txn<'_>,
    bucket: &str,
    setting: &str,
    value: Option<&[u8]>,
) -> EngineResult<()> {
    get_rw(txn, bucket)?;
    let mut t = txn
        .open_table(BUCKET_SETTINGS)
        .ctx("open bucket_settings")?;
    let k = setting_key(bucket, setting);
    match value {
        Some(v) => {
            t.insert(
                k.as_slice(),
                Writer::with_version(1).bytes(v).finish().as_slice(),
            )
            .ctx("write bucket setting")?;
        }
        None => {
            t.remove(k.as_slice()).ctx("remove bucket setting")?;
        }
    }
    txn.record(Change::BucketSettingChanged {
        bucket: bucket.to_owned(),
        setting: setting.to_owned(),
    });
    Ok(())
}

/// The `bucket_settings` table, as sealed values name it.
const SETTINGS_TABLE: &str = "bucket_settings";

/// A setting a client sent (tags, lifecycle rules…), opened: its value is
/// sealed to the table and its index key, so it cannot be read elsewhere or
/// moved to another bucket or setting. `what` names it in errors.
pub(crate) fn sealed_setting(
    txn: &ReadTxn,
    bucket: &str,
    name: &str,
    what: &'static str,
) -> EngineResult<Option<Vec<u8>>> {
    let sealed = setting(txn, bucket, name)?;
    open_setting(txn.sealer(), bucket, name, what, sealed)
}

/// The same, inside a write transaction.
pub(crate) fn sealed_setting_rw(
    txn: &Txn<'_>,
    bucket: &str,
    name: &str,
    what: &'static str,
) -> EngineResult<Option<Vec<u8>>> {
    let t = txn
        .open_table(BUCKET_SETTINGS)
        .ctx("open bucket_settings")?;
    let sealed = setting_in(&t, bucket, name)?;
    open_setting(txn.sealer(), bucket, name, what, sealed)
}

fn open_setting(
    sealer: &super::seal::RecordSealer,
    bucket: &str,
    name: &str,
    what: &'static str,
    sealed: Option<Vec<u8>>,
) -> EngineResult<Option<Vec<u8>>> {
    let Some(sealed) = sealed else {
        return Ok(None);
    };
    let key = setting_key(bucket, name);
    let place = Place {
        table: SETTINGS_TABLE,
        key: &key,
        header: &[],
    };
    sealer.open(what, place, &sealed).map(Some)
}

/// Sets (`Some`, sealed as [`sealed_setting`] opens it) or clears a
/// setting of an existing bucket.
pub(crate) fn put_sealed_setting(
    txn: &Txn<'_>,
    bucket: &str,
    name: &str,
    plain: Option<&[u8]>,
) -> EngineResult<()> {
    let key = setting_key(bucket, name);
    let sealed = match plain {
        Some(p) => Some(txn.sealer().seal(
            Place {
                table: SETTINGS_TABLE,
                key: &key,
                header: &[],
            },
            p,
        )?),
        None => None,
    };
    put_setting(txn, bucket, name, sealed.as_deref())
}
