//! Packs: `[sealed chunk]* [sealed header] [header length u32 LE] [magic "CFPK"] [version u8]`.
//! Built incrementally so a pack can be streamed to storage; read back from its tail.

use crate::codec::{Reader, Writer, check_version};
use crate::envelope::{self, Purpose};
use crate::id::{ChunkId, PackId};
use crate::keys::Keys;
use crate::random::{OsRandom, RandomSource};
use crate::seal::{ChunkKind, Compression, SealedChunk, open_chunk};
use crate::{Error, Result};

/// The last four bytes before the version byte of every pack.
pub const PACK_MAGIC: [u8; 4] = *b"CFPK";
/// Version of the pack trailer (last byte of the pack).
const PACK_VERSION: u8 = 1;
/// Version of the header plaintext (first byte inside the sealed header).
const HEADER_VERSION: u8 = 1;
/// Fixed trailer: header length (u32 LE) + magic + version.
pub const PACK_TRAILER_LEN: usize = 4 + 4 + 1;
/// Encoded size of one header entry.
const ENTRY_LEN: usize = 32 + 1 + 8 + 4 + 4 + 1;
const STRUCTURE: &str = "pack header";

/// Where one chunk lives inside its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PackEntry {
    pub id: ChunkId,
    pub kind: ChunkKind,
    /// Byte offset of the sealed chunk from the start of the pack.
    pub offset: u64,
    pub sealed_len: u32,
    pub plain_len: u32,
    pub compression: Compression,
}

impl PackEntry {
    /// The entry's byte range inside the pack.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.offset..self.offset + u64::from(self.sealed_len)
    }
}

/// Accumulates entries and the running pack hash while the caller writes chunk bytes out.
#[derive(Debug)]
pub struct PackBuilder {
    hasher: blake3::Hasher,
    entries: Vec<PackEntry>,
    len: u64,
}

impl Default for PackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// A completed pack: what to append after the chunks, and its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedPack {
    /// BLAKE3 of every byte of the pack (chunks + tail); also the pack's name.
    pub id: PackId,
    /// Sealed header + header length + magic + version, to append after the chunks.
    pub tail: Vec<u8>,
    /// Every chunk's entry, in pack order.
    pub entries: Vec<PackEntry>,
    /// Length of the whole pack, tail included.
    pub total_len: u64,
}

impl PackBuilder {
    /// An empty pack.
    pub fn new() -> Self {
        Self {
            hasher: blake3::Hasher::new(),
            entries: Vec::new(),
            len: 0,
        }
    }

    /// Records the chunk and hashes its bytes; the caller writes `sealed.bytes` to storage
    /// itself, in the same order.
    pub fn add(&mut self, id: ChunkId, kind: ChunkKind, sealed: &SealedChunk) -> PackEntry {
        self.hasher.update(&sealed.bytes);
        let entry = PackEntry {
            id,
            kind,
            offset: self.len,
            // Sealed chunks are at most MAX_CHUNK_LEN + envelope overhead, far below u32::MAX.
            sealed_len: sealed.bytes.len() as u32,
            plain_len: sealed.plain_len,
            compression: sealed.compression,
        };
        self.len += sealed.bytes.len() as u64;
        self.entries.push(entry);
        entry
    }

    /// Bytes of chunks added so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Number of chunks added so far.
    pub fn chunk_count(&self) -> usize {
        self.entries.len()
    }

    /// True before the first chunk.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Seals the header and returns the tail to append plus the pack id.
    pub fn finish(self, keys: &Keys) -> Result<FinishedPack> {
        finish_with_random(self, keys, &mut OsRandom)
    }
}

