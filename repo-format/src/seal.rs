//! Sealing one chunk: zstd (kept raw when it saves too little), then AES-256-GCM under the
//! data key with the chunk id, compression and plain length as associated data.

use bytes::Bytes;

use crate::envelope::{self, HEADER_LEN, OVERHEAD, Purpose};
use crate::id::ChunkId;
use crate::keys::Keys;
use crate::random::{OsRandom, RandomSource};
use crate::{Error, Result};

/// Largest plaintext chunk accepted (FastCDC's largest maximum size, 16 MiB).
pub const MAX_CHUNK_LEN: usize = fastcdc::v2020::MAXIMUM_MAX as usize;

/// How a sealed chunk's payload is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Compression {
    /// Stored as is.
    None = 0,
    /// One zstd frame.
    Zstd = 1,
}

impl TryFrom<u8> for Compression {
    type Error = ();
    fn try_from(v: u8) -> std::result::Result<Self, ()> {
        match v {
            0 => Ok(Self::None),
            1 => Ok(Self::Zstd),
            _ => Err(()),
        }
    }
}

/// What a chunk holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ChunkKind {
    /// Object content.
    Data = 0,
    /// Reserved for tree/metadata chunks.
    Tree = 1,
}

impl TryFrom<u8> for ChunkKind {
    type Error = ();
    fn try_from(v: u8) -> std::result::Result<Self, ()> {
        match v {
            0 => Ok(Self::Data),
            1 => Ok(Self::Tree),
            _ => Err(()),
        }
    }
}

/// A chunk ready to be appended to a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedChunk {
    /// The envelope: `[version][salt 16][nonce 12][ciphertext][tag 16]`.
    pub bytes: Bytes,
    /// Whether the ciphertext holds a zstd frame.
    pub compression: Compression,
    /// Length of the plaintext.
    pub plain_len: u32,
}

/// Compression is kept only when the result is at most this fraction (in 1/1000) of the input.
const KEEP_COMPRESSED_PERMILLE: usize = 970;

fn aad(id: &ChunkId, compression: Compression, plain_len: u32) -> [u8; 37] {
    let mut out = [0u8; 37];
    out[..32].copy_from_slice(&id.0);
    out[32] = compression as u8;
    out[33..].copy_from_slice(&plain_len.to_le_bytes());
    out
}

/// Compresses and encrypts one chunk. Pure apart from drawing random nonce material.
pub fn seal_chunk(
    keys: &Keys,
    id: &ChunkId,
    plaintext: &[u8],
    zstd_level: i32,
) -> Result<SealedChunk> {
    seal_chunk_with_random(keys, id, plaintext, zstd_level, &mut OsRandom)
}

/// [`seal_chunk`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn seal_chunk_with_random(
    keys: &Keys,
    id: &ChunkId,
    plaintext: &[u8],
    zstd_level: i32,
    rng: &mut dyn RandomSource,
) -> Result<SealedChunk> {
    if plaintext.len() > MAX_CHUNK_LEN {
        return Err(Error::ChunkTooLarge {
            len: plaintext.len(),
            max: MAX_CHUNK_LEN,
        });
    }
    let plain_len = plaintext.len() as u32;
    let limit = plaintext.len() * KEEP_COMPRESSED_PERMILLE / 1000;
    let mut buf = envelope::buffer_for(plaintext.len());
    let compression = if compress_into(plaintext, zstd_level, limit, &mut buf) {
        Compression::Zstd
    } else {
        buf.truncate(HEADER_LEN);
        buf.extend_from_slice(plaintext);
        Compression::None
    };
    let aad = aad(id, compression, plain_len);
    envelope::seal_in_place(keys.data_key(), Purpose::Chunk, &aad, &mut buf, rng)?;
    Ok(SealedChunk {
        bytes: Bytes::from(buf),
        compression,
        plain_len,
    })
}

/// Appends a zstd frame of `plaintext` to `buf` if it fits in `limit` bytes; false otherwise.
fn compress_into(plaintext: &[u8], level: i32, limit: usize, buf: &mut Vec<u8>) -> bool {
    if limit == 0 {
        return false;
    }
    let start = buf.len();
    buf.resize(start + limit, 0);
    // zstd fails with "destination too small" when the frame would exceed `limit`, the
    // "not worth it" case; any other failure also just means "store raw", which is always
    // valid.
    match zstd::bulk::compress_to_buffer(plaintext, &mut buf[start..], level) {
        Ok(n) => {
            buf.truncate(start + n);
            true
        }
        Err(_) => {
            buf.truncate(start);
            false
        }
    }
}

