//! The migration on open that seals what earlier releases stored in clear:
//! every v1 object version, multipart upload and part is rewritten as v2
//! (its manifest or metadata sealed, see [`super::seal`]), in bounded
//! batches through [`MetaStore::write`]. It runs until `engine_meta`
//! records that it finished (`records_sealed`), so a crash part-way through
//! only means the next open goes on where it stopped (v2 rows are skipped).
//!
//! Rewriting a value does not erase its old bytes: redb writes a changed
//! page to a new place and frees the old one, and freed pages keep what they
//! held. `MetaStore::open` therefore rebuilds the file once after this
//! migration (`super::rebuild`) before the marker is set.

use std::ops::Bound;

use redb::ReadableTable;

use super::seal::RecordSealer;
use super::store::MetaStore;
use super::txn::Txn;
use super::uploads::{PARTS, PartRecord, UPLOADS, UploadRecord};
use super::versions::{VERSIONS, VersionRecord};
use super::{Bin, MetaContext, engine_meta};
use crate::engine::error::EngineResult;

/// Most records rewritten in one transaction: bounds its memory and how
/// long it holds the write lock.
const BATCH: usize = 512;
/// Most rows looked at in one transaction (a table already mostly v2 is
/// walked in steps too).
const SCAN: usize = 8192;
/// The version byte of the records this migration rewrites.
const V1_PLAIN: u8 = 1;

/// The tables whose values have a v1 (clear) form.
#[derive(Debug, Clone, Copy)]
enum Family {
    Versions,
    Uploads,
    Parts,
}

impl Family {
    fn table(self) -> Bin {
        match self {
            Family::Versions => VERSIONS,
            Family::Uploads => UPLOADS,
            Family::Parts => PARTS,
        }
    }

    /// The v2 form of a v1 value stored under `key`.
    fn reseal(self, sealer: &RecordSealer, key: &[u8], v1: &[u8]) -> EngineResult<Vec<u8>> {
        match self {
            Family::Versions => VersionRecord::decode(v1, sealer, key)?.encode(sealer, key),
            Family::Uploads => UploadRecord::decode(v1, sealer, key)?.encode(sealer, key),
            Family::Parts => PartRecord::decode(v1, sealer, key)?.encode(sealer, key),
        }
    }
}

/// How many records the migration rewrote, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SealReport {
    pub versions: u64,
    pub uploads: u64,
    pub parts: u64,
}

impl SealReport {
    pub fn total(&self) -> u64 {
        self.versions + self.uploads + self.parts
    }
}

/// Whether the migration already finished on this database.
pub(crate) fn done(store: &MetaStore) -> EngineResult<bool> {
    engine_meta::records_sealed(&store.read()?)
}

/// Rewrites every v1 row of the three tables as v2. Does not set the marker
/// (the caller does, once the old bytes are gone from the file).
pub(crate) fn seal_plain_records(store: &MetaStore) -> EngineResult<SealReport> {
    let mut report = SealReport::default();
    for family in [Family::Versions, Family::Uploads, Family::Parts] {
        let mut after: Option<Vec<u8>> = None;
        loop {
            let (n, next) = store.write("seal plain records", |txn| {
                reseal_batch(txn, family, after.as_deref())
            })?;
            match family {
                Family::Versions => report.versions += n,
                Family::Uploads => report.uploads += n,
                Family::Parts => report.parts += n,
            }
            match next {
                Some(k) => after = Some(k),
                None => break,
            }
        }
    }
    Ok(report)
}

