//! Chunker properties: cut points equal FastCDC v2020 over the whole input whatever the
//! piece sizes (sync and async), and shifted shared content keeps its chunks.

mod common;

use std::collections::HashSet;

use bytes::Bytes;
use coffer_repo::{ChunkerParams, StreamChunker, chunk_stream};
use futures::StreamExt;
use proptest::prelude::*;

fn reference_lengths(p: ChunkerParams, data: &[u8]) -> Vec<usize> {
    fastcdc::v2020::FastCDC::new(data, p.min_size, p.avg_size, p.max_size)
        .map(|c| c.length)
        .collect()
}

fn split(data: &[u8], sizes: &[usize]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < data.len() {
        let n = sizes[i % sizes.len()].min(data.len() - pos);
        out.push(Bytes::copy_from_slice(&data[pos..pos + n]));
        pos += n;
        i += 1;
    }
    out
}

fn sync_chunks(p: ChunkerParams, pieces: &[Bytes]) -> Vec<Bytes> {
    let mut c = StreamChunker::new(p);
    let mut out = Vec::new();
    for piece in pieces {
        out.extend(c.push(piece.clone()));
        // Never more than one maximum chunk held between pushes.
        assert!(c.buffered() < p.max_size as usize);
    }
    out.extend(c.finish());
    out
}

fn async_chunks(p: ChunkerParams, pieces: Vec<Bytes>) -> Vec<Bytes> {
    let input = futures::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    futures::executor::block_on(chunk_stream(p, input).map(|r| r.unwrap()).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn cut_points_ignore_piece_sizes(
        seed in any::<u64>(),
        len in 0usize..400_000,
        sizes in proptest::collection::vec(1usize..40_000, 1..20),
        text in any::<bool>(),
    ) {
        let p = common::small_chunker();
        let data = if text { common::text_like(len, seed) } else { common::pseudo_random(len, seed) };
        let reference = reference_lengths(p, &data);
        let pieces = split(&data, &sizes);
        let sync = sync_chunks(p, &pieces);
        prop_assert_eq!(sync.iter().map(Bytes::len).collect::<Vec<_>>(), reference);
        prop_assert_eq!(sync.concat(), data.clone());
        let asynced = async_chunks(p, pieces);
        prop_assert_eq!(asynced, sync);
    }
}

#[test]
fn default_params_match_reference_on_uneven_pieces() {
    let p = ChunkerParams::default();
    let data = common::pseudo_random(24 << 20, 77);
    let reference = reference_lengths(p, &data);
    for sizes in [
        &[65_536usize][..],
        &[1, 4 << 20, 999_999, 7],
        &[(4 << 20) + 1],
    ] {
        let got = sync_chunks(p, &split(&data, sizes));
        assert_eq!(got.iter().map(Bytes::len).collect::<Vec<_>>(), reference);
    }
    assert!(reference.len() >= 10, "{} chunks", reference.len());
}

#[test]
fn shifted_shared_middle_dedups() {
    const MIB: usize = 1 << 20;
    let p = ChunkerParams::default();
    let middle = common::pseudo_random(48 * MIB, 1);
    let shift = 12_345;
    let a = [
        common::pseudo_random(8 * MIB, 2),
        middle.clone(),
        common::pseudo_random(8 * MIB, 3),
    ]
    .concat();
    let b = [
        common::pseudo_random(8 * MIB + shift, 4),
        middle,
        common::pseudo_random(8 * MIB - shift, 5),
    ]
    .concat();
    assert_eq!(a.len(), 64 * MIB);
    assert_eq!(b.len(), 64 * MIB);

    let chunks_a = sync_chunks(p, &split(&a, &[1 << 16]));
    let chunks_b = async_chunks(p, split(&b, &[100_003]));
    let hashes_b: HashSet<[u8; 32]> = chunks_b
        .iter()
        .map(|c| *blake3::hash(c).as_bytes())
        .collect();

    // Chunks of `a` lying entirely inside the shared middle.
    let (mid_start, mid_end) = (8 * MIB, 56 * MIB);
    let mut pos = 0;
    let (mut inside, mut shared, mut inside_bytes, mut shared_bytes) = (0, 0, 0, 0);
    for c in &chunks_a {
        if pos >= mid_start && pos + c.len() <= mid_end {
            inside += 1;
            inside_bytes += c.len();
            if hashes_b.contains(blake3::hash(c).as_bytes()) {
                shared += 1;
                shared_bytes += c.len();
            }
        }
        pos += c.len();
    }
    let ratio = shared as f64 / inside as f64;
    println!(
        "middle chunks: {inside}, shared: {shared} ({:.1} %), bytes shared {:.1} % of middle",
        ratio * 100.0,
        shared_bytes as f64 * 100.0 / (48 * MIB) as f64
    );
    assert!(inside >= 20, "too few chunks to judge: {inside}");
    assert!(
        ratio >= 0.90,
        "only {:.1} % of the middle's chunks shared",
        ratio * 100.0
    );
    assert!(
        shared_bytes as f64 >= 0.85 * (48 * MIB) as f64,
        "{inside_bytes}"
    );
}