// A fresh zstd context per call: benches (`primitives/*fresh_context*`) show reusing one
// per thread gains ~15 µs per incompressible chunk (about 3 % of sealing it) and nothing
// measurable on text, not worth a megabyte-sized context parked on every thread of the
// server's blocking pool.
fn decompress(payload: &[u8], expected: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(expected);
    zstd::bulk::Decompressor::new()
        .and_then(|mut d| d.decompress_to_buffer(payload, &mut out))
        .map_err(|e| Error::Compression(format!("decompression failed: {e}")))?;
    Ok(out)
}

/// Authenticates, decrypts and decompresses one chunk sealed by [`seal_chunk`].
pub fn open_chunk(
    keys: &Keys,
    id: &ChunkId,
    sealed: &[u8],
    compression: Compression,
    plain_len: u32,
) -> Result<Bytes> {
    const STRUCTURE: &str = "sealed chunk";
    let expected = plain_len as usize;
    if expected > MAX_CHUNK_LEN {
        return Err(Error::ChunkTooLarge {
            len: expected,
            max: MAX_CHUNK_LEN,
        });
    }
    if compression == Compression::None && sealed.len() != expected + OVERHEAD {
        return Err(Error::Malformed {
            structure: STRUCTURE,
            reason: "length does not match the recorded plain length",
        });
    }
    let aad = aad(id, compression, plain_len);
    let payload = envelope::open(keys.data_key(), Purpose::Chunk, &aad, sealed)?;
    match compression {
        Compression::None => Ok(Bytes::from(payload)),
        Compression::Zstd => {
            let out = decompress(&payload, expected)?;
            if out.len() != expected {
                return Err(Error::Malformed {
                    structure: STRUCTURE,
                    reason: "decompressed length does not match the recorded plain length",
                });
            }
            Ok(Bytes::from(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;

    fn keys() -> Keys {
        Keys::derive(&MasterKey::from_bytes([1; 32]))
    }

    #[test]
    fn text_is_compressed_random_is_not() {
        let k = keys();
        let text = b"the quick brown fox jumps over the lazy dog. ".repeat(2000);
        let id = ChunkId::compute(&k, &text);
        let s = seal_chunk(&k, &id, &text, 3).unwrap();
        assert_eq!(s.compression, Compression::Zstd);
        assert!(s.bytes.len() < text.len() / 10);
        assert_eq!(
            open_chunk(&k, &id, &s.bytes, s.compression, s.plain_len).unwrap(),
            text[..]
        );

        let mut random = vec![0u8; 100_000];
        blake3::Hasher::new().finalize_xof().fill(&mut random);
        let id = ChunkId::compute(&k, &random);
        let s = seal_chunk(&k, &id, &random, 3).unwrap();
        assert_eq!(s.compression, Compression::None);
        assert_eq!(s.bytes.len(), random.len() + OVERHEAD);
        assert_eq!(
            open_chunk(&k, &id, &s.bytes, s.compression, s.plain_len).unwrap(),
            random[..]
        );
    }

    #[test]
    fn empty_chunk_round_trips() {
        let k = keys();
        let id = ChunkId::compute(&k, b"");
        let s = seal_chunk(&k, &id, b"", 3).unwrap();
        assert_eq!(
            open_chunk(&k, &id, &s.bytes, s.compression, 0)
                .unwrap()
                .len(),
            0
        );
    }

    #[test]
    fn wrong_id_or_metadata_fails() {
        let k = keys();
        let text = b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".repeat(100);
        let id = ChunkId::compute(&k, &text);
        let other = ChunkId::compute(&k, b"other");
        let s = seal_chunk(&k, &id, &text, 3).unwrap();
        assert!(matches!(
            open_chunk(&k, &other, &s.bytes, s.compression, s.plain_len),
            Err(Error::Authentication { .. })
        ));
        assert!(open_chunk(&k, &id, &s.bytes, s.compression, s.plain_len + 1).is_err());
        assert!(open_chunk(&k, &id, &s.bytes, Compression::None, s.plain_len).is_err());
        let wrong = Keys::derive(&MasterKey::from_bytes([2; 32]));
        assert!(open_chunk(&wrong, &id, &s.bytes, s.compression, s.plain_len).is_err());
    }
}