/// One batch: the v1 rows among the next rows after `after`, rewritten.
/// Returns how many it rewrote and where the next batch starts (`None`
/// when the table is done).
fn reseal_batch(
    txn: &Txn<'_>,
    family: Family,
    after: Option<&[u8]>,
) -> EngineResult<(u64, Option<Vec<u8>>)> {
    let mut t = txn.open_table(family.table()).ctx("open table to seal")?;
    let mut rows: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut next = None;
    {
        let lower = match after {
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        let mut scanned = 0;
        for item in t
            .range::<&[u8]>((lower, Bound::Unbounded))
            .ctx("scan table to seal")?
        {
            let (k, v) = item.ctx("scan table to seal")?;
            if v.value().first() == Some(&V1_PLAIN) {
                rows.push((k.value().to_vec(), v.value().to_vec()));
            }
            scanned += 1;
            if rows.len() == BATCH || scanned == SCAN {
                next = Some(k.value().to_vec());
                break;
            }
        }
    }
    for (k, v1) in &rows {
        let v2 = family.reseal(txn.sealer(), k, v1)?;
        t.insert(k.as_slice(), v2.as_slice())
            .ctx("write sealed record")?;
    }
    Ok((rows.len() as u64, next))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use coffer_repo::{ChunkId, ChunkRef, Keys, Manifest, MasterKey};

    use super::*;
    use crate::engine::meta::engine_meta::{ENGINE_META, META_RECORDS_SEALED};
    use crate::engine::meta::keys::{part_key, upload_key, version_key};
    use crate::engine::meta::uploads;
    use crate::engine::types::ObjectMeta;

    const MARKER: &str = "plaintext-marker-5f1c2e";

    fn keys() -> Keys {
        Keys::derive(&MasterKey::from_bytes([3; 32]))
    }

    fn manifest(i: u64) -> Manifest {
        Manifest {
            size: i,
            etag: format!("etag-{MARKER}-{i}"),
            content_type: Some(format!("text/{MARKER}")),
            user_metadata: vec![("note".into(), format!("{MARKER} {i}"))],
            chunks: vec![ChunkRef {
                id: ChunkId([i as u8; 32]),
                offset: 0,
                len: 1,
            }],
            ..Manifest::default()
        }
    }

    fn version(i: u64, marker: bool) -> VersionRecord {
        VersionRecord {
            seq: i + 1,
            rand: i * 7,
            null: false,
            delete_marker: marker,
            mtime_us: 1_000 + i as i64,
            manifest: (!marker).then(|| manifest(i)),
        }
    }

    /// What a database written by a release before sealing holds: `n`
    /// versions (every tenth a delete marker), `n / 10` uploads and parts,
    /// all v1, and no `records_sealed` marker.
    fn write_v1(path: &std::path::Path, n: u64) {
        let store = MetaStore::open(path, &keys()).unwrap();
        store
            .write("write v1 rows", |txn| -> EngineResult<()> {
                let mut v = txn.open_table(VERSIONS).ctx("t")?;
                for i in 0..n {
                    let k = version_key("bkt", &format!("obj/{i:05}"), i + 1);
                    v.insert(k.as_slice(), version(i, i % 10 == 9).encode_v1().as_slice())
                        .ctx("t")?;
                }
                let mut u = txn.open_table(uploads::UPLOADS).ctx("t")?;
                let mut p = txn.open_table(uploads::PARTS).ctx("t")?;
                for i in 0..n / 10 {
                    let id = format!("{i:032x}");
                    let rec = UploadRecord {
                        initiated_us: i as i64,
                        checksum_algorithm: None,
                        meta: ObjectMeta {
                            content_type: Some(format!("application/{MARKER}")),
                            system: vec![],
                            user: vec![("who".into(), MARKER.into())],
                            tags: vec![],
                            lock: Default::default(),
                        },
                    };
                    let k = upload_key("bkt", &format!("up/{i}"), &id);
                    u.insert(k.as_slice(), rec.encode_v1().as_slice())
                        .ctx("t")?;
                    let part = PartRecord {
                        mtime_us: 5,
                        manifest: manifest(i),
                    };
                    p.insert(part_key(&id, 1).as_slice(), part.encode_v1().as_slice())
                        .ctx("t")?;
                }
                let mut m = txn.open_table(ENGINE_META).ctx("t")?;
                m.remove(META_RECORDS_SEALED).ctx("t")?;
                Ok(())
            })
            .unwrap();
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    fn all_rows(store: &MetaStore, table: Bin) -> Vec<(Vec<u8>, Vec<u8>)> {
        let txn = store.read().unwrap();
        let t = txn.open_table(table).unwrap();
        t.iter()
            .unwrap()
            .map(|r| {
                let (k, v) = r.unwrap();
                (k.value().to_vec(), v.value().to_vec())
            })
            .collect()
    }

    #[test]
    fn open_seals_every_v1_record_once_and_rebuilds_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.redb");
        // More rows than one batch, and than one scan, of each kind.
        write_v1(&path, 12_000);
        let before = std::fs::read(&path).unwrap();
        assert!(
            contains(&before, MARKER.as_bytes()),
            "the fixture is in clear"
        );
        // Start-up may have narrowed the file's mode: the rebuilt file keeps it.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

        let store = MetaStore::open(&path, &keys()).unwrap();
        let sealer = RecordSealer::new(keys());
        let versions = all_rows(&store, VERSIONS);
        assert_eq!(versions.len(), 12_000);
        for (i, (k, v)) in versions.iter().enumerate() {
            assert_eq!(v[0], 2, "version row {i} is v2");
            let rec = VersionRecord::decode(v, &sealer, k).unwrap();
            let n = rec.seq - 1;
            assert_eq!(rec.delete_marker, n % 10 == 9);
            if let Some(m) = rec.manifest {
                assert_eq!(m, manifest(n));
            }
        }
        for (k, v) in all_rows(&store, UPLOADS) {
            assert_eq!(v[0], 2);
            let rec = UploadRecord::decode(&v, &sealer, &k).unwrap();
            assert_eq!(rec.meta.user, vec![("who".to_string(), MARKER.to_string())]);
        }
        let parts = all_rows(&store, PARTS);
        assert_eq!(parts.len(), 1_200);
        for (k, v) in parts {
            assert_eq!(v[0], 2);
            PartRecord::decode(&v, &sealer, &k).unwrap();
        }
        assert!(done(&store).unwrap());
        drop(store);

        let after = std::fs::read(&path).unwrap();
        assert!(
            !contains(&after, MARKER.as_bytes()),
            "a metadata value is still in clear in meta.redb after the migration"
        );
        let rebuilt = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            rebuilt & 0o777,
            0o600,
            "the rebuilt file keeps the old mode"
        );

        // The second open finds the marker and rewrites nothing.
        let store = MetaStore::open(&path, &keys()).unwrap();
        assert_eq!(seal_plain_records(&store).unwrap(), SealReport::default());
    }
}
