//! The `packs` table: pack id → [`PackRecord`] (size, live bytes, and the
//! store that holds the pack).
//!
//! Record versions:
//! - v1: `size u64, live_bytes u64, created_us i64` — every pack in the
//!   local store; read with `store = DEFAULT_STORE`.
//! - v2: v1 + `store: str`, the configured name of the store holding it.

use redb::{ReadableTable, TableDefinition};

use super::codec::{Reader, Writer};
use super::txn::ReadTxn;
use super::{Bin, MetaContext};
use crate::engine::error::EngineResult;

pub(crate) const PACKS: Bin = TableDefinition::new("packs");

/// The store of packs recorded before records named their store.
pub const DEFAULT_STORE: &str = "local";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PackRecord {
    pub size: u64,
    /// Sealed bytes of chunks that are still referenced.
    pub live_bytes: u64,
    pub created_us: i64,
    /// The configured name of the store that holds the pack.
    pub store: String,
}

impl PackRecord {
    pub fn encode(&self) -> Vec<u8> {
        Writer::with_version(2)
            .u64(self.size)
            .u64(self.live_bytes)
            .i64(self.created_us)
            .str(&self.store)
            .finish()
    }
    pub fn decode(b: &[u8]) -> EngineResult<Self> {
        let mut r = Reader::new(b, "pack");
        let version = r.version(2)?;
        let size = r.u64()?;
        let live_bytes = r.u64()?;
        let created_us = r.i64()?;
        let store = match version {
            1 => DEFAULT_STORE.to_owned(),
            _ => r.str()?,
        };
        Ok(PackRecord {
            size,
            live_bytes,
            created_us,
            store,
        })
    }
}

/// Every pack record (for counters; the table holds one row per pack).
pub(crate) fn all(txn: &ReadTxn) -> EngineResult<Vec<PackRecord>> {
    let t = txn.open_table(PACKS).ctx("open packs")?;
    let mut out = Vec::new();
    for item in t.iter().ctx("scan packs")? {
        let (_, v) = item.ctx("scan packs")?;
        out.push(PackRecord::decode(v.value())?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_round_trips_with_its_store() {
        let rec = PackRecord {
            size: 1 << 20,
            live_bytes: 4096,
            created_us: 1_700_000_000_000_000,
            store: "offsite-b2".into(),
        };
        let bytes = rec.encode();
        assert_eq!(bytes[0], 2);
        assert_eq!(PackRecord::decode(&bytes).unwrap(), rec);
    }

    #[test]
    fn v1_reads_as_the_local_store() {
        // Exactly what the v1 encoder (before stores were named) wrote.
        let mut v1 = vec![1u8];
        v1.extend_from_slice(&(1u64 << 20).to_be_bytes());
        v1.extend_from_slice(&4096u64.to_be_bytes());
        v1.extend_from_slice(&1_700_000_000_000_000i64.to_be_bytes());
        let rec = PackRecord::decode(&v1).unwrap();
        assert_eq!(
            rec,
            PackRecord {
                size: 1 << 20,
                live_bytes: 4096,
                created_us: 1_700_000_000_000_000,
                store: DEFAULT_STORE.into(),
            }
        );
        assert_eq!(DEFAULT_STORE, "local");
    }

    #[test]
    fn unknown_versions_and_truncation_are_errors() {
        assert!(PackRecord::decode(&[3, 0, 0]).is_err());
        let v2 = PackRecord {
            size: 1,
            live_bytes: 1,
            created_us: 1,
            store: "local".into(),
        }
        .encode();
        assert!(PackRecord::decode(&v2[..v2.len() - 1]).is_err());
    }
}
