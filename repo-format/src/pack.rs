//! Packs: `[sealed chunk]* [sealed header] [header length u32 LE] [magic "CFPK"] [version u8]`.
//! Built incrementally so a pack can be streamed to storage; read back from its tail.
//!
//! Version 2 (written today): the pack id is chosen before the first byte is written (so a
//! remote store can stream the pack under its final name) and bound into the sealed header
//! as associated data, so a pack cannot be renamed or swapped for another. Version 1 (still
//! read): the id is the BLAKE3 of every byte of the pack, known only once it is complete.

use crate::codec::{Reader, Writer, check_version};
use crate::envelope::{self, Purpose};
use crate::id::{ChunkId, PackId};
use crate::keys::Keys;
use crate::random::{OsRandom, RandomSource};
use crate::seal::{ChunkKind, Compression, SealedChunk, open_chunk};
use crate::{Error, Result};

/// The last four bytes before the version byte of every pack.
pub const PACK_MAGIC: [u8; 4] = *b"CFPK";
/// Version of the pack trailer (last byte of the pack) that this build writes.
const PACK_VERSION: u8 = 2;
/// Content-hash named packs (no id in the header's associated data).
const PACK_VERSION_HASH_NAMED: u8 = 1;
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

/// How the pack's name is tied to its bytes.
#[derive(Debug)]
enum Naming {
    /// Version 2: chosen up front, bound into the header.
    Chosen(PackId),
    /// Version 1: the hash of every byte, accumulated as chunks are added.
    ContentHash(Box<blake3::Hasher>),
}

/// Accumulates entries (and, for a version 1 pack, the running pack hash) while the caller
/// writes chunk bytes out.
#[derive(Debug)]
pub struct PackBuilder {
    naming: Naming,
    entries: Vec<PackEntry>,
    len: u64,
}

/// A completed pack: what to append after the chunks, and its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedPack {
    /// The pack's name: the id given to [`PackBuilder::new`] (version 2), or the BLAKE3 of
    /// every byte of the pack (version 1).
    pub id: PackId,
    /// Sealed header + header length + magic + version, to append after the chunks.
    pub tail: Vec<u8>,
    /// Every chunk's entry, in pack order.
    pub entries: Vec<PackEntry>,
    /// Length of the whole pack, tail included.
    pub total_len: u64,
}

/// The fixed trailer of a pack, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackTrailer {
    /// Length of the sealed header that precedes the trailer.
    pub header_len: u32,
    /// Pack format version (1: content-hash named, 2: id bound into the header).
    pub version: u8,
}

impl PackId {
    /// A fresh random id for a new (version 2) pack, from the OS random source.
    pub fn generate() -> Result<Self> {
        generate_id_with_random(&mut OsRandom)
    }
}

/// [`PackId::generate`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn generate_id_with_random(rng: &mut dyn RandomSource) -> Result<PackId> {
    let mut id = [0u8; 32];
    rng.fill(&mut id)?;
    Ok(PackId(id))
}

/// Associated data of the sealed header: empty for version 1; version ‖ pack id from
/// version 2 on, so the header (hence every offset in the pack) only opens under its name.
fn header_aad(version: u8, id: &PackId) -> Vec<u8> {
    if version == PACK_VERSION_HASH_NAMED {
        return Vec::new();
    }
    let mut aad = Vec::with_capacity(33);
    aad.push(version);
    aad.extend_from_slice(&id.0);
    aad
}

impl PackBuilder {
    /// An empty version 2 pack that will be stored under `id` (see [`PackId::generate`]).
    pub fn new(id: PackId) -> Self {
        Self {
            naming: Naming::Chosen(id),
            entries: Vec::new(),
            len: 0,
        }
    }

    /// An empty version 1 pack, named by its content hash. Only for tests and fixtures
    /// that must reproduce packs written by older builds.
    #[doc(hidden)]
    pub fn new_v1() -> Self {
        Self {
            naming: Naming::ContentHash(Box::new(blake3::Hasher::new())),
            entries: Vec::new(),
            len: 0,
        }
    }

    /// The pack's id, when it is known before the pack is finished (version 2).
    pub fn id(&self) -> Option<PackId> {
        match &self.naming {
            Naming::Chosen(id) => Some(*id),
            Naming::ContentHash(_) => None,
        }
    }

