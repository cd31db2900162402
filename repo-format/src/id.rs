//! Chunk ids (keyed BLAKE3 of the plaintext) and pack ids (random, or for version 1 packs
//! the BLAKE3 of the pack's bytes).

use std::fmt;

use crate::keys::Keys;
use crate::{Error, Result};

fn parse_hex(s: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| Error::InvalidHex)?;
    Ok(out)
}

/// Identifies a chunk: keyed BLAKE3 of its plaintext, so ids reveal nothing without the key.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChunkId(pub [u8; 32]);

impl ChunkId {
    /// The id of `plaintext` in the repository of `keys`.
    pub fn compute(keys: &Keys, plaintext: &[u8]) -> Self {
        Self(*blake3::keyed_hash(keys.chunk_id_key(), plaintext).as_bytes())
    }
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Self> {
        parse_hex(s).map(Self)
    }
}

/// Identifies a pack; also its object name. Random and chosen before the pack is written
/// (pack version 2, [`PackId::generate`]), or the BLAKE3 (unkeyed) of all of its bytes
/// (version 1, [`PackId::compute`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PackId(pub [u8; 32]);

impl PackId {
    /// The id of a complete version 1 pack (its content hash).
    pub fn compute(pack: &[u8]) -> Self {
        Self(*blake3::hash(pack).as_bytes())
    }
    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Self> {
        parse_hex(s).map(Self)
    }
}

macro_rules! hex_fmt {
    ($t:ty, $name:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($name, "({})"), self.to_hex())
            }
        }
    };
}
hex_fmt!(ChunkId, "ChunkId");
hex_fmt!(PackId, "PackId");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MasterKey;

    #[test]
    fn hex_round_trip_and_keying() {
        let k1 = Keys::derive(&MasterKey::from_bytes([1; 32]));
        let k2 = Keys::derive(&MasterKey::from_bytes([2; 32]));
        let a = ChunkId::compute(&k1, b"data");
        assert_ne!(a, ChunkId::compute(&k2, b"data"));
        assert_ne!(a.0, *blake3::hash(b"data").as_bytes());
        assert_eq!(ChunkId::from_hex(&a.to_hex()).unwrap(), a);
        assert_eq!(a.to_string(), a.to_hex());
        assert_eq!(a.to_hex().len(), 64);
        assert!(
            a.to_hex()
                .chars()
                .all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        );
        assert!(ChunkId::from_hex("zz").is_err());
        assert!(ChunkId::from_hex(&"0".repeat(62)).is_err());
        let p = PackId::compute(b"pack");
        assert_eq!(PackId::from_hex(&p.to_string()).unwrap(), p);
    }
}
