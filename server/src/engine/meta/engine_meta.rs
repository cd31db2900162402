//! The `engine_meta` table: small named values of the engine itself
//! (`last_seq`, the version sequence; `root_access_key`, the id of the key
//! made on first start; `records_sealed`, set once the migration that seals
//! records earlier releases kept in clear has finished, holding how many it
//! sealed).

use redb::{ReadableTable, TableDefinition};

use super::codec::{Reader, Writer};
use super::txn::{ReadTxn, Txn};
use super::{MetaContext, Named};
use crate::engine::error::EngineResult;

pub(crate) const ENGINE_META: Named = TableDefinition::new("engine_meta");

pub(crate) const META_LAST_SEQ: &str = "last_seq";
pub(crate) const META_ROOT_KEY: &str = "root_access_key";
pub(crate) const META_RECORDS_SEALED: &str = "records_sealed";

/// A small value holding one version sequence number (also the live and
/// null tables' values).
pub(crate) fn encode_seq(seq: u64) -> Vec<u8> {
    Writer::with_version(1).u64(seq).finish()
}

pub(crate) fn decode_seq(b: &[u8]) -> EngineResult<u64> {
    let mut r = Reader::new(b, "sequence");
    r.version(1)?;
    r.u64()
}

/// Next version sequence number: strictly increasing across the database's
/// life (write transactions are serialised, and the last value is stored), and
/// close to the engine clock in microseconds so ids carry their age.
pub(crate) fn next_seq(txn: &Txn<'_>, now_us: i64) -> EngineResult<u64> {
    let mut t = txn.open_table(ENGINE_META).ctx("open engine_meta")?;
    let last = match t.get(META_LAST_SEQ).ctx("read last_seq")? {
        Some(v) => decode_seq(v.value())?,
        None => 0,
    };
    let seq = (u64::try_from(now_us).unwrap_or(0)).max(last + 1);
    t.insert(META_LAST_SEQ, encode_seq(seq).as_slice())
        .ctx("write last_seq")?;
    Ok(seq)
}

/// The root key's id, once the first start made it.
pub(crate) fn root_key(txn: &Txn<'_>) -> EngineResult<Option<String>> {
    let t = txn.open_table(ENGINE_META).ctx("open engine_meta")?;
    let v = t.get(META_ROOT_KEY).ctx("read root key marker")?;
    Ok(v.map(|v| String::from_utf8_lossy(v.value()).into_owned()))
}

pub(crate) fn set_root_key(txn: &Txn<'_>, id: &str) -> EngineResult<()> {
    let mut t = txn.open_table(ENGINE_META).ctx("open engine_meta")?;
    t.insert(META_ROOT_KEY, id.as_bytes())
        .ctx("write root key marker")?;
    Ok(())
}

/// Whether the sealing migration has finished on this database.
pub(crate) fn records_sealed(txn: &ReadTxn) -> EngineResult<bool> {
    let t = txn.open_table(ENGINE_META).ctx("open engine_meta")?;
    Ok(t.get(META_RECORDS_SEALED)
        .ctx("read records_sealed")?
        .is_some())
}

/// Records that the sealing migration finished, after sealing `count` records.
pub(crate) fn set_records_sealed(txn: &Txn<'_>, count: u64) -> EngineResult<()> {
    let mut t = txn.open_table(ENGINE_META).ctx("open engine_meta")?;
    t.insert(META_RECORDS_SEALED, encode_seq(count).as_slice())
        .ctx("write records_sealed")?;
    Ok(())
}