/// [`PackBuilder::finish`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn finish_with_random(
    builder: PackBuilder,
    keys: &Keys,
    rng: &mut dyn RandomSource,
) -> Result<FinishedPack> {
    let PackBuilder {
        mut hasher,
        entries,
        len,
    } = builder;
    let plain = encode_header(len, &entries);
    let sealed = envelope::seal(keys.metadata_key(), Purpose::PackHeader, &[], &plain, rng)?;
    let header_len = u32::try_from(sealed.len()).map_err(|_| Error::Malformed {
        structure: STRUCTURE,
        reason: "header larger than 4 GiB",
    })?;
    let mut tail = sealed;
    tail.extend_from_slice(&header_len.to_le_bytes());
    tail.extend_from_slice(&PACK_MAGIC);
    tail.push(PACK_VERSION);
    hasher.update(&tail);
    Ok(FinishedPack {
        id: PackId(*hasher.finalize().as_bytes()),
        total_len: len + tail.len() as u64,
        tail,
        entries,
    })
}

/// `[version][data_len u64][count varint][entry]*`, entries fixed-size.
fn encode_header(data_len: u64, entries: &[PackEntry]) -> Vec<u8> {
    let mut w = Writer::with_capacity(1 + 8 + 10 + entries.len() * ENTRY_LEN);
    w.u8(HEADER_VERSION);
    w.u64(data_len);
    w.varint(entries.len() as u64);
    for e in entries {
        w.bytes(&e.id.0);
        w.u8(e.kind as u8);
        w.u64(e.offset);
        w.u32(e.sealed_len);
        w.u32(e.plain_len);
        w.u8(e.compression as u8);
    }
    w.into_inner()
}

/// Parses a decrypted pack header (exposed for fuzzing the layer under the encryption).
#[doc(hidden)]
pub fn decode_header_plain(plain: &[u8]) -> Result<Vec<PackEntry>> {
    decode_header(plain).map(|(_, entries)| entries)
}

fn decode_header(plain: &[u8]) -> Result<(u64, Vec<PackEntry>)> {
    let mut r = Reader::new(plain, STRUCTURE);
    check_version(STRUCTURE, r.u8()?, HEADER_VERSION)?;
    let data_len = r.u64()?;
    let count = r.count(ENTRY_LEN)?;
    let mut entries = Vec::with_capacity(count);
    let mut expected_offset = 0u64;
    for _ in 0..count {
        let id = ChunkId(r.array()?);
        let kind = ChunkKind::try_from(r.u8()?).map_err(|_| r.malformed("unknown chunk kind"))?;
        let offset = r.u64()?;
        let sealed_len = r.u32()?;
        let plain_len = r.u32()?;
        let compression =
            Compression::try_from(r.u8()?).map_err(|_| r.malformed("unknown compression"))?;
        // Chunks are contiguous from offset 0 in the order listed.
        if offset != expected_offset {
            return Err(r.malformed("chunk offsets are not contiguous"));
        }
        expected_offset = offset
            .checked_add(u64::from(sealed_len))
            .ok_or_else(|| r.malformed("chunk range overflows"))?;
        entries.push(PackEntry {
            id,
            kind,
            offset,
            sealed_len,
            plain_len,
            compression,
        });
    }
    r.finish()?;
    if expected_offset != data_len {
        return Err(Error::Malformed {
            structure: STRUCTURE,
            reason: "chunks do not end where the header starts",
        });
    }
    Ok((data_len, entries))
}

/// From the fixed trailer (the pack's last [`PACK_TRAILER_LEN`] bytes): the length of the
/// sealed header that precedes it.
pub fn pack_header_len(trailer: &[u8]) -> Result<u32> {
    const TRAILER: &str = "pack trailer";
    if trailer.len() != PACK_TRAILER_LEN {
        return Err(Error::Truncated { structure: TRAILER });
    }
    let mut r = Reader::new(trailer, TRAILER);
    let len = r.u32()?;
    if r.array::<4>()? != PACK_MAGIC {
        return Err(Error::BadMagic);
    }
    check_version(TRAILER, r.u8()?, PACK_VERSION)?;
    Ok(len)
}

/// Authenticates and decodes a sealed pack header into the pack's entries.
pub fn read_pack_header(keys: &Keys, sealed_header: &[u8]) -> Result<Vec<PackEntry>> {
    let plain = envelope::open(keys.metadata_key(), Purpose::PackHeader, &[], sealed_header)?;
    decode_header(&plain).map(|(_, entries)| entries)
}

