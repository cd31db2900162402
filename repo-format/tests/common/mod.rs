//! Helpers shared by the integration tests: fixed keys and reproducible inputs.
#![allow(dead_code)]

use coffer_repo::{Keys, MasterKey};

pub fn keys() -> Keys {
    Keys::derive(&MasterKey::from_bytes([0x42; 32]))
}

pub fn other_keys() -> Keys {
    Keys::derive(&MasterKey::from_bytes([0x43; 32]))
}

/// Incompressible bytes determined by `seed`.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut h = blake3::Hasher::new();
    h.update(b"coffer test data");
    h.update(&seed.to_le_bytes());
    h.finalize_xof().fill(&mut out);
    out
}

/// Log-like text that compresses roughly 3-5x with zstd, determined by `seed`.
pub fn text_like(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "INFO",
        "WARN",
        "request",
        "completed",
        "bucket",
        "object",
        "GET",
        "PUT",
        "latency",
        "ms",
        "user",
        "backup",
        "nightly",
        "dump",
        "table",
        "rows",
        "inserted",
        "the",
        "and",
        "of",
        "to",
        "status=200",
        "status=404",
        "size",
        "bytes",
        "chunk",
        "id",
        "pack",
    ];
    let noise = pseudo_random(len / 2 + 16, seed);
    let mut out = Vec::with_capacity(len + 64);
    let mut i = 0usize;
    let mut line = 0u64;
    while out.len() < len {
        line += 1;
        out.extend_from_slice(
            format!(
                "2026-11-21T04:{:02}:{:02}.{:03}Z ",
                line % 60,
                (line * 7) % 60,
                line % 1000
            )
            .as_bytes(),
        );
        for _ in 0..(6 + noise[i % noise.len()] % 8) {
            let w = WORDS[noise[(i + 1) % noise.len()] as usize % WORDS.len()];
            out.extend_from_slice(w.as_bytes());
            out.push(b' ');
            i += 2;
        }
        out.extend_from_slice(
            format!(
                "{}\n",
                u32::from(noise[i % noise.len()]) * 131 + line as u32
            )
            .as_bytes(),
        );
    }
    out.truncate(len);
    out
}

pub fn small_chunker() -> coffer_repo::ChunkerParams {
    coffer_repo::ChunkerParams {
        min_size: 1024,
        avg_size: 4096,
        max_size: 16384,
    }
}

/// Builds an in-memory (current version) pack from the given plaintext chunks.
pub fn build_pack(keys: &Keys, chunks: &[Vec<u8>]) -> (Vec<u8>, coffer_repo::FinishedPack) {
    use coffer_repo::{ChunkId, ChunkKind, PackBuilder, PackId, seal_chunk};
    let mut builder = PackBuilder::new(PackId::generate().unwrap());
    let mut bytes = Vec::new();
    for c in chunks {
        let id = ChunkId::compute(keys, c);
        let sealed = seal_chunk(keys, &id, c, 3).unwrap();
        builder.add(id, ChunkKind::Data, &sealed);
        bytes.extend_from_slice(&sealed.bytes);
    }
    let fin = builder.finish(keys).unwrap();
    bytes.extend_from_slice(&fin.tail);
    (bytes, fin)
}
