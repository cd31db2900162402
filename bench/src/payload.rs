//! Object bodies: incompressible or text-like, unique per (seed, object) so that no
//! server can dedup one benchmark object against another, and reproducible for checks.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// What an object body looks like to a compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// Uniformly random bytes: zstd cannot shrink them.
    Random,
    /// Words, numbers and line breaks: compresses roughly like logs or SQL text.
    Text,
}

impl DataKind {
    pub fn label(self) -> &'static str {
        match self {
            DataKind::Random => "incompressible",
            DataKind::Text => "text",
        }
    }
}

/// splitmix64: tiny, fast, and good enough to make bytes no compressor can shrink.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }
}

/// Body of object number `index` in a run seeded with `seed`.
pub fn body(kind: DataKind, seed: u64, index: u64, len: usize) -> Bytes {
    let mut rng = Rng::new(seed.wrapping_mul(0x1000_0000_01B3) ^ index.rotate_left(17));
    let mut out = Vec::with_capacity(len + 16);
    match kind {
        DataKind::Random => {
            while out.len() < len {
                out.extend_from_slice(&rng.next_u64().to_le_bytes());
            }
        }
        DataKind::Text => {
            let vocab = vocabulary();
            while out.len() < len {
                let r = rng.next_u64();
                // A skewed pick (product of two uniforms) makes word frequencies Zipf-like.
                let a = (r & 0xFFF) as usize;
                let b = ((r >> 12) & 0xFFF) as usize;
                let word = &vocab[(a * b) >> 12];
                out.extend_from_slice(word.as_bytes());
                match (r >> 24) & 15 {
                    0 => out.push(b'\n'),
                    1 => out.extend_from_slice(format!(" {} ", (r >> 32) % 100_000).as_bytes()),
                    _ => out.push(b' '),
                }
            }
        }
    }
    out.truncate(len);
    Bytes::from(out)
}

/// Bodies for objects `0..count`, generated on all cores (outside any timed phase).
pub fn bodies(kind: DataKind, seed: u64, count: usize, len: usize) -> Vec<Bytes> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(count.max(1));
    let mut out: Vec<Option<Bytes>> = vec![None; count];
    std::thread::scope(|scope| {
        for (t, slots) in out.chunks_mut(count.div_ceil(threads).max(1)).enumerate() {
            let base = t * count.div_ceil(threads).max(1);
            scope.spawn(move || {
                for (i, slot) in slots.iter_mut().enumerate() {
                    *slot = Some(body(kind, seed, (base + i) as u64, len));
                }
            });
        }
    });
    out.into_iter().map(Option::unwrap_or_default).collect()
}

fn vocabulary() -> &'static [String] {
    static VOCAB: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    VOCAB.get_or_init(|| {
        let mut rng = Rng::new(42);
        (0..4096)
            .map(|_| {
                let len = 2 + rng.below(9) as usize;
                (0..len)
                    .map(|_| (b'a' + rng.below(26) as u8) as char)
                    .collect()
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_reproducible_distinct_and_sized() {
        for kind in [DataKind::Random, DataKind::Text] {
            let a = bodies(kind, 7, 3, 10_001);
            assert_eq!(a.len(), 3);
            assert!(a.iter().all(|b| b.len() == 10_001));
            assert_ne!(a[0], a[1]);
            assert_eq!(a[2], body(kind, 7, 2, 10_001));
            assert_ne!(body(kind, 8, 0, 100), a[0].slice(..100));
        }
        let text = body(DataKind::Text, 1, 0, 4096);
        assert!(text.iter().all(|b| b.is_ascii()));
    }
}