/// Checks a whole in-memory pack: trailer, header, layout, and every chunk (decrypted and
/// its id recomputed). Returns the entries.
pub fn read_pack(keys: &Keys, pack: &[u8]) -> Result<Vec<PackEntry>> {
    let Some(trailer_start) = pack.len().checked_sub(PACK_TRAILER_LEN) else {
        return Err(Error::Truncated { structure: "pack" });
    };
    let header_len = pack_header_len(&pack[trailer_start..])? as usize;
    let Some(header_start) = trailer_start.checked_sub(header_len) else {
        return Err(Error::Truncated { structure: "pack" });
    };
    let plain = envelope::open(
        keys.metadata_key(),
        Purpose::PackHeader,
        &[],
        &pack[header_start..trailer_start],
    )?;
    let (data_len, entries) = decode_header(&plain)?;
    if data_len != header_start as u64 {
        return Err(Error::Malformed {
            structure: "pack",
            reason: "header does not follow the last chunk",
        });
    }
    for e in &entries {
        // In range: offsets are contiguous and end at data_len == header_start.
        let bytes = &pack[e.offset as usize..(e.offset + u64::from(e.sealed_len)) as usize];
        let plain = open_chunk(keys, &e.id, bytes, e.compression, e.plain_len)?;
        if ChunkId::compute(keys, &plain) != e.id {
            return Err(Error::Malformed {
                structure: "pack",
                reason: "chunk content does not match its id",
            });
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;
    use crate::seal::seal_chunk;

    #[test]
    fn build_and_read_back() {
        let keys = Keys::derive(&MasterKey::from_bytes([3; 32]));
        let mut b = PackBuilder::new();
        assert!(b.is_empty());
        let mut pack = Vec::new();
        let chunks: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 1000 * (i as usize + 1)]).collect();
        for c in &chunks {
            let id = ChunkId::compute(&keys, c);
            let s = seal_chunk(&keys, &id, c, 3).unwrap();
            let e = b.add(id, ChunkKind::Data, &s);
            assert_eq!(e.offset, pack.len() as u64);
            pack.extend_from_slice(&s.bytes);
        }
        assert_eq!(b.chunk_count(), 5);
        assert_eq!(b.len(), pack.len() as u64);
        let fin = b.finish(&keys).unwrap();
        pack.extend_from_slice(&fin.tail);
        assert_eq!(fin.total_len, pack.len() as u64);
        assert_eq!(fin.id, PackId::compute(&pack));

        assert_eq!(read_pack(&keys, &pack).unwrap(), fin.entries);
        // From the tail alone.
        let trailer = &pack[pack.len() - PACK_TRAILER_LEN..];
        let hl = pack_header_len(trailer).unwrap() as usize;
        let hstart = pack.len() - PACK_TRAILER_LEN - hl;
        let entries =
            read_pack_header(&keys, &pack[hstart..pack.len() - PACK_TRAILER_LEN]).unwrap();
        assert_eq!(entries, fin.entries);
        // One chunk from its range.
        let e = entries[3];
        let r = e.range();
        let plain = open_chunk(
            &keys,
            &e.id,
            &pack[r.start as usize..r.end as usize],
            e.compression,
            e.plain_len,
        )
        .unwrap();
        assert_eq!(plain, chunks[3][..]);
    }

    #[test]
    fn newer_header_plaintext_is_refused() {
        let mut plain = encode_header(0, &[]);
        assert!(decode_header(&plain).is_ok());
        plain[0] = HEADER_VERSION + 1;
        assert!(matches!(
            decode_header(&plain),
            Err(Error::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn empty_pack_is_valid() {
        let keys = Keys::derive(&MasterKey::from_bytes([3; 32]));
        let fin = PackBuilder::new().finish(&keys).unwrap();
        assert!(read_pack(&keys, &fin.tail).unwrap().is_empty());
    }
}