    /// Records the chunk; the caller writes `sealed.bytes` to storage itself, in the same
    /// order.
    pub fn add(&mut self, id: ChunkId, kind: ChunkKind, sealed: &SealedChunk) -> PackEntry {
        if let Naming::ContentHash(hasher) = &mut self.naming {
            hasher.update(&sealed.bytes);
        }
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
        naming,
        entries,
        len,
    } = builder;
    let plain = encode_header(len, &entries);
    let (version, aad) = match &naming {
        Naming::Chosen(id) => (PACK_VERSION, header_aad(PACK_VERSION, id)),
        Naming::ContentHash(_) => (PACK_VERSION_HASH_NAMED, Vec::new()),
    };
    let sealed = envelope::seal(keys.metadata_key(), Purpose::PackHeader, &aad, &plain, rng)?;
    let header_len = u32::try_from(sealed.len()).map_err(|_| Error::Malformed {
        structure: STRUCTURE,
        reason: "header larger than 4 GiB",
    })?;
    let mut tail = sealed;
    tail.extend_from_slice(&header_len.to_le_bytes());
    tail.extend_from_slice(&PACK_MAGIC);
    tail.push(version);
    let id = match naming {
        Naming::Chosen(id) => id,
        Naming::ContentHash(mut hasher) => {
            hasher.update(&tail);
            PackId(*hasher.finalize().as_bytes())
        }
    };
    Ok(FinishedPack {
        id,
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

/// Parses the fixed trailer (the pack's last [`PACK_TRAILER_LEN`] bytes): the pack version
/// and the length of the sealed header that precedes it. Every version up to the current
/// one is accepted.
pub fn read_pack_trailer(trailer: &[u8]) -> Result<PackTrailer> {
    const TRAILER: &str = "pack trailer";
    if trailer.len() != PACK_TRAILER_LEN {
        return Err(Error::Truncated { structure: TRAILER });
    }
    let mut r = Reader::new(trailer, TRAILER);
    let header_len = r.u32()?;
    if r.array::<4>()? != PACK_MAGIC {
        return Err(Error::BadMagic);
    }
    let version = check_version(TRAILER, r.u8()?, PACK_VERSION)?;
    Ok(PackTrailer {
        header_len,
        version,
    })
}

/// From the fixed trailer: the length of the sealed header that precedes it.
pub fn pack_header_len(trailer: &[u8]) -> Result<u32> {
    read_pack_trailer(trailer).map(|t| t.header_len)
}

/// Authenticates and decodes the sealed header of the pack named `id` into its entries.
/// For a version 2 pack this fails unless the header was sealed for `id`; a version 1
/// header is not bound to a name (its pack is checked by hash in [`read_pack`]).
pub fn read_pack_header(
    keys: &Keys,
    id: &PackId,
    trailer: &PackTrailer,
    sealed_header: &[u8],
) -> Result<Vec<PackEntry>> {
    open_header(keys, id, trailer.version, sealed_header).map(|(_, entries)| entries)
}

fn open_header(
    keys: &Keys,
    id: &PackId,
    version: u8,
    sealed_header: &[u8],
) -> Result<(u64, Vec<PackEntry>)> {
    let aad = header_aad(version, id);
    let plain = envelope::open(
        keys.metadata_key(),
        Purpose::PackHeader,
        &aad,
        sealed_header,
    )?;
    decode_header(&plain)
}

/// Checks a whole in-memory pack stored under `id`: trailer, header, layout, that the pack
/// belongs to that name (version 2: the header's associated data; version 1: the pack's
/// hash), and every chunk (decrypted and its id recomputed). Returns the entries.
pub fn read_pack(keys: &Keys, id: &PackId, pack: &[u8]) -> Result<Vec<PackEntry>> {
    let Some(trailer_start) = pack.len().checked_sub(PACK_TRAILER_LEN) else {
        return Err(Error::Truncated { structure: "pack" });
    };
    let trailer = read_pack_trailer(&pack[trailer_start..])?;
    let header_len = trailer.header_len as usize;
    let Some(header_start) = trailer_start.checked_sub(header_len) else {
        return Err(Error::Truncated { structure: "pack" });
    };
    if trailer.version == PACK_VERSION_HASH_NAMED && PackId::compute(pack) != *id {
        return Err(Error::PackIdMismatch);
    }
    let (data_len, entries) = open_header(
        keys,
        id,
        trailer.version,
        &pack[header_start..trailer_start],
    )?;
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

    fn build(keys: &Keys, mut b: PackBuilder, chunks: &[Vec<u8>]) -> (Vec<u8>, FinishedPack) {
        assert!(b.is_empty());
        let mut pack = Vec::new();
        for c in chunks {
            let id = ChunkId::compute(keys, c);
            let s = seal_chunk(keys, &id, c, 3).unwrap();
            let e = b.add(id, ChunkKind::Data, &s);
            assert_eq!(e.offset, pack.len() as u64);
            pack.extend_from_slice(&s.bytes);
        }
        assert_eq!(b.chunk_count(), chunks.len());
        assert_eq!(b.len(), pack.len() as u64);
        let fin = b.finish(keys).unwrap();
        pack.extend_from_slice(&fin.tail);
        assert_eq!(fin.total_len, pack.len() as u64);
        (pack, fin)
    }

    fn read_back(keys: &Keys, pack: &[u8], fin: &FinishedPack, chunks: &[Vec<u8>]) {
        assert_eq!(read_pack(keys, &fin.id, pack).unwrap(), fin.entries);
        // From the tail alone.
        let trailer = read_pack_trailer(&pack[pack.len() - PACK_TRAILER_LEN..]).unwrap();
        let hl = trailer.header_len as usize;
        let hstart = pack.len() - PACK_TRAILER_LEN - hl;
        let entries = read_pack_header(
            keys,
            &fin.id,
            &trailer,
            &pack[hstart..pack.len() - PACK_TRAILER_LEN],
        )
        .unwrap();
        assert_eq!(entries, fin.entries);
        // One chunk from its range.
        let e = entries[3];
        let r = e.range();
        let plain = open_chunk(
            keys,
            &e.id,
            &pack[r.start as usize..r.end as usize],
            e.compression,
            e.plain_len,
        )
        .unwrap();
        assert_eq!(plain, chunks[3][..]);
    }

    fn chunks() -> Vec<Vec<u8>> {
        (0..5u8).map(|i| vec![i; 1000 * (i as usize + 1)]).collect()
    }

    #[test]
    fn build_and_read_back() {
        let keys = Keys::derive(&MasterKey::from_bytes([3; 32]));
        let id = PackId::generate().unwrap();
        let b = PackBuilder::new(id);
        assert_eq!(b.id(), Some(id));
        let (pack, fin) = build(&keys, b, &chunks());
        assert_eq!(fin.id, id);
        assert_eq!(*pack.last().unwrap(), PACK_VERSION);
        read_back(&keys, &pack, &fin, &chunks());
    }

    #[test]
    fn version_1_packs_are_still_read_and_checked_by_hash() {
        let keys = Keys::derive(&MasterKey::from_bytes([3; 32]));
        let b = PackBuilder::new_v1();
        assert_eq!(b.id(), None);
        let (pack, fin) = build(&keys, b, &chunks());
        assert_eq!(*pack.last().unwrap(), PACK_VERSION_HASH_NAMED);
        assert_eq!(fin.id, PackId::compute(&pack));
        read_back(&keys, &pack, &fin, &chunks());
        assert!(matches!(
            read_pack(&keys, &PackId([9; 32]), &pack),
            Err(Error::PackIdMismatch)
        ));
    }

    #[test]
    fn a_version_2_pack_does_not_open_under_another_name() {
        let keys = Keys::derive(&MasterKey::from_bytes([3; 32]));
        let (pack, fin) = build(&keys, PackBuilder::new(PackId([1; 32])), &chunks());
        let other = PackId([2; 32]);
        assert!(matches!(
            read_pack(&keys, &other, &pack),
            Err(Error::Authentication { .. })
        ));
        let trailer = read_pack_trailer(&pack[pack.len() - PACK_TRAILER_LEN..]).unwrap();
        let header = &pack[pack.len() - PACK_TRAILER_LEN - trailer.header_len as usize
            ..pack.len() - PACK_TRAILER_LEN];
        assert!(read_pack_header(&keys, &other, &trailer, header).is_err());
        // Relabelled as version 1 (no name in the header's associated data): the header
        // no longer opens either.
        let v1 = PackTrailer {
            version: PACK_VERSION_HASH_NAMED,
            ..trailer
        };
        assert!(read_pack_header(&keys, &fin.id, &v1, header).is_err());
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
        let id = PackId([7; 32]);
        let fin = PackBuilder::new(id).finish(&keys).unwrap();
        assert!(read_pack(&keys, &id, &fin.tail).unwrap().is_empty());
    }
}
