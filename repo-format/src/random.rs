//! Sources of random bytes: the OS in production, a deterministic stream for golden files.

use rand::RngCore;

use crate::{Error, Result};

/// Where keys, salts and nonces come from.
pub trait RandomSource {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]) -> Result<()>;
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct OsRandom;

impl RandomSource for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        rand::rngs::OsRng
            .try_fill_bytes(buf)
            .map_err(|e| Error::Random(e.to_string()))
    }
}

/// A reproducible byte stream (BLAKE3 XOF of a seed) so golden files pin exact bytes.
/// Test-only: it repeats across runs by design.
#[derive(Debug)]
pub struct DeterministicRandom {
    reader: blake3::OutputReader,
}

impl DeterministicRandom {
    /// A stream determined entirely by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key("coffer test-only deterministic random");
        hasher.update(&seed.to_le_bytes());
        Self {
            reader: hasher.finalize_xof(),
        }
    }
}

impl RandomSource for DeterministicRandom {
    fn fill(&mut self, buf: &mut [u8]) -> Result<()> {
        self.reader.fill(buf);
        Ok(())
    }
}
