//! Index segments ("chunk id → pack, offset, length", encrypted for storage) and the compact
//! unencrypted per-entry value for the server's local metadata store.

use crate::Result;
use crate::codec::{Reader, Writer, check_version};
use crate::envelope::{self, Purpose};
use crate::id::{ChunkId, PackId};
use crate::keys::Keys;
use crate::random::{OsRandom, RandomSource};
use crate::seal::{ChunkKind, Compression};

const SEGMENT_VERSION: u8 = 1;
const VALUE_VERSION: u8 = 1;
const SEGMENT: &str = "index segment";
const VALUE: &str = "index entry value";
/// Encoded size of one entry without its id.
const VALUE_BODY_LEN: usize = 32 + 8 + 4 + 4 + 1 + 1;
const SEGMENT_ENTRY_LEN: usize = 32 + VALUE_BODY_LEN;

/// Where a chunk is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexEntry {
    pub id: ChunkId,
    pub pack: PackId,
    pub offset: u64,
    pub sealed_len: u32,
    pub plain_len: u32,
    pub compression: Compression,
    pub kind: ChunkKind,
}

/// A batch of index entries as written to storage.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IndexSegment {
    pub entries: Vec<IndexEntry>,
}

fn write_body(w: &mut Writer, e: &IndexEntry) {
    w.bytes(&e.pack.0);
    w.u64(e.offset);
    w.u32(e.sealed_len);
    w.u32(e.plain_len);
    w.u8(e.compression as u8);
    w.u8(e.kind as u8);
}

fn read_body(r: &mut Reader<'_>, id: ChunkId) -> Result<IndexEntry> {
    let pack = PackId(r.array()?);
    let offset = r.u64()?;
    let sealed_len = r.u32()?;
    let plain_len = r.u32()?;
    let compression =
        Compression::try_from(r.u8()?).map_err(|_| r.malformed("unknown compression"))?;
    let kind = ChunkKind::try_from(r.u8()?).map_err(|_| r.malformed("unknown chunk kind"))?;
    if offset.checked_add(u64::from(sealed_len)).is_none() {
        return Err(r.malformed("chunk range overflows"));
    }
    Ok(IndexEntry {
        id,
        pack,
        offset,
        sealed_len,
        plain_len,
        compression,
        kind,
    })
}

impl IndexEntry {
    /// `[version][pack 32][offset u64][sealed_len u32][plain_len u32][compression u8][kind u8]`;
    /// the id is the store's key, so it is not repeated.
    pub fn encode_value(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(1 + VALUE_BODY_LEN);
        w.u8(VALUE_VERSION);
        write_body(&mut w, self);
        w.into_inner()
    }

    /// Parses a value written by [`IndexEntry::encode_value`] for chunk `id`.
    pub fn decode_value(id: ChunkId, b: &[u8]) -> Result<Self> {
        let mut r = Reader::new(b, VALUE);
        check_version(VALUE, r.u8()?, VALUE_VERSION)?;
        let e = read_body(&mut r, id)?;
        r.finish()?;
        Ok(e)
    }
}

impl IndexSegment {
    /// Encrypted under the metadata key; the AES-GCM tag is the checksum.
    pub fn encode(&self, keys: &Keys) -> Result<Vec<u8>> {
        encode_segment_with_random(self, keys, &mut OsRandom)
    }

    /// Authenticates and parses a segment.
    pub fn decode(keys: &Keys, bytes: &[u8]) -> Result<Self> {
        let plain = envelope::open(keys.metadata_key(), Purpose::IndexSegment, &[], bytes)?;
        decode_segment_plain(&plain)
    }
}

/// Parses a decrypted segment (exposed for fuzzing the layer under the encryption).
#[doc(hidden)]
pub fn decode_segment_plain(plain: &[u8]) -> Result<IndexSegment> {
    let mut r = Reader::new(plain, SEGMENT);
    check_version(SEGMENT, r.u8()?, SEGMENT_VERSION)?;
    let count = r.count(SEGMENT_ENTRY_LEN)?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let id = ChunkId(r.array()?);
        entries.push(read_body(&mut r, id)?);
    }
    r.finish()?;
    Ok(IndexSegment { entries })
}

/// [`IndexSegment::encode`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn encode_segment_with_random(
    segment: &IndexSegment,
    keys: &Keys,
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(1 + 10 + segment.entries.len() * SEGMENT_ENTRY_LEN);
    w.u8(SEGMENT_VERSION);
    w.varint(segment.entries.len() as u64);
    for e in &segment.entries {
        w.bytes(&e.id.0);
        write_body(&mut w, e);
    }
    envelope::seal(keys.metadata_key(), Purpose::IndexSegment, &[], &w.buf, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::keys::MasterKey;

    fn entry(n: u8) -> IndexEntry {
        IndexEntry {
            id: ChunkId([n; 32]),
            pack: PackId([n.wrapping_add(1); 32]),
            offset: u64::from(n) * 1000,
            sealed_len: 500 + u32::from(n),
            plain_len: 900,
            compression: if n.is_multiple_of(2) {
                Compression::Zstd
            } else {
                Compression::None
            },
            kind: ChunkKind::Data,
        }
    }

    #[test]
    fn segment_round_trip() {
        let keys = Keys::derive(&MasterKey::from_bytes([4; 32]));
        let seg = IndexSegment {
            entries: (0..10).map(entry).collect(),
        };
        let bytes = seg.encode(&keys).unwrap();
        assert_eq!(IndexSegment::decode(&keys, &bytes).unwrap(), seg);
        let empty = IndexSegment::default();
        assert_eq!(
            IndexSegment::decode(&keys, &empty.encode(&keys).unwrap()).unwrap(),
            empty
        );
    }

    #[test]
    fn newer_segment_plaintext_is_refused() {
        let keys = Keys::derive(&MasterKey::from_bytes([4; 32]));
        let sealed = envelope::seal(
            keys.metadata_key(),
            Purpose::IndexSegment,
            &[],
            &[SEGMENT_VERSION + 1, 0],
            &mut OsRandom,
        )
        .unwrap();
        assert!(matches!(
            IndexSegment::decode(&keys, &sealed),
            Err(Error::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn value_round_trip() {
        let e = entry(3);
        let v = e.encode_value();
        assert_eq!(v.len(), 51);
        assert_eq!(IndexEntry::decode_value(e.id, &v).unwrap(), e);
        assert!(IndexEntry::decode_value(e.id, &v[..50]).is_err());
        let mut newer = v.clone();
        newer[0] = 2;
        assert!(matches!(
            IndexEntry::decode_value(e.id, &newer),
            Err(Error::UnsupportedVersion { .. })
        ));
    }
}
