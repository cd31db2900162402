//! The master key and the sub-keys derived from it (chunk-id, data, metadata).

use std::fmt;
use std::sync::Arc;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Result;
use crate::random::{OsRandom, RandomSource};

/// BLAKE3 `derive_key` contexts: globally unique, hard-coded, and part of the format.
const CONTEXT_CHUNK_ID: &str = "coffer repository 2026 chunk-id key v1";
const CONTEXT_DATA: &str = "coffer repository 2026 chunk data key v1";
const CONTEXT_METADATA: &str = "coffer repository 2026 metadata key v1";

/// The repository's random 256-bit root secret. Zeroized on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    /// A fresh key from the OS CSPRNG.
    ///
    /// # Panics
    /// Only if the operating system's random source is unavailable, in which case no key
    /// can safely be made; use [`MasterKey::try_generate`] to handle that as an error.
    #[allow(clippy::expect_used)]
    pub fn generate() -> Self {
        Self::try_generate().expect("OS random number generator unavailable")
    }

    /// A fresh key from the OS CSPRNG, reporting a failing random source as an error.
    pub fn try_generate() -> Result<Self> {
        master_key_with_random(&mut OsRandom)
    }

    /// Wraps existing key material.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// A master key from a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn master_key_with_random(rng: &mut dyn RandomSource) -> Result<MasterKey> {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes)?;
    let key = MasterKey(bytes);
    bytes.zeroize();
    Ok(key)
}

#[derive(Zeroize, ZeroizeOnDrop)]
struct SubKeys {
    chunk_id: [u8; 32],
    data: [u8; 32],
    metadata: [u8; 32],
}

/// Sub-keys derived from a [`MasterKey`]; cheap to clone and shareable across threads.
#[derive(Clone)]
pub struct Keys {
    inner: Arc<SubKeys>,
}

impl Keys {
    /// Derives the chunk-id, data and metadata keys with BLAKE3 `derive_key`.
    pub fn derive(master: &MasterKey) -> Self {
        let m = master.expose();
        Self {
            inner: Arc::new(SubKeys {
                chunk_id: blake3::derive_key(CONTEXT_CHUNK_ID, m),
                data: blake3::derive_key(CONTEXT_DATA, m),
                metadata: blake3::derive_key(CONTEXT_METADATA, m),
            }),
        }
    }

    pub(crate) fn chunk_id_key(&self) -> &[u8; 32] {
        &self.inner.chunk_id
    }
    pub(crate) fn data_key(&self) -> &[u8; 32] {
        &self.inner.data
    }
    pub(crate) fn metadata_key(&self) -> &[u8; 32] {
        &self.inner.metadata
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_keys_are_distinct_and_deterministic() {
        let master = MasterKey::from_bytes([7; 32]);
        let a = Keys::derive(&master);
        let b = Keys::derive(&master);
        assert_eq!(a.data_key(), b.data_key());
        assert_ne!(a.data_key(), a.metadata_key());
        assert_ne!(a.data_key(), a.chunk_id_key());
        assert_ne!(a.metadata_key(), a.chunk_id_key());
        assert_ne!(a.data_key(), master.expose());
    }

    #[test]
    fn debug_is_redacted() {
        let master = MasterKey::from_bytes([0xAB; 32]);
        assert!(!format!("{master:?}").contains("171"));
        assert!(!format!("{master:?}").to_lowercase().contains("ab"));
        assert_eq!(format!("{:?}", Keys::derive(&master)), "Keys(<redacted>)");
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(MasterKey::generate(), MasterKey::generate());
    }
}
