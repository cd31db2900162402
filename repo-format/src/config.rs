//! The repository configuration: plaintext, stored next to the key slots, holds nothing
//! derived from content (repository id, chunker parameters, zstd level).

use crate::codec::{Reader, Writer, check_version};
use crate::random::{OsRandom, RandomSource};
use crate::{Error, Result};

const STRUCTURE: &str = "repository config";
const CONFIG_VERSION: u8 = 1;
const MAGIC: &[u8; 8] = b"COFFERRC";
const CHECKSUM_LEN: usize = 16;

/// FastCDC v2020 sizes, in bytes. Part of the format: they fix every cut point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChunkerParams {
    pub min_size: u32,
    pub avg_size: u32,
    pub max_size: u32,
}

impl Default for ChunkerParams {
    /// 256 KiB / 1 MiB / 4 MiB.
    fn default() -> Self {
        Self {
            min_size: 256 * 1024,
            avg_size: 1024 * 1024,
            max_size: 4 * 1024 * 1024,
        }
    }
}

impl ChunkerParams {
    /// Checks the sizes against the ranges FastCDC v2020 supports and their order.
    pub fn validate(&self) -> Result<()> {
        use fastcdc::v2020::{
            AVERAGE_MAX, AVERAGE_MIN, MAXIMUM_MAX, MAXIMUM_MIN, MINIMUM_MAX, MINIMUM_MIN,
        };
        if !(MINIMUM_MIN..=MINIMUM_MAX).contains(&self.min_size) {
            return Err(Error::InvalidChunkerParams(
                "min_size out of 64 B ..= 1 MiB",
            ));
        }
        if !(AVERAGE_MIN..=AVERAGE_MAX).contains(&self.avg_size) {
            return Err(Error::InvalidChunkerParams(
                "avg_size out of 256 B ..= 4 MiB",
            ));
        }
        if !(MAXIMUM_MIN..=MAXIMUM_MAX).contains(&self.max_size) {
            return Err(Error::InvalidChunkerParams(
                "max_size out of 1 KiB ..= 16 MiB",
            ));
        }
        if !(self.min_size <= self.avg_size && self.avg_size <= self.max_size) {
            return Err(Error::InvalidChunkerParams(
                "sizes must satisfy min <= avg <= max",
            ));
        }
        Ok(())
    }
}

/// Repository-wide settings, fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoConfig {
    /// Random identifier of the repository.
    pub repo_id: [u8; 16],
    /// Chunker sizes.
    pub chunker: ChunkerParams,
    /// zstd level for sealing (1..=22; negative = fast modes).
    pub zstd_level: i32,
}

/// Default zstd level.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

fn validate_zstd_level(level: i32) -> Result<()> {
    if zstd::compression_level_range().contains(&level) {
        Ok(())
    } else {
        Err(Error::InvalidZstdLevel(level))
    }
}

impl RepoConfig {
    /// A new repository with a random id and default parameters.
    ///
    /// # Panics
    /// Only if the operating system's random source is unavailable.
    #[allow(clippy::expect_used)]
    pub fn new_random() -> Self {
        new_config_with_random(&mut OsRandom).expect("OS random number generator unavailable")
    }

    /// Checks the parameters.
    pub fn validate(&self) -> Result<()> {
        self.chunker.validate()?;
        validate_zstd_level(self.zstd_level)
    }

    /// `[version][magic 8][repo_id 16][min u32][avg u32][max u32][zstd i32][BLAKE3 16]`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64);
        w.u8(CONFIG_VERSION);
        w.bytes(MAGIC);
        w.bytes(&self.repo_id);
        w.u32(self.chunker.min_size);
        w.u32(self.chunker.avg_size);
        w.u32(self.chunker.max_size);
        w.i32(self.zstd_level);
        let sum = blake3::hash(&w.buf);
        w.bytes(&sum.as_bytes()[..CHECKSUM_LEN]);
        w.into_inner()
    }

    /// Parses and validates a config.
    pub fn decode(b: &[u8]) -> Result<Self> {
        let mut r = Reader::new(b, STRUCTURE);
        check_version(STRUCTURE, r.u8()?, CONFIG_VERSION)?;
        if b.len() < CHECKSUM_LEN + 1 {
            return Err(Error::Truncated {
                structure: STRUCTURE,
            });
        }
        let (body, sum) = b.split_at(b.len() - CHECKSUM_LEN);
        if blake3::hash(body).as_bytes()[..CHECKSUM_LEN] != *sum {
            return Err(Error::ChecksumMismatch {
                structure: STRUCTURE,
            });
        }
        if &r.array::<8>()? != MAGIC {
            return Err(r.malformed("bad magic"));
        }
        let config = Self {
            repo_id: r.array()?,
            chunker: ChunkerParams {
                min_size: r.u32()?,
                avg_size: r.u32()?,
                max_size: r.u32()?,
            },
            zstd_level: r.i32()?,
        };
        r.array::<CHECKSUM_LEN>()?;
        r.finish()?;
        config.validate()?;
        Ok(config)
    }
}

/// [`RepoConfig::new_random`] with a caller-chosen random source (golden files).
#[doc(hidden)]
pub fn new_config_with_random(rng: &mut dyn RandomSource) -> Result<RepoConfig> {
    let mut repo_id = [0u8; 16];
    rng.fill(&mut repo_id)?;
    Ok(RepoConfig {
        repo_id,
        chunker: ChunkerParams::default(),
        zstd_level: DEFAULT_ZSTD_LEVEL,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = RepoConfig::new_random();
        assert_eq!(RepoConfig::decode(&c.encode()).unwrap(), c);
        assert_ne!(RepoConfig::new_random().repo_id, c.repo_id);
    }

    #[test]
    fn rejects_invalid_params() {
        let mut c = RepoConfig::new_random();
        c.chunker.min_size = c.chunker.max_size + 1;
        assert!(matches!(
            RepoConfig::decode(&c.encode()),
            Err(Error::InvalidChunkerParams(_))
        ));
        let mut c = RepoConfig::new_random();
        c.zstd_level = 99;
        assert!(matches!(
            RepoConfig::decode(&c.encode()),
            Err(Error::InvalidZstdLevel(99))
        ));
    }
}
